//! `Poller`: one contract suite, run against every backend this platform has
//! (epoll or kqueue, and the forced poll(2) fallback), on real socketpairs and
//! TCP loopback sockets.
//!
//! Each contract test is a plain `fn(Backend)`; `contract!` instantiates it
//! once per backend, as `epoll::name`, `kqueue::name`, `poll::name`.
#![cfg(unix)]

mod util;

use std::cell::Cell;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Once, PoisonError, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use bsd_sockets_core::{Backend, Errno, Events, Interest, Poller, Readiness, Socket};
use util::{as_bytes, closed_fd, dup_at_least, is_cloexec, raise_nofile, signal_thread, WAIT};

/// A wait that nothing should end: long enough for a stray event to show,
/// short enough to keep the suite fast. Never asserted on as a duration.
const IDLE: Option<Duration> = Some(Duration::from_millis(10));

/// Held for writing by the test that opens thousands of fds, for reading by
/// the tests that rely on a high fd number staying closed (see
/// `util::closed_fd`), which the fd-hungry test could otherwise reuse.
static FD_NUMBERS: RwLock<()> = RwLock::new(());

macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        // Platform cfg in a test: which backends exist is the point here.
        // `available_backends_are_all_tested` keeps it in step with the crate.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        mod epoll {
            $(#[test] fn $test() { super::$test(super::Backend::Epoll) })*
        }
        #[cfg(any(
            target_vendor = "apple",
            target_os = "freebsd",
            target_os = "netbsd",
            target_os = "openbsd",
            target_os = "dragonfly"
        ))]
        mod kqueue {
            $(#[test] fn $test() { super::$test(super::Backend::Kqueue) })*
        }
        mod poll {
            $(#[test] fn $test() { super::$test(super::Backend::Poll) })*
        }

        /// The backends `contract!` runs the suite on, here.
        const TESTED: &[Backend] = &[
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Backend::Epoll,
            #[cfg(any(
                target_vendor = "apple",
                target_os = "freebsd",
                target_os = "netbsd",
                target_os = "openbsd",
                target_os = "dragonfly"
            ))]
            Backend::Kqueue,
            Backend::Poll,
        ];
    };
}

contract! {
    own_fd_is_cloexec_where_there_is_one,
    nested_in_another_poller,
    readable_after_data_arrives,
    writable_on_a_fresh_socket,
    nothing_when_idle,
    level_triggered_repeats_until_drained,
    edge_triggered_reports_each_new_arrival,
    oneshot_reports_once_until_modify,
    modify_switches_read_to_write_and_changes_the_key,
    unregister_stops_events,
    register_twice_is_eexist,
    unknown_fd_is_enoent,
    closed_fd_is_ebadf,
    closing_a_registered_fd_ends_its_registration,
    hangup_after_the_peer_closes,
    error_and_hangup_after_the_peer_resets,
    listener_readable_on_incoming_connection,
    many_fds_report_only_the_ready_ones,
    small_capacity_returns_the_rest_next_time,
    zero_capacity_is_einval,
    eintr_is_retried,
}

// ---------------------------------------------------------------- helpers

fn open(backend: Backend) -> Poller {
    let poller = Poller::with_backend(backend).expect("with_backend");
    assert_eq!(poller.backend(), backend);
    poller
}

fn nonblocking(mut sock: Socket) -> Socket {
    sock.set_timeout(Some(Duration::ZERO)).expect("set_timeout");
    sock
}

/// A connected AF_UNIX stream pair, both non-blocking.
fn unix_pair() -> (Socket, Socket) {
    let (a, b) = Socket::pair(libc::AF_UNIX, libc::SOCK_STREAM, 0).expect("socketpair");
    (nonblocking(a), nonblocking(b))
}

/// A connected TCP loopback pair (client, server), both non-blocking.
fn tcp_pair() -> (Socket, Socket) {
    let (client, server) = util::tcp_pair(libc::AF_INET);
    (nonblocking(client), nonblocking(server))
}

fn fd(sock: &Socket) -> RawFd {
    sock.as_raw_fd()
}

fn send(sock: &Socket, data: &[u8]) {
    assert_eq!(sock.send(data, 0), Ok(data.len()));
}

/// Reads until EAGAIN (or end of stream); returns the byte count.
fn drain(sock: &Socket) -> usize {
    let mut buf = [0; 4096];
    let mut total = 0;
    loop {
        match sock.recv_into(&mut buf, 0) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(e) if e.is_would_block() => return total,
            Err(e) => panic!("recv: {e:?}"),
        }
    }
}

