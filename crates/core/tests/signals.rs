//! Signals: calls interrupted by a handler installed without SA_RESTART are
//! retried, never surface EINTR (PEP 475); sends to a closed peer give EPIPE
//! and never raise SIGPIPE.
//!
//! A binary of its own because it installs process-wide signal handlers.
#![cfg(unix)]

mod util;

use std::cell::Cell;
use std::io::IoSlice;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Once};
use std::thread;
use std::time::Duration;

use bsd_sockets_core::{select, Errno, Socket};
use util::{bound_blocking, recv_exact, signal_thread, tcp_listener, tcp_pair, unix_pair, WAIT};

thread_local! {
    /// SIGUSR1 deliveries to the current thread (a const-initialized Cell is
    /// plain TLS, safe to touch from a handler).
    static USR1_HITS: Cell<usize> = const { Cell::new(0) };
}

/// SIGPIPE deliveries to the whole process: must stay 0.
static SIGPIPES: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_usr1(_: libc::c_int) {
    USR1_HITS.with(|hits| hits.set(hits.get() + 1));
}

extern "C" fn on_pipe(_: libc::c_int) {
    SIGPIPES.fetch_add(1, Ordering::SeqCst);
}

/// Installs `handler` for `signal` with no SA_RESTART, so blocking calls fail with EINTR.
fn install(signal: libc::c_int, handler: extern "C" fn(libc::c_int)) {
    // SAFETY: sigaction is plain old data; all-zero is a valid starting value.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as libc::sighandler_t;
    action.sa_flags = 0; // deliberately no SA_RESTART
                         // SAFETY: `action.sa_mask` is a valid sigset_t to initialize; the handler
                         // only touches an atomic or thread-local counter, which is async-signal-safe.
    unsafe {
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(libc::sigaction(signal, &action, std::ptr::null_mut()), 0);
    }
}

fn install_handlers() {
    static ONCE: Once = Once::new();
    // The Rust runtime ignores SIGPIPE; a counting handler replaces that, so a
    // send without MSG_NOSIGNAL/SO_NOSIGPIPE would be seen here.
    ONCE.call_once(|| {
        install(libc::SIGUSR1, on_usr1);
        install(libc::SIGPIPE, on_pipe);
    });
}

/// Runs `call` on a new thread while signalling that thread with SIGUSR1
/// every 2 ms for `signals` rounds, then runs `release` (which lets `call`
/// finish) and returns `call`'s result and how many signals it received.
fn under_signals<T: Send + 'static>(
    signals: usize,
    call: impl FnOnce() -> T + Send + 'static,
    release: impl FnOnce(),
) -> (T, usize) {
    install_handlers();
    let (done_tx, done_rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let out = call();
        let _ = done_tx.send(());
        (out, USR1_HITS.with(Cell::get))
    });
    for _ in 0..signals {
        // Stop as soon as the call returned: it must not have, but if it did
        // the assertions below say how.
        if done_rx.try_recv().is_ok() {
            break;
        }
        signal_thread(&handle, libc::SIGUSR1);
        thread::sleep(Duration::from_millis(2));
    }
    release();
    handle.join().expect("thread panicked")
}

#[test]
fn the_handler_really_interrupts_a_raw_recv() {
    // Control for the tests below: without the crate's retry, recv(2) under
    // these signals fails with EINTR, so their passing means something.
    let (a, b) = tcp_pair(libc::AF_INET);
    let fd = b.as_raw_fd();
    let mut b = b;
    b.set_timeout(None).unwrap();
    bound_blocking(&b, WAIT);
    let (err, hits) = under_signals(
        50,
        move || {
            let mut buf = [0u8; 4];
            // SAFETY: `fd` stays open (owned by `b`, moved into this closure's scope).
            let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
            let err = (n < 0).then(Errno::last);
            drop(b);
            err
        },
        || {
            let _ = a.send(b"late", 0);
        },
    );
    assert!(hits > 0);
    assert_eq!(err, Some(Errno::EINTR));
}

#[test]
fn blocking_recv_is_retried_after_eintr() {
    let (a, mut b) = tcp_pair(libc::AF_INET);
    b.set_timeout(None).unwrap();
    // Bound the test: a hung recv ends with EAGAIN after WAIT.
    bound_blocking(&b, WAIT);
    let (got, hits) = under_signals(
        50,
        move || {
            let mut buf = [0; 5];
            b.recv_into(&mut buf, 0).map(|n| buf[..n].to_vec())
        },
        || {
            a.send(b"hello", 0).unwrap();
        },
    );
    assert!(hits > 0, "no signal reached the receiving thread");
    assert_eq!(got.as_deref(), Ok(&b"hello"[..]));
}

#[test]
fn timed_recv_is_retried_after_eintr() {
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    let (got, hits) = under_signals(
        50,
        move || {
            let mut buf = [0; 5];
            b.recv_into(&mut buf, 0).map(|n| buf[..n].to_vec())
        },
        || {
            a.send(b"timed", 0).unwrap();
        },
    );
    assert!(hits > 0);
    assert_eq!(got.as_deref(), Ok(&b"timed"[..]));
}

