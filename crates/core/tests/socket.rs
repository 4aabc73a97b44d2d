//! `Socket` on real loopback sockets: creation, CLOEXEC, data transfer, flags
//! and the three modes (blocking, non-blocking, timed).
#![cfg(unix)]

mod util;

use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
use std::thread;
use std::time::{Duration, Instant};

use bsd_sockets_core::{Address, Errno, Socket};
use util::{
    bound_blocking, is_cloexec, is_nonblocking, is_open, recv_exact, socket, tcp_listener,
    tcp_pair, udp_socket, unix_pair, WAIT,
};

const FAMILIES: [i32; 3] = [libc::AF_INET, libc::AF_INET6, libc::AF_UNIX];
const TYPES: [i32; 2] = [libc::SOCK_STREAM, libc::SOCK_DGRAM];

/// What SO_PROTOCOL says for a socket created with protocol 0.
fn default_protocol(family: i32, socktype: i32) -> i32 {
    // macOS has no SO_PROTOCOL, so the crate reports 0 there (as Python does).
    if !cfg!(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd"
    )) {
        return 0;
    }
    match (family, socktype) {
        (libc::AF_UNIX, _) => 0,
        (_, libc::SOCK_STREAM) => libc::IPPROTO_TCP,
        (_, _) => libc::IPPROTO_UDP,
    }
}

#[test]
fn new_reports_family_type_protocol() {
    for family in FAMILIES {
        for socktype in TYPES {
            let sock = Socket::new(family, socktype, 0).unwrap();
            assert_eq!(sock.family(), family);
            assert_eq!(sock.socktype(), socktype);
            assert_eq!(sock.protocol(), default_protocol(family, socktype));
            assert_eq!(sock.timeout(), None);
            assert!(!is_nonblocking(&sock));
            assert!(
                is_cloexec(&sock),
                "socket({family}, {socktype}) not CLOEXEC"
            );
        }
    }
}

#[test]
fn new_with_explicit_protocol() {
    let tcp = Socket::new(libc::AF_INET, libc::SOCK_STREAM, libc::IPPROTO_TCP).unwrap();
    assert_eq!(
        tcp.protocol(),
        default_protocol(libc::AF_INET, libc::SOCK_STREAM)
    );
    let udp = Socket::new(libc::AF_INET6, libc::SOCK_DGRAM, libc::IPPROTO_UDP).unwrap();
    assert_eq!(
        udp.protocol(),
        default_protocol(libc::AF_INET6, libc::SOCK_DGRAM)
    );
}

// SOCK_NONBLOCK is a Linux/BSD type flag; macOS has none.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
#[test]
fn new_with_sock_nonblock_is_in_non_blocking_mode() {
    let sock = Socket::new(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0).unwrap();
    assert_eq!(sock.socktype(), libc::SOCK_STREAM);
    assert!(is_nonblocking(&sock));
    assert_eq!(sock.timeout(), Some(Duration::ZERO));
    let mut buf = [0; 1];
    assert_eq!(sock.recv_into(&mut buf, 0), Err(Errno::ENOTCONN));

    let (a, b) = Socket::pair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0).unwrap();
    for s in [&a, &b] {
        assert_eq!(s.timeout(), Some(Duration::ZERO));
        assert_eq!(s.recv_into(&mut buf, 0), Err(Errno::EAGAIN));
    }
}

#[test]
fn pair_is_connected_and_cloexec() {
    for socktype in TYPES {
        let (a, b) = Socket::pair(libc::AF_UNIX, socktype, 0).unwrap();
        for s in [&a, &b] {
            assert!(is_cloexec(s));
            assert_eq!(s.family(), libc::AF_UNIX);
            assert_eq!(s.socktype(), socktype);
            assert_eq!(s.timeout(), None);
        }
        bound_blocking(&b, WAIT);
        assert_eq!(a.send(b"ping", 0), Ok(4));
        let mut buf = [0; 8];
        assert_eq!(b.recv_into(&mut buf, 0), Ok(4));
        assert_eq!(&buf[..4], b"ping");
    }
}

#[test]
fn accept_and_try_clone_are_cloexec() {
    let (client, server) = tcp_pair(libc::AF_INET);
    assert!(is_cloexec(&client));
    assert!(is_cloexec(&server));
    let clone = server.try_clone().unwrap();
    assert_ne!(clone.as_raw_fd(), server.as_raw_fd());
    assert!(is_cloexec(&clone));
}

