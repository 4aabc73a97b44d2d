//! `select()` with Python's semantics over poll(2), on loopback sockets.
#![cfg(unix)]

mod util;

use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use bsd_sockets_core::{select, Errno, Selected};
use util::{closed_fd, dup_at_least, tcp_listener, tcp_pair, unix_pair, WAIT};

const SHORT: Duration = Duration::from_millis(50);

fn fd(s: &impl AsRawFd) -> RawFd {
    s.as_raw_fd()
}

#[test]
fn readable_after_data_arrives() {
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    let none = select(&[fd(&b)], &[], &[], Some(Duration::ZERO)).unwrap();
    assert_eq!(none, Selected::default());
    a.send(b"ready", 0).unwrap();
    let ready = select(&[fd(&b)], &[], &[], Some(WAIT)).unwrap();
    assert_eq!(ready.read, [0]);
    assert!(ready.write.is_empty() && ready.except.is_empty());
}

#[test]
fn readable_over_tcp_and_at_eof() {
    let (a, b) = tcp_pair(libc::AF_INET6);
    a.send(b"x", 0).unwrap();
    assert_eq!(select(&[fd(&b)], &[], &[], Some(WAIT)).unwrap().read, [0]);
    drop(a);
    util::recv_exact(&b, 1);
    // End of stream counts as readable (recv would return 0 at once).
    assert_eq!(select(&[fd(&b)], &[], &[], Some(WAIT)).unwrap().read, [0]);
}

#[test]
fn listener_readable_with_a_pending_connection() {
    let (listener, addr) = tcp_listener(libc::AF_INET);
    assert_eq!(
        select(&[fd(&listener)], &[], &[], Some(Duration::ZERO)).unwrap(),
        Selected::default()
    );
    let client = util::socket(libc::AF_INET, libc::SOCK_STREAM);
    client.connect(&addr).unwrap();
    assert_eq!(
        select(&[fd(&listener)], &[], &[], Some(WAIT)).unwrap().read,
        [0]
    );
}

#[test]
fn writable_on_a_fresh_connected_socket() {
    let (a, b) = tcp_pair(libc::AF_INET);
    let ready = select(&[], &[fd(&a), fd(&b)], &[], Some(WAIT)).unwrap();
    assert_eq!(ready.write, [0, 1]);
    assert!(ready.read.is_empty());
}

#[test]
fn not_writable_with_a_full_buffer() {
    let (mut a, _b) = unix_pair(libc::SOCK_STREAM);
    a.set_timeout(Some(Duration::ZERO)).unwrap();
    let chunk = vec![0; 1 << 16];
    while a.send(&chunk, 0).is_ok() {}
    let ready = select(&[], &[fd(&a)], &[], Some(SHORT)).unwrap();
    assert_eq!(ready, Selected::default());
}

#[test]
fn empty_on_timeout() {
    let (_a, b) = tcp_pair(libc::AF_INET);
    let start = Instant::now();
    let ready = select(&[fd(&b)], &[], &[fd(&b)], Some(SHORT)).unwrap();
    assert_eq!(ready, Selected::default());
    assert!(start.elapsed() >= SHORT, "returned before the timeout");
}