/// Polls once; returns the events as (key, readiness), sorted by key.
fn poll(poller: &mut Poller, timeout: Option<Duration>) -> Vec<(u64, Readiness)> {
    let mut events = Events::with_capacity(64);
    let n = poller.poll(&mut events, timeout).expect("poll");
    assert_eq!(n, events.len());
    let mut got: Vec<_> = events.iter().map(|e| (e.key, e.readiness)).collect();
    got.sort_by_key(|&(key, _)| key);
    got
}

/// The keys of one poll, sorted.
fn keys(poller: &mut Poller, timeout: Option<Duration>) -> Vec<u64> {
    poll(poller, timeout)
        .into_iter()
        .map(|(key, _)| key)
        .collect()
}

/// Polls until `key` is reported with a readiness `want` accepts, at most
/// [`WAIT`]: for events that loopback delivers soon, not necessarily at once.
fn wait_for(poller: &mut Poller, key: u64, want: impl Fn(Readiness) -> bool) -> Readiness {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        for (k, readiness) in poll(poller, Some(deadline - Instant::now())) {
            if k == key && want(readiness) {
                return readiness;
            }
            seen.push((k, readiness));
        }
    }
    panic!("key {key} never reported as wanted; saw {seen:?}");
}

/// The poll(2) backend's edge mode is level-triggered (documented).
fn edge_is_level(backend: Backend) -> bool {
    backend == Backend::Poll
}

// ---------------------------------------------------------------- contract

fn own_fd_is_cloexec_where_there_is_one(backend: Backend) {
    let poller = open(backend);
    match (backend, poller.as_raw_fd()) {
        (Backend::Poll, fd) => assert_eq!(fd, None),
        (_, Some(fd)) => {
            assert!(fd >= 0);
            assert!(is_cloexec(&fd), "{backend:?} fd not CLOEXEC");
        }
        (_, None) => panic!("{backend:?} has an fd"),
    }
}

fn nested_in_another_poller(backend: Backend) {
    let mut inner = open(backend);
    let Some(inner_fd) = inner.as_raw_fd() else {
        return; // poll(2) has no fd to nest.
    };
    let (a, b) = unix_pair();
    inner.register(fd(&b), 1, Interest::READABLE).unwrap();
    let mut outer = open(Backend::Poll);
    outer.register(inner_fd, 2, Interest::READABLE).unwrap();
    assert_eq!(keys(&mut outer, IDLE), [] as [u64; 0]);
    send(&a, b"x");
    let got = poll(&mut outer, Some(WAIT));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 2);
    assert!(got[0].1.is_readable());
    assert_eq!(keys(&mut inner, Some(Duration::ZERO)), [1]);
}

fn readable_after_data_arrives(backend: Backend) {
    let mut poller = open(backend);
    let (a, b) = unix_pair();
    let key = u64::MAX - 1; // every bit of the key comes back
    poller.register(fd(&b), key, Interest::READABLE).unwrap();
    assert!(poll(&mut poller, IDLE).is_empty());
    send(&a, b"ping");
    let got = poll(&mut poller, Some(WAIT));
    assert_eq!(got.len(), 1, "{got:?}");
    let (k, readiness) = got[0];
    assert_eq!(k, key);
    assert!(readiness.is_readable());
    assert!(!readiness.is_writable() && !readiness.is_error() && !readiness.is_hangup());
    assert_eq!(readiness.poll_events(), libc::POLLIN);

    // The same over TCP loopback, where delivery is soon rather than at once.
    let (client, server) = tcp_pair();
    poller.register(fd(&server), 5, Interest::READABLE).unwrap();
    send(&client, b"ping");
    assert!(wait_for(&mut poller, 5, Readiness::is_readable).is_readable());
}

fn writable_on_a_fresh_socket(backend: Backend) {
    let mut poller = open(backend);
    let (a, _b) = unix_pair();
    let (client, _server) = tcp_pair();
    poller.register(fd(&a), 1, Interest::WRITABLE).unwrap();
    poller.register(fd(&client), 2, Interest::WRITABLE).unwrap();
    // Both are connected with empty send buffers: writable at once.
    let got = poll(&mut poller, Some(WAIT));
    assert_eq!(got.iter().map(|e| e.0).collect::<Vec<_>>(), [1, 2]);
    for (_, readiness) in got {
        assert!(
            readiness.is_writable() && !readiness.is_readable(),
            "{readiness:?}"
        );
    }
}