#[test]
fn try_clone_keeps_mode_and_shares_the_connection() {
    let (client, server) = tcp_pair(libc::AF_INET);
    let clone = client.try_clone().unwrap();
    assert_eq!(clone.timeout(), Some(WAIT));
    assert_eq!(clone.family(), client.family());
    assert_eq!(clone.socktype(), client.socktype());
    assert_eq!(clone.protocol(), client.protocol());
    assert_eq!(clone.local_addr(), client.local_addr());
    clone.send(b"via clone", 0).unwrap();
    assert_eq!(recv_exact(&server, 9), b"via clone");
    // Closing the original leaves the duplicate working.
    drop(client);
    clone.send(b"!", 0).unwrap();
    assert_eq!(recv_exact(&server, 1), b"!");
}

#[test]
fn from_raw_fd_checked_sets_cloexec_and_reads_mode() {
    for nonblocking in [false, true] {
        // A raw socket made without CLOEXEC, as another library might hand it over.
        // SAFETY: plain socket(2) call; the fd is owned here until handed over.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
        assert!(fd >= 0);
        assert!(!is_cloexec(&fd));
        if nonblocking {
            // SAFETY: `fd` is the socket opened above.
            let rc = unsafe { libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK) };
            assert_eq!(rc, 0);
        }
        // SAFETY: `fd` is ours and given up here.
        let sock = unsafe { Socket::from_raw_fd_checked(fd) }.unwrap();
        assert_eq!(sock.as_raw_fd(), fd);
        assert!(is_cloexec(&sock));
        assert_eq!(sock.family(), libc::AF_INET);
        assert_eq!(sock.socktype(), libc::SOCK_STREAM);
        let want = nonblocking.then_some(Duration::ZERO);
        assert_eq!(sock.timeout(), want);
    }
}