#[test]
fn timeout_zero_returns_immediately() {
    let (_a, b) = tcp_pair(libc::AF_INET);
    let start = Instant::now();
    let ready = select(&[fd(&b)], &[], &[], Some(Duration::ZERO)).unwrap();
    assert_eq!(ready, Selected::default());
    // Generous bound: "immediately" only has to be far below any real wait.
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn no_fds_just_sleeps() {
    let start = Instant::now();
    assert_eq!(
        select(&[], &[], &[], Some(SHORT)).unwrap(),
        Selected::default()
    );
    assert!(start.elapsed() >= SHORT);
}

#[test]
fn sub_millisecond_timeout_is_not_a_busy_zero() {
    let start = Instant::now();
    let timeout = Duration::from_micros(300);
    assert_eq!(
        select(&[], &[], &[], Some(timeout)).unwrap(),
        Selected::default()
    );
    assert!(start.elapsed() >= timeout);
}

#[test]
fn duplicates_in_a_list_are_all_reported() {
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    let (_c, d) = unix_pair(libc::SOCK_STREAM);
    a.send(b"x", 0).unwrap();
    let ready = select(&[fd(&b), fd(&d), fd(&b)], &[], &[], Some(WAIT)).unwrap();
    assert_eq!(ready.read, [0, 2]);
}

#[test]
fn one_fd_in_all_three_lists() {
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    a.send(b"x", 0).unwrap();
    let f = fd(&b);
    let ready = select(&[f], &[f], &[f], Some(WAIT)).unwrap();
    assert_eq!(ready.read, [0]);
    assert_eq!(ready.write, [0]);
    assert!(ready.except.is_empty());
    // Nothing to read: only the write list fires.
    let (_c, d) = unix_pair(libc::SOCK_STREAM);
    let g = fd(&d);
    let ready = select(&[g], &[g], &[g], Some(WAIT)).unwrap();
    assert!(ready.read.is_empty());
    assert_eq!(ready.write, [0]);
}

#[test]
fn out_of_band_data_is_exceptional() {
    let (a, b) = tcp_pair(libc::AF_INET);
    assert_eq!(a.send(b"!", libc::MSG_OOB), Ok(1));
    let ready = select(&[], &[], &[fd(&b)], Some(WAIT)).unwrap();
    assert_eq!(ready.except, [0]);
    let mut buf = [0; 1];
    assert_eq!(b.recv_into(&mut buf, libc::MSG_OOB), Ok(1));
    assert_eq!(&buf, b"!");
}

#[test]
fn ebadf_for_a_closed_fd() {
    let (_a, b) = unix_pair(libc::SOCK_STREAM);
    let bad = closed_fd();
    for (r, w, x) in [
        (vec![bad], vec![], vec![]),
        (vec![], vec![bad], vec![]),
        (vec![fd(&b)], vec![], vec![bad]),
    ] {
        assert_eq!(select(&r, &w, &x, Some(WAIT)), Err(Errno::EBADF));
    }
}

#[test]
fn an_fd_above_fd_setsize() {
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    // Well above select(2)'s FD_SETSIZE of 1024: poll(2) has no such limit.
    let high = dup_at_least(fd(&b), 1100);
    assert!(high > 1024);
    let ready = select(&[high], &[high], &[], Some(WAIT)).unwrap();
    assert!(ready.read.is_empty());
    assert_eq!(ready.write, [0]);
    a.send(b"hi", 0).unwrap();
    let ready = select(&[fd(&a), high], &[], &[], Some(WAIT)).unwrap();
    assert_eq!(ready.read, [1]);
    // SAFETY: `high` is the duplicate made above, owned here and closed once.
    assert_eq!(unsafe { libc::close(high) }, 0);
}

#[test]
fn indices_follow_the_given_order() {
    let pairs: Vec<_> = (0..4).map(|_| unix_pair(libc::SOCK_STREAM)).collect();
    pairs[1].0.send(b"1", 0).unwrap();
    pairs[3].0.send(b"3", 0).unwrap();
    let fds: Vec<RawFd> = pairs.iter().map(|(_, b)| fd(b)).collect();
    // Wait for both; poll returns as soon as one is ready.
    let deadline = Instant::now() + WAIT;
    let mut ready = Selected::default();
    while ready.read.len() < 2 && Instant::now() < deadline {
        ready = select(&fds, &[], &[], Some(WAIT)).unwrap();
    }
    assert_eq!(ready.read, [1, 3]);
    let reversed: Vec<RawFd> = fds.iter().rev().copied().collect();
    assert_eq!(
        select(&reversed, &[], &[], Some(WAIT)).unwrap().read,
        [0, 2]
    );
}

#[test]
fn a_hung_up_fd_watched_only_for_exceptions_is_not_ready() {
    // poll(2) reports POLLHUP whatever was asked; select(2) does not count it
    // in the exception set, so this waits out the timeout like select(2).
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    drop(a);
    let start = Instant::now();
    assert_eq!(
        select(&[], &[], &[fd(&b)], Some(SHORT)).unwrap(),
        Selected::default()
    );
    assert!(
        start.elapsed() >= SHORT,
        "returned early with nothing ready"
    );
}

#[test]
fn a_hung_up_except_fd_does_not_hide_a_later_ready_one() {
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    drop(a);
    let (c, d) = unix_pair(libc::SOCK_STREAM);
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        c.send(b"x", 0).unwrap();
        c
    });
    for timeout in [Some(WAIT), None] {
        let ready = select(&[fd(&d)], &[], &[fd(&b)], timeout).unwrap();
        assert_eq!(ready.read, [0]);
        assert!(ready.except.is_empty());
    }
    writer.join().unwrap();
}