fn nothing_when_idle(backend: Backend) {
    let mut poller = open(backend);
    let (a, b) = unix_pair();
    poller.register(fd(&a), 1, Interest::READABLE).unwrap();
    poller.register(fd(&b), 2, Interest::READABLE).unwrap();
    let mut events = Events::with_capacity(16);
    assert_eq!(poller.poll(&mut events, IDLE), Ok(0));
    assert!(events.is_empty());
    assert_eq!(poller.poll(&mut events, Some(Duration::ZERO)), Ok(0));
    // A sub-millisecond timeout is still a wait, and still ends.
    assert_eq!(
        poller.poll(&mut events, Some(Duration::from_micros(100))),
        Ok(0)
    );

    // The buffer is cleared by each poll, not appended to.
    send(&a, b"x");
    assert_eq!(poller.poll(&mut events, Some(WAIT)), Ok(1));
    assert_eq!(events.len(), 1);
    drain(&b);
    assert_eq!(poller.poll(&mut events, IDLE), Ok(0));
    assert!(events.is_empty());
    assert_eq!(events.capacity(), 16);
}

fn level_triggered_repeats_until_drained(backend: Backend) {
    let mut poller = open(backend);
    let (a, b) = unix_pair();
    poller.register(fd(&b), 7, Interest::READABLE).unwrap();
    send(&a, b"abc");
    for _ in 0..3 {
        assert_eq!(keys(&mut poller, Some(WAIT)), [7]);
    }
    let mut one = [0; 1];
    assert_eq!(b.recv_into(&mut one, 0), Ok(1));
    assert_eq!(
        keys(&mut poller, Some(WAIT)),
        [7],
        "data left: still readable"
    );
    assert_eq!(drain(&b), 2);
    assert!(poll(&mut poller, IDLE).is_empty());
}

fn edge_triggered_reports_each_new_arrival(backend: Backend) {
    let mut poller = open(backend);
    let (a, b) = unix_pair();
    poller
        .register(fd(&b), 3, Interest::READABLE.edge())
        .unwrap();
    send(&a, b"one");
    assert_eq!(keys(&mut poller, Some(WAIT)), [3]);
    // Not drained: epoll and kqueue stay silent, poll(2) reports it again.
    let again = keys(&mut poller, IDLE);
    if edge_is_level(backend) {
        assert_eq!(again, [3]);
    } else {
        assert_eq!(again, [] as [u64; 0]);
    }
    // A new arrival is a new edge, drained or not.
    send(&a, b"two");
    assert_eq!(keys(&mut poller, Some(WAIT)), [3]);
    assert_eq!(drain(&b), 6);
    assert!(poll(&mut poller, IDLE).is_empty());
    send(&a, b"three");
    assert_eq!(keys(&mut poller, Some(WAIT)), [3]);
}

fn oneshot_reports_once_until_modify(backend: Backend) {
    let mut poller = open(backend);
    let (a, b) = unix_pair();
    let both = Interest::READABLE | Interest::WRITABLE;
    poller.register(fd(&b), 1, both.oneshot()).unwrap();
    send(&a, b"x");
    let got = poll(&mut poller, Some(WAIT));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, 1);
    // Disarmed: still readable and writable, more data, yet nothing.
    assert!(poll(&mut poller, IDLE).is_empty());
    send(&a, b"y");
    assert!(poll(&mut poller, IDLE).is_empty());
    // Still registered, so register is EEXIST; modify re-arms.
    assert_eq!(poller.register(fd(&b), 1, both), Err(Errno::EEXIST));
    poller
        .modify(fd(&b), 2, Interest::READABLE.oneshot())
        .unwrap();
    let got = poll(&mut poller, Some(WAIT));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, 2);
    assert!(got[0].1.is_readable());
    assert!(poll(&mut poller, IDLE).is_empty());
    poller.unregister(fd(&b)).unwrap();
}

fn modify_switches_read_to_write_and_changes_the_key(backend: Backend) {
    let mut poller = open(backend);
    let (a, b) = unix_pair();
    poller.register(fd(&b), 1, Interest::READABLE).unwrap();
    assert!(poll(&mut poller, IDLE).is_empty());
    poller.modify(fd(&b), 2, Interest::WRITABLE).unwrap();
    let got = poll(&mut poller, Some(WAIT));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, 2);
    assert!(got[0].1.is_writable() && !got[0].1.is_readable());
    poller.modify(fd(&b), 3, Interest::READABLE).unwrap();
    assert!(poll(&mut poller, IDLE).is_empty());
    send(&a, b"x");
    let got = poll(&mut poller, Some(WAIT));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, 3);
    assert!(got[0].1.is_readable() && !got[0].1.is_writable());
}