#[test]
fn into_raw_fd_detaches_and_close_releases() {
    let sock = Socket::new(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap();
    let fd = sock.into_raw_fd();
    assert!(is_open(fd));
    // SAFETY: into_raw_fd gave up ownership of `fd`; it is adopted back exactly once.
    let sock = unsafe { Socket::from_raw_fd_checked(fd) }.unwrap();
    assert_eq!(sock.socktype(), libc::SOCK_DGRAM);
    assert_eq!(sock.close(), Ok(()));

    // OwnedFd conversion keeps the same descriptor open.
    let sock = Socket::new(libc::AF_UNIX, libc::SOCK_STREAM, 0).unwrap();
    let fd = sock.as_raw_fd();
    let owned = OwnedFd::from(sock);
    assert_eq!(owned.as_raw_fd(), fd);
    assert!(is_open(fd));
}

#[test]
fn accept_returns_the_clients_address() {
    for family in [libc::AF_INET, libc::AF_INET6] {
        let (listener, addr) = tcp_listener(family);
        let client = socket(family, libc::SOCK_STREAM);
        client.connect(&addr).unwrap();
        let (server, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(server.peer_addr().unwrap(), peer);
        assert_eq!(client.peer_addr().unwrap(), addr);
        assert_eq!(server.local_addr().unwrap(), addr);
        assert_eq!(server.family(), family);
        assert_eq!(server.socktype(), libc::SOCK_STREAM);
    }
}

#[test]
fn accept_from_a_timed_or_nonblocking_listener_gives_a_blocking_socket() {
    for timeout in [Some(WAIT), Some(Duration::ZERO)] {
        let (mut listener, addr) = tcp_listener(libc::AF_INET);
        listener.set_timeout(timeout).unwrap();
        let client = socket(libc::AF_INET, libc::SOCK_STREAM);
        client.connect(&addr).unwrap();
        // Non-blocking: wait until the connection is queued, then accept.
        let ready = bsd_sockets_core::select(&[listener.as_raw_fd()], &[], &[], Some(WAIT));
        assert_eq!(ready.unwrap().read, [0]);
        let (server, _) = listener.accept().unwrap();
        assert_eq!(server.timeout(), None);
        assert!(!is_nonblocking(&server));
        assert!(is_cloexec(&server));
    }
}

#[test]
fn send_recv_round_trip() {
    let pairs = [
        tcp_pair(libc::AF_INET),
        tcp_pair(libc::AF_INET6),
        unix_pair(libc::SOCK_STREAM),
    ];
    for (a, b) in pairs {
        assert_eq!(a.send(b"hello", 0), Ok(5));
        assert_eq!(recv_exact(&b, 5), b"hello");
        assert_eq!(b.send(b"world!", 0), Ok(6));
        assert_eq!(recv_exact(&a, 6), b"world!");
    }
}

#[test]
fn sendall_megabytes_with_a_reader_thread() {
    const LEN: usize = 8 << 20;
    let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    let reader = thread::spawn(move || {
        let mut got = Vec::with_capacity(LEN);
        let mut buf = vec![0; 64 << 10];
        loop {
            let n = b.recv_into(&mut buf, 0).expect("recv");
            if n == 0 {
                return got;
            }
            got.extend_from_slice(&buf[..n]);
        }
    });
    let mut sent = 0;
    a.sendall(&data, 0, &mut sent).unwrap();
    assert_eq!(sent, LEN);
    a.shutdown(libc::SHUT_WR).unwrap();
    let got = reader.join().unwrap();
    assert_eq!(got.len(), LEN);
    assert!(got == data, "received bytes differ from the sent ones");
}

#[test]
fn nonblocking_sendall_reports_progress_on_eagain() {
    for (mut a, b) in [unix_pair(libc::SOCK_STREAM), tcp_pair(libc::AF_INET)] {
        const LEN: usize = 64 << 20;
        let data: Vec<u8> = (0..LEN).map(|i| (i % 253) as u8).collect();
        a.set_timeout(Some(Duration::ZERO)).unwrap();
        let mut sent = usize::MAX;
        assert_eq!(a.sendall(&data, 0, &mut sent), Err(Errno::EAGAIN));
        assert!(sent > 0 && sent < LEN, "sent = {sent}");
        // The peer receives exactly the `sent` bytes, and nothing more.
        assert!(recv_exact(&b, sent) == data[..sent]);
        let mut buf = [0; 1];
        assert_eq!(
            b.recv_into(&mut buf, libc::MSG_DONTWAIT),
            Err(Errno::EAGAIN)
        );
    }
}

#[test]
fn udp_send_to_recv_from() {
    for family in [libc::AF_INET, libc::AF_INET6] {
        let (a, a_addr) = udp_socket(family);
        let (b, b_addr) = udp_socket(family);
        assert_eq!(a.send_to(b"datagram", 0, &b_addr), Ok(8));
        let mut buf = [0; 64];
        let (n, from) = b.recv_from_into(&mut buf, 0).unwrap();
        assert_eq!(&buf[..n], b"datagram");
        assert_eq!(from, a_addr);
        assert_eq!(from.family(), family);

        assert_eq!(b.send_to(b"reply", 0, &from), Ok(5));
        let (n, from) = a.recv_from_into(&mut buf, 0).unwrap();
        assert_eq!(&buf[..n], b"reply");
        assert_eq!(from, b_addr);
    }
}

#[test]
fn udp_datagram_boundaries_and_truncation() {
    let (a, _) = udp_socket(libc::AF_INET);
    let (b, b_addr) = udp_socket(libc::AF_INET);
    a.send_to(b"first", 0, &b_addr).unwrap();
    a.send_to(b"second", 0, &b_addr).unwrap();
    let mut buf = [0; 3];
    // A short buffer truncates the datagram and the rest is discarded.
    assert_eq!(b.recv_from_into(&mut buf, 0).unwrap().0, 3);
    assert_eq!(&buf, b"fir");
    let mut buf = [0; 64];
    let n = b.recv_into(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"second");
}

#[test]
fn connected_udp_send_recv() {
    let (a, a_addr) = udp_socket(libc::AF_INET6);
    let (b, b_addr) = udp_socket(libc::AF_INET6);
    a.connect(&b_addr).unwrap();
    b.connect(&a_addr).unwrap();
    assert_eq!(a.peer_addr().unwrap(), b_addr);
    a.send(b"x", 0).unwrap();
    assert_eq!(recv_exact(&b, 1), b"x");
}

#[test]
fn msg_peek_leaves_the_data() {
    let (a, b) = tcp_pair(libc::AF_INET);
    a.send(b"peekaboo", 0).unwrap();
    let mut buf = [0; 8];
    // Wait until all 8 bytes are there, then peek twice.
    let mut n = 0;
    let start = Instant::now();
    while n < 8 && start.elapsed() < WAIT {
        n = b.recv_into(&mut buf, libc::MSG_PEEK).unwrap();
    }
    assert_eq!(&buf[..n], b"peekaboo");
    assert_eq!(b.recv_into(&mut buf, libc::MSG_PEEK), Ok(8));
    let mut buf = [0; 8];
    assert_eq!(b.recv_into(&mut buf, 0), Ok(8));
    assert_eq!(&buf, b"peekaboo");
    assert_eq!(
        b.recv_into(&mut buf, libc::MSG_DONTWAIT),
        Err(Errno::EAGAIN)
    );
}

#[test]
fn msg_dontwait_on_blocking_and_timed_sockets() {
    let (a, mut b) = unix_pair(libc::SOCK_STREAM);
    let mut buf = [0; 4];
    // Timed: MSG_DONTWAIT must not wait for the deadline.
    let start = Instant::now();
    assert_eq!(
        b.recv_into(&mut buf, libc::MSG_DONTWAIT),
        Err(Errno::EAGAIN)
    );
    assert!(start.elapsed() < WAIT);
    // Blocking.
    b.set_timeout(None).unwrap();
    bound_blocking(&b, WAIT);
    assert_eq!(
        b.recv_into(&mut buf, libc::MSG_DONTWAIT),
        Err(Errno::EAGAIN)
    );
    a.send(b"now", 0).unwrap();
    assert_eq!(b.recv_into(&mut buf, libc::MSG_DONTWAIT), Ok(3));
}

#[test]
fn msg_waitall_collects_several_sends() {
    let (a, mut b) = tcp_pair(libc::AF_INET);
    // MSG_WAITALL only waits on a blocking fd; the timed mode's O_NONBLOCK
    // would return the first chunk, so this runs in blocking mode, bounded.
    b.set_timeout(None).unwrap();
    bound_blocking(&b, WAIT);
    let writer = thread::spawn(move || {
        for chunk in [&b"abc"[..], b"def", b"ghij"] {
            thread::sleep(Duration::from_millis(20));
            a.send(chunk, 0).unwrap();
        }
        a
    });
    let mut buf = [0; 10];
    assert_eq!(b.recv_into(&mut buf, libc::MSG_WAITALL), Ok(10));
    assert_eq!(&buf, b"abcdefghij");
    writer.join().unwrap();
}

#[test]
fn recv_returns_zero_at_eof_after_peer_shut_wr() {
    for (a, b) in [tcp_pair(libc::AF_INET), unix_pair(libc::SOCK_STREAM)] {
        a.send(b"last", 0).unwrap();
        a.shutdown(libc::SHUT_WR).unwrap();
        assert_eq!(recv_exact(&b, 4), b"last");
        let mut buf = [0; 4];
        assert_eq!(b.recv_into(&mut buf, 0), Ok(0));
        assert_eq!(b.recv_into(&mut buf, 0), Ok(0));
        // The other direction still works.
        b.send(b"back", 0).unwrap();
        assert_eq!(recv_exact(&a, 4), b"back");
    }
}

#[test]
fn timeout_modes_read_back_and_set_o_nonblock() {
    let mut sock = Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
    for (timeout, nonblocking) in [
        (Some(Duration::from_millis(1500)), true),
        (None, false),
        (Some(Duration::ZERO), true),
        (Some(Duration::from_nanos(1)), true),
        (None, false),
    ] {
        sock.set_timeout(timeout).unwrap();
        assert_eq!(sock.timeout(), timeout);
        assert_eq!(is_nonblocking(&sock), nonblocking, "{timeout:?}");
    }
}

#[test]
fn nonblocking_mode_fails_at_once() {
    let (_a, mut b) = unix_pair(libc::SOCK_STREAM);
    b.set_timeout(Some(Duration::ZERO)).unwrap();
    let mut buf = [0; 4];
    assert_eq!(b.recv_into(&mut buf, 0), Err(Errno::EAGAIN));
}

#[test]
fn timed_recv_gets_data_sent_before_the_deadline() {
    let (a, mut b) = tcp_pair(libc::AF_INET);
    b.set_timeout(Some(Duration::from_secs(2))).unwrap();
    let writer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        a.send(b"late", 0).unwrap();
        a
    });
    let mut buf = [0; 4];
    assert_eq!(b.recv_into(&mut buf, 0), Ok(4));
    assert_eq!(&buf, b"late");
    writer.join().unwrap();
}