#[test]
fn blocking_and_timed_accept_are_retried_after_eintr() {
    for timed in [false, true] {
        let (mut listener, addr) = tcp_listener(libc::AF_INET);
        if !timed {
            listener.set_timeout(None).unwrap();
            bound_blocking(&listener, WAIT);
        }
        let client = util::socket(libc::AF_INET, libc::SOCK_STREAM);
        let (got, hits) = under_signals(
            50,
            move || listener.accept().map(|(_, peer)| peer),
            || client.connect(&addr).unwrap(),
        );
        assert!(hits > 0);
        assert!(got.is_ok(), "timed={timed}: {got:?}");
    }
}

#[test]
fn blocking_sendall_is_retried_after_eintr() {
    const LEN: usize = 16 << 20;
    let data: Vec<u8> = (0..LEN).map(|i| (i % 241) as u8).collect();
    let expect = data.clone();
    let (mut a, b) = unix_pair(libc::SOCK_STREAM);
    a.set_timeout(None).unwrap();
    bound_blocking(&a, WAIT);
    let (reader_tx, reader_rx) = mpsc::channel();
    let ((result, sent), hits) = under_signals(
        100,
        move || {
            let mut sent = 0;
            let result = a.sendall(&data, 0, &mut sent);
            drop(a);
            (result, sent)
        },
        // The reader starts only after the signals, so the sender is blocked
        // on a full buffer while they arrive.
        move || {
            thread::spawn(move || reader_tx.send(recv_exact(&b, LEN + 1)).unwrap());
        },
    );
    assert!(hits > 0);
    assert_eq!(result, Ok(()));
    assert_eq!(sent, LEN);
    let got = reader_rx.recv_timeout(WAIT).unwrap();
    assert!(got == expect, "received bytes differ");
}

#[test]
fn select_is_retried_after_eintr() {
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    let fd = b.as_raw_fd();
    let (got, hits) = under_signals(
        50,
        move || {
            let ready = select(&[fd], &[], &[], Some(WAIT));
            drop(b);
            ready
        },
        || {
            a.send(b"x", 0).unwrap();
        },
    );
    assert!(hits > 0);
    assert_eq!(got.map(|r| r.read), Ok(vec![0]));
}

#[test]
fn epipe_after_own_shut_wr_without_sigpipe() {
    install_handlers();
    for (a, _b) in [tcp_pair(libc::AF_INET), unix_pair(libc::SOCK_STREAM)] {
        a.shutdown(libc::SHUT_WR).unwrap();
        assert_eq!(a.send(b"x", 0), Err(Errno::EPIPE));
        let mut sent = 0;
        assert_eq!(a.sendall(b"xyz", 0, &mut sent), Err(Errno::EPIPE));
        assert_eq!(sent, 0);
    }
    assert_eq!(SIGPIPES.load(Ordering::SeqCst), 0, "SIGPIPE was raised");
}

#[test]
fn epipe_after_the_peer_closed_without_sigpipe() {
    install_handlers();
    // TCP: the peer's FIN, then our first send draws its RST; after that EPIPE.
    for family in [libc::AF_INET, libc::AF_INET6] {
        let (a, b) = tcp_pair(family);
        drop(b);
        let mut buf = [0; 1];
        assert_eq!(a.recv_into(&mut buf, 0), Ok(0), "FIN not seen");
        let mut err = None;
        for _ in 0..200 {
            if let Err(e) = a.send(b"into the void", 0) {
                err = Some(e);
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(err, Some(Errno::EPIPE));
        assert_eq!(a.send(b"again", 0), Err(Errno::EPIPE));
    }
    // Unix stream: the closed peer is known at once.
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    drop(b);
    assert_eq!(a.send(b"x", 0), Err(Errno::EPIPE));
    let bufs = [IoSlice::new(b"x"), IoSlice::new(b"y")];
    assert_eq!(a.sendmsg(&bufs, &[], 0, None), Err(Errno::EPIPE));
    assert_eq!(SIGPIPES.load(Ordering::SeqCst), 0, "SIGPIPE was raised");
}

#[test]
fn epipe_on_an_adopted_fd_without_sigpipe() {
    install_handlers();
    let (a, _b) = unix_pair(libc::SOCK_STREAM);
    let fd = a.into_raw_fd();
    // SAFETY: `fd` was just released by into_raw_fd and is adopted once.
    let a = unsafe { Socket::from_raw_fd_checked(fd) }.unwrap();
    a.shutdown(libc::SHUT_WR).unwrap();
    assert_eq!(a.send(b"x", 0), Err(Errno::EPIPE));
    assert_eq!(SIGPIPES.load(Ordering::SeqCst), 0, "SIGPIPE was raised");
}