fn unregister_stops_events(backend: Backend) {
    let mut poller = open(backend);
    let (a, b) = unix_pair();
    poller.register(fd(&b), 1, Interest::READABLE).unwrap();
    send(&a, b"x");
    assert_eq!(keys(&mut poller, Some(WAIT)), [1]);
    poller.unregister(fd(&b)).unwrap();
    assert!(poll(&mut poller, IDLE).is_empty());
    // Gone for good, and free to come back.
    assert_eq!(poller.unregister(fd(&b)), Err(Errno::ENOENT));
    poller.register(fd(&b), 4, Interest::READABLE).unwrap();
    assert_eq!(keys(&mut poller, Some(WAIT)), [4]);
}

fn register_twice_is_eexist(backend: Backend) {
    let mut poller = open(backend);
    let (a, _b) = unix_pair();
    poller.register(fd(&a), 1, Interest::READABLE).unwrap();
    assert_eq!(
        poller.register(fd(&a), 2, Interest::WRITABLE),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        poller.register(fd(&a), 1, Interest::READABLE),
        Err(Errno::EEXIST)
    );
    // The first registration is untouched.
    assert!(poll(&mut poller, IDLE).is_empty());
}

fn unknown_fd_is_enoent(backend: Backend) {
    let mut poller = open(backend);
    let (a, b) = unix_pair();
    poller.register(fd(&b), 1, Interest::READABLE).unwrap();
    assert_eq!(
        poller.modify(fd(&a), 1, Interest::READABLE),
        Err(Errno::ENOENT)
    );
    assert_eq!(poller.unregister(fd(&a)), Err(Errno::ENOENT));
}

fn closed_fd_is_ebadf(backend: Backend) {
    let _numbers = FD_NUMBERS.read().unwrap_or_else(PoisonError::into_inner);
    let mut poller = open(backend);
    for bad in [closed_fd(), -1, RawFd::MAX] {
        assert_eq!(
            poller.register(bad, 1, Interest::READABLE),
            Err(Errno::EBADF),
            "register {bad}"
        );
        assert_eq!(
            poller.modify(bad, 1, Interest::READABLE),
            Err(Errno::EBADF),
            "modify {bad}"
        );
        assert_eq!(
            poller.unregister(bad),
            Err(Errno::EBADF),
            "unregister {bad}"
        );
    }
}

fn closing_a_registered_fd_ends_its_registration(backend: Backend) {
    let _numbers = FD_NUMBERS.read().unwrap_or_else(PoisonError::into_inner);
    let mut poller = open(backend);
    let (a, b) = unix_pair();
    // The only fd of b's socket, at a number no other test will be handed
    // once it is closed (closing frees the socket, which epoll needs).
    let dup = dup_at_least(fd(&b), 1600);
    drop(b);
    poller.register(dup, 1, Interest::READABLE).unwrap();
    send(&a, b"x");
    assert_eq!(keys(&mut poller, Some(WAIT)), [1]);
    // SAFETY: `dup` was made above and is owned here.
    assert_eq!(unsafe { libc::close(dup) }, 0);
    assert!(poll(&mut poller, IDLE).is_empty());
    assert_eq!(poller.unregister(dup), Err(Errno::EBADF));
}

fn hangup_after_the_peer_closes(backend: Backend) {
    let mut poller = open(backend);
    let (a, b) = unix_pair();
    let (client, server) = tcp_pair();
    poller.register(fd(&b), 1, Interest::READABLE).unwrap();
    poller.register(fd(&server), 2, Interest::READABLE).unwrap();
    assert!(poll(&mut poller, IDLE).is_empty());
    drop(a);
    drop(client);
    for key in [1, 2] {
        let readiness = wait_for(&mut poller, key, Readiness::is_hangup);
        assert!(readiness.is_readable(), "{key}: {readiness:?}");
        assert!(!readiness.is_error(), "{key}: {readiness:?}");
    }
    assert_eq!(drain(&b), 0, "end of stream");
    assert_eq!(drain(&server), 0, "end of stream");
}