#[test]
fn timed_accept_gets_a_connection_made_later() {
    let (mut listener, addr) = tcp_listener(libc::AF_INET6);
    listener.set_timeout(Some(Duration::from_secs(2))).unwrap();
    let connector = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        let client = socket(libc::AF_INET6, libc::SOCK_STREAM);
        client.connect(&addr).unwrap();
        client.local_addr().unwrap()
    });
    let (_server, peer) = listener.accept().unwrap();
    assert_eq!(peer, connector.join().unwrap());
}

#[test]
fn timed_connect_to_a_listener() {
    for family in [libc::AF_INET, libc::AF_INET6] {
        let (listener, addr) = tcp_listener(family);
        let mut client = Socket::new(family, libc::SOCK_STREAM, 0).unwrap();
        client.set_timeout(Some(Duration::from_secs(2))).unwrap();
        client.connect(&addr).unwrap();
        assert_eq!(client.peer_addr().unwrap(), addr);
        let (server, _) = listener.accept().unwrap();
        client.send(b"ok", 0).unwrap();
        assert_eq!(recv_exact(&server, 2), b"ok");
    }
}

#[test]
fn blocking_connect_accept_and_recv() {
    let (mut listener, addr) = tcp_listener(libc::AF_INET);
    listener.set_timeout(None).unwrap();
    bound_blocking(&listener, WAIT);
    let client = Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
    bound_blocking(&client, WAIT);
    client.connect(&addr).unwrap();
    let (server, _) = listener.accept().unwrap();
    bound_blocking(&server, WAIT);
    let mut sent = 0;
    client.sendall(b"blocking", 0, &mut sent).unwrap();
    assert_eq!(sent, 8);
    let mut buf = [0; 8];
    assert_eq!(server.recv_into(&mut buf, libc::MSG_WAITALL), Ok(8));
    assert_eq!(&buf, b"blocking");
}