fn error_and_hangup_after_the_peer_resets(backend: Backend) {
    let mut poller = open(backend);
    let (client, server) = tcp_pair();
    poller.register(fd(&server), 9, Interest::READABLE).unwrap();
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    client
        .setsockopt_bytes(libc::SOL_SOCKET, libc::SO_LINGER, as_bytes(&linger))
        .unwrap();
    drop(client); // close(2) with linger {on, 0}: an RST instead of a FIN.
    let readiness = wait_for(&mut poller, 9, Readiness::is_error);
    assert!(readiness.is_hangup(), "{readiness:?}");
    let mut buf = [0; 4];
    assert_eq!(server.recv_into(&mut buf, 0), Err(Errno::ECONNRESET));
}

fn listener_readable_on_incoming_connection(backend: Backend) {
    let mut poller = open(backend);
    let (listener, addr) = util::tcp_listener(libc::AF_INET);
    let listener = nonblocking(listener);
    poller
        .register(fd(&listener), 1, Interest::READABLE)
        .unwrap();
    assert!(poll(&mut poller, IDLE).is_empty());
    let client = util::socket(libc::AF_INET, libc::SOCK_STREAM);
    client.connect(&addr).unwrap();
    wait_for(&mut poller, 1, Readiness::is_readable);
    assert!(listener.accept().is_ok());
    assert!(poll(&mut poller, IDLE).is_empty());
}

fn many_fds_report_only_the_ready_ones(backend: Backend) {
    let _numbers = FD_NUMBERS.write().unwrap_or_else(PoisonError::into_inner);
    const PAIRS: usize = 1000;
    const SPARE: usize = 256; // for the rest of the process and other tests
    raise_nofile((2 * PAIRS + SPARE) as u64);
    // SAFETY: rlimit is plain old data and a valid out-pointer for getrlimit.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    // Fewer pairs where the hard limit says so; still far more than ready.
    let pairs = PAIRS.min((lim.rlim_cur as usize).saturating_sub(SPARE) / 2);
    assert!(pairs >= 100, "RLIMIT_NOFILE {} too low", lim.rlim_cur);

    let mut poller = open(backend);
    let socks: Vec<(Socket, Socket)> = (0..pairs).map(|_| unix_pair()).collect();
    for (key, (_, b)) in socks.iter().enumerate() {
        poller
            .register(fd(b), key as u64, Interest::READABLE)
            .unwrap();
    }
    assert!(poll(&mut poller, IDLE).is_empty());
    let ready = [0, 3, pairs / 2, pairs - 1];
    for &i in &ready {
        send(&socks[i].0, b"x");
    }
    let mut events = Events::with_capacity(1024);
    assert_eq!(poller.poll(&mut events, Some(WAIT)), Ok(ready.len()));
    let mut got: Vec<u64> = events.iter().map(|e| e.key).collect();
    got.sort_unstable();
    assert_eq!(got, ready.map(|i| i as u64));
    assert!(events.iter().all(|e| e.readiness.is_readable()));
}

fn small_capacity_returns_the_rest_next_time(backend: Backend) {
    const READY: usize = 5;
    let mut poller = open(backend);
    let socks: Vec<(Socket, Socket)> = (0..READY).map(|_| unix_pair()).collect();
    let mut events = Events::with_capacity(2);

    // One-shot: each fd reports once, so the polls split them exactly.
    for (key, (a, b)) in socks.iter().enumerate() {
        poller
            .register(fd(b), key as u64, Interest::READABLE.oneshot())
            .unwrap();
        send(a, b"x");
    }
    let mut seen = Vec::new();
    for expected in [2, 2, 1, 0] {
        let timeout = if expected == 0 { IDLE } else { Some(WAIT) };
        assert_eq!(poller.poll(&mut events, timeout), Ok(expected));
        seen.extend(events.iter().map(|e| e.key));
    }
    seen.sort_unstable();
    assert_eq!(seen, [0, 1, 2, 3, 4]);

    // Level-triggered: every fd stays ready, yet none is starved; the polls
    // go round them all.
    for (key, (_, b)) in socks.iter().enumerate() {
        poller
            .modify(fd(b), key as u64, Interest::READABLE)
            .unwrap();
    }
    let mut seen = Vec::new();
    for _ in 0..READY.div_ceil(2) {
        assert_eq!(poller.poll(&mut events, Some(WAIT)), Ok(2));
        seen.extend(events.iter().map(|e| e.key));
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen, [0, 1, 2, 3, 4]);
}

fn zero_capacity_is_einval(backend: Backend) {
    let mut poller = open(backend);
    let mut events = Events::with_capacity(0);
    assert_eq!(poller.poll(&mut events, IDLE), Err(Errno::EINVAL));
}

thread_local! {
    /// SIGUSR1 deliveries to the current thread (a const-initialized Cell is
    /// plain TLS, safe to touch from a handler).
    static USR1_HITS: Cell<usize> = const { Cell::new(0) };
}

extern "C" fn on_usr1(_: libc::c_int) {
    USR1_HITS.with(|hits| hits.set(hits.get() + 1));
}

/// A SIGUSR1 handler without SA_RESTART, so a blocked poll fails with EINTR.
fn install_usr1() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: sigaction is plain old data; all zeros is a valid start.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_usr1 as *const () as libc::sighandler_t;
        action.sa_flags = 0; // deliberately no SA_RESTART
                             // SAFETY: `action.sa_mask` is a valid sigset_t to initialize; the
                             // handler only touches a thread-local counter (async-signal-safe).
        unsafe {
            libc::sigemptyset(&mut action.sa_mask);
            assert_eq!(
                libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
                0
            );
        }
    });
}

fn eintr_is_retried(backend: Backend) {
    install_usr1();
    let mut poller = open(backend);
    let (a, b) = unix_pair();
    poller.register(fd(&b), 8, Interest::READABLE).unwrap();
    let handle = thread::spawn(move || {
        let mut events = Events::with_capacity(4);
        let result = poller.poll(&mut events, Some(WAIT));
        let keys: Vec<u64> = events.iter().map(|e| e.key).collect();
        (result, keys, USR1_HITS.with(Cell::get))
    });
    for _ in 0..10 {
        signal_thread(&handle, libc::SIGUSR1);
        thread::sleep(Duration::from_millis(2));
    }
    send(&a, b"x");
    let (result, keys, hits) = handle.join().expect("polling thread panicked");
    assert!(hits > 0, "no signal reached the polling thread");
    assert_eq!(result, Ok(1), "EINTR must be retried, not returned");
    assert_eq!(keys, [8]);
}

// ---------------------------------------------------------------- the types

#[test]
fn available_backends_are_all_tested() {
    let available = Backend::available();
    assert!(available.contains(&Backend::Poll));
    assert_eq!(available, TESTED);
}

#[test]
fn new_picks_the_first_available_backend() {
    let poller = Poller::new().unwrap();
    assert_eq!(poller.backend(), Backend::available()[0]);
    if cfg!(any(target_os = "linux", target_os = "android")) {
        assert_eq!(poller.backend(), Backend::Epoll);
    }
}

#[test]
fn missing_backend_is_enosys() {
    for backend in [Backend::Epoll, Backend::Kqueue, Backend::Poll] {
        let got = Poller::with_backend(backend).map(|p| p.backend());
        if Backend::available().contains(&backend) {
            assert_eq!(got, Ok(backend));
        } else {
            assert_eq!(got, Err(Errno::ENOSYS), "{}", backend.name());
        }
    }
}

#[test]
fn poller_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Poller>();
    check::<Events>();
}

#[test]
fn interest_bits_and_modes() {
    let both = Interest::READABLE | Interest::WRITABLE;
    assert_eq!(Interest::default(), Interest::NONE);
    assert_eq!(both, Interest::READABLE.add(Interest::WRITABLE));
    assert_eq!(both.poll_events(), libc::POLLIN | libc::POLLOUT);
    assert_eq!(Interest::from_poll_events(libc::POLLIN), Interest::READABLE);
    assert_eq!(
        Interest::from_poll_events(libc::POLLOUT | libc::POLLPRI),
        Interest::WRITABLE
    );
    assert_eq!(Interest::from_poll_events(0), Interest::NONE);
    assert!(
        !both.is_edge() && !both.is_oneshot(),
        "level-triggered by default"
    );
    let modes = Interest::READABLE.edge().oneshot();
    assert!(modes.is_readable() && !modes.is_writable() && modes.is_edge() && modes.is_oneshot());
    assert_eq!(modes.poll_events(), libc::POLLIN);
    assert_eq!(format!("{modes:?}"), "Interest(READABLE | EDGE | ONESHOT)");
    assert_eq!(format!("{:?}", Interest::NONE), "Interest(NONE)");
    assert_eq!(format!("{:?}", Readiness::default()), "Readiness(NONE)");
}