#[test]
fn shutdown_rdwr_and_shut_rd() {
    let (a, b) = tcp_pair(libc::AF_INET);
    a.shutdown(libc::SHUT_RD).unwrap();
    let mut buf = [0; 1];
    assert_eq!(a.recv_into(&mut buf, 0), Ok(0));
    a.shutdown(libc::SHUT_RDWR).unwrap();
    assert_eq!(b.recv_into(&mut buf, 0), Ok(0));
}

#[test]
fn drop_and_close_release_the_fd() {
    for explicit in [false, true] {
        let tmp = Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
        // A number far above what concurrent tests allocate, so nobody else can
        // reopen it between the drop and the check.
        let fd = util::dup_at_least(tmp.as_raw_fd(), 1200);
        // SAFETY: `fd` is the duplicate made above, owned here and handed over.
        let sock = unsafe { Socket::from_raw_fd_checked(fd) }.unwrap();
        if explicit {
            assert_eq!(sock.close(), Ok(()));
        } else {
            drop(sock);
        }
        assert!(!is_open(fd));
    }
}

#[test]
fn owned_fd_round_trip_through_from_raw_fd() {
    let (a, b) = unix_pair(libc::SOCK_DGRAM);
    let owned = OwnedFd::from(a);
    let fd = owned.into_raw_fd();
    // SAFETY: `fd` came out of the OwnedFd above and is adopted exactly once.
    let a = unsafe { Socket::from_raw_fd_checked(fd) }.unwrap();
    assert_eq!(a.socktype(), libc::SOCK_DGRAM);
    a.send(b"d", 0).unwrap();
    assert_eq!(recv_exact(&b, 1), b"d");
}

#[test]
fn unix_dgram_pair_sender_has_no_address() {
    let (a, b) = unix_pair(libc::SOCK_DGRAM);
    a.send(b"anon", 0).unwrap();
    let mut buf = [0; 8];
    let (n, from) = b.recv_from_into(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"anon");
    // An unbound sender: the kernel returns no address at all (length 0),
    // which decodes as family AF_UNSPEC. Python returns None here.
    assert_eq!(from, Address::Other(libc::AF_UNSPEC));
}

#[test]
fn recv_into_an_empty_buffer_returns_zero_at_once() {
    let (_a, mut b) = tcp_pair(libc::AF_INET);
    for timeout in [Some(WAIT), Some(Duration::ZERO), None] {
        b.set_timeout(timeout).unwrap();
        bound_blocking(&b, WAIT);
        let start = Instant::now();
        assert_eq!(b.recv_into(&mut [], 0), Ok(0), "{timeout:?}");
        assert!(start.elapsed() < WAIT);
    }
}
