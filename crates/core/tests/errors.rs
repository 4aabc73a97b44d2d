//! Every errno the core documents, provoked for real on loopback and asserted
//! by value. EPIPE and EINTR, which involve signals, are in `signals.rs`.
#![cfg(unix)]

mod util;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::thread;
use std::time::{Duration, Instant};

use bsd_sockets_core::{Address, Errno, Socket};
use util::{
    closed_fd, is_open, loopback, socket, tcp_listener, tcp_pair, udp_socket, unix_pair, v4, v6,
    WAIT,
};

const SHORT: Duration = Duration::from_millis(50);

#[test]
fn errno_names_come_from_the_platform() {
    assert_eq!(Errno::EAGAIN.name(), Some("EAGAIN"));
    // On Linux EWOULDBLOCK is the same number and must print as EAGAIN.
    if libc::EWOULDBLOCK == libc::EAGAIN {
        assert_eq!(Errno::EWOULDBLOCK.name(), Some("EAGAIN"));
    }
    assert_eq!(Errno::ECONNREFUSED.name(), Some("ECONNREFUSED"));
    assert_eq!(Errno::ECONNREFUSED.raw(), libc::ECONNREFUSED);
    assert_eq!(Errno::from_raw(libc::EPIPE), Errno::EPIPE);
    assert_eq!(Errno::from_raw(99_999).name(), None);
    assert_eq!(Errno::from_raw(0).name(), None);
    assert_eq!(Errno::from_raw(-1).name(), None);
    assert_eq!(format!("{:?}", Errno::ETIMEDOUT), "ETIMEDOUT");
    assert_eq!(format!("{:?}", Errno::from_raw(99_999)), "Errno(99999)");
    assert!(format!("{}", Errno::ECONNRESET).starts_with("ECONNRESET: "));
    assert!(Errno::EAGAIN.is_would_block());
    assert!(Errno::EWOULDBLOCK.is_would_block());
    assert!(!Errno::EINTR.is_would_block());
}

#[test]
fn every_errno_is_below_the_bound_a_count_packs_above() {
    assert!(Errno::consts().any(|(name, e)| name == "EAGAIN" && e == Errno::EAGAIN));
    assert!(Errno::consts().all(|(_, e)| (0..Errno::BOUND).contains(&e.raw())));
}

#[test]
fn errno_converts_to_and_from_io_error() {
    let io: std::io::Error = Errno::ECONNRESET.into();
    assert_eq!(io.raw_os_error(), Some(libc::ECONNRESET));
    assert_eq!(Errno::from(io), Errno::ECONNRESET);
    // A library error without an OS number is the nearest errno for a bad argument.
    let custom = std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad");
    assert_eq!(Errno::from(custom), Errno::EINVAL);
}

#[test]
fn eagain_on_nonblocking_recv_and_accept() {
    let (mut listener, addr) = tcp_listener(libc::AF_INET);
    listener.set_timeout(Some(Duration::ZERO)).unwrap();
    assert_eq!(listener.accept().err(), Some(Errno::EAGAIN));

    let client = socket(libc::AF_INET, libc::SOCK_STREAM);
    client.connect(&addr).unwrap();
    listener.set_timeout(Some(WAIT)).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    server.set_timeout(Some(Duration::ZERO)).unwrap();
    let mut buf = [0; 16];
    assert_eq!(server.recv_into(&mut buf, 0), Err(Errno::EAGAIN));

    let (mut udp, _) = udp_socket(libc::AF_INET6);
    udp.set_timeout(Some(Duration::ZERO)).unwrap();
    assert_eq!(udp.recv_from_into(&mut buf, 0).err(), Some(Errno::EAGAIN));
}

#[test]
fn eagain_on_nonblocking_send_to_a_full_buffer() {
    let (mut a, _b) = unix_pair(libc::SOCK_STREAM);
    a.set_timeout(Some(Duration::ZERO)).unwrap();
    let chunk = vec![7; 1 << 16];
    let mut total = 0;
    let err = loop {
        match a.send(&chunk, 0) {
            Ok(n) => total += n,
            Err(e) => break e,
        }
        assert!(total < 1 << 30, "send buffer never filled");
    };
    assert_eq!(err, Errno::EAGAIN);
    assert!(total > 0);
}

#[test]
fn einprogress_on_nonblocking_connect() {
    for family in [libc::AF_INET, libc::AF_INET6] {
        let (listener, addr) = tcp_listener(family);
        let mut client = Socket::new(family, libc::SOCK_STREAM, 0).unwrap();
        client.set_timeout(Some(Duration::ZERO)).unwrap();
        assert_eq!(client.connect(&addr), Err(Errno::EINPROGRESS));
        // It completes: writable, no SO_ERROR, and the listener sees it.
        let ready = bsd_sockets_core::select(&[], &[client.as_raw_fd()], &[], Some(WAIT)).unwrap();
        assert_eq!(ready.write, [0]);
        assert_eq!(
            client.getsockopt_int(libc::SOL_SOCKET, libc::SO_ERROR),
            Ok(0)
        );
        let (_server, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        // Linux answers the first connect after completion with success (the
        // "connect again to learn the outcome" idiom); from then on EISCONN.
        let again = client.connect(&addr);
        assert!(again.is_ok() || again == Err(Errno::EISCONN), "{again:?}");
        assert_eq!(client.connect(&addr), Err(Errno::EISCONN));
        assert_eq!(client.connect_ex(&addr), libc::EISCONN);
    }
}

#[test]
fn connect_ex_returns_the_errno_as_a_value() {
    let (_holder, refused) = unlistened_port(libc::AF_INET);
    let client = socket(libc::AF_INET, libc::SOCK_STREAM);
    assert_eq!(client.connect_ex(&refused), libc::ECONNREFUSED);
    let (_listener, addr) = tcp_listener(libc::AF_INET);
    let client = socket(libc::AF_INET, libc::SOCK_STREAM);
    assert_eq!(client.connect_ex(&addr), 0);
    // An address the kernel cannot take fails the same way: a value, not an Err.
    let unix = Socket::new(libc::AF_UNIX, libc::SOCK_STREAM, 0).unwrap();
    let long = Address::Unix(vec![b'x'; 4096]);
    assert_eq!(unix.connect_ex(&long), libc::ENAMETOOLONG);
}

/// A loopback port that is bound (so nobody else takes it) but not listening.
fn unlistened_port(family: i32) -> (Socket, Address) {
    let sock = Socket::new(family, libc::SOCK_STREAM, 0).unwrap();
    sock.bind(&loopback(family)).unwrap();
    let addr = sock.local_addr().unwrap();
    (sock, addr)
}

#[test]
fn econnrefused_on_a_bound_but_unlistened_port() {
    for family in [libc::AF_INET, libc::AF_INET6] {
        let (_holder, addr) = unlistened_port(family);
        // Timed mode: EINPROGRESS, then the refusal read from SO_ERROR.
        let client = socket(family, libc::SOCK_STREAM);
        assert_eq!(client.connect(&addr), Err(Errno::ECONNREFUSED));
        // Blocking mode: connect(2) itself fails.
        let client = Socket::new(family, libc::SOCK_STREAM, 0).unwrap();
        util::bound_blocking(&client, WAIT);
        assert_eq!(client.connect(&addr), Err(Errno::ECONNREFUSED));
    }
}

#[test]
fn econnrefused_on_a_just_closed_listeners_port() {
    let (listener, addr) = tcp_listener(libc::AF_INET);
    drop(listener);
    let client = socket(libc::AF_INET, libc::SOCK_STREAM);
    assert_eq!(client.connect(&addr), Err(Errno::ECONNREFUSED));
}

#[test]
fn econnrefused_in_so_error_after_nonblocking_connect() {
    let (_holder, addr) = unlistened_port(libc::AF_INET);
    let mut client = Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
    client.set_timeout(Some(Duration::ZERO)).unwrap();
    match client.connect(&addr) {
        Err(e) if e == Errno::EINPROGRESS => {
            let ready =
                bsd_sockets_core::select(&[], &[client.as_raw_fd()], &[], Some(WAIT)).unwrap();
            assert_eq!(ready.write, [0]);
            let err = client.getsockopt_int(libc::SOL_SOCKET, libc::SO_ERROR);
            assert_eq!(err, Ok(libc::ECONNREFUSED));
        }
        // Some kernels refuse a loopback connect synchronously.
        other => assert_eq!(other, Err(Errno::ECONNREFUSED)),
    }
}

#[test]
fn econnrefused_on_udp_to_a_closed_port() {
    // A connected UDP socket gets the ICMP port-unreachable as ECONNREFUSED.
    let (holder, target) = udp_socket(libc::AF_INET);
    drop(holder);
    let (client, _) = udp_socket(libc::AF_INET);
    client.connect(&target).unwrap();
    client.send(b"anyone?", 0).unwrap();
    let mut buf = [0; 8];
    assert_eq!(client.recv_into(&mut buf, 0), Err(Errno::ECONNREFUSED));
}

#[test]
fn eaddrinuse_on_a_second_bind() {
    for family in [libc::AF_INET, libc::AF_INET6] {
        for socktype in [libc::SOCK_STREAM, libc::SOCK_DGRAM] {
            let first = Socket::new(family, socktype, 0).unwrap();
            first.bind(&loopback(family)).unwrap();
            let addr = first.local_addr().unwrap();
            let second = Socket::new(family, socktype, 0).unwrap();
            assert_eq!(
                second.bind(&addr),
                Err(Errno::EADDRINUSE),
                "{family} {socktype}"
            );
        }
    }
}

#[test]
fn eaddrinuse_on_a_second_unix_bind() {
    let dir = tempfile::tempdir().unwrap();
    let path = Address::Unix(
        dir.path()
            .join("sock")
            .into_os_string()
            .into_encoded_bytes(),
    );
    let first = Socket::new(libc::AF_UNIX, libc::SOCK_STREAM, 0).unwrap();
    first.bind(&path).unwrap();
    let second = Socket::new(libc::AF_UNIX, libc::SOCK_STREAM, 0).unwrap();
    assert_eq!(second.bind(&path), Err(Errno::EADDRINUSE));
}

#[test]
fn einval_on_binding_twice_and_on_bad_arguments() {
    let (sock, _) = udp_socket(libc::AF_INET);
    assert_eq!(sock.bind(&v4(0)), Err(Errno::EINVAL));
    let (a, _b) = tcp_pair(libc::AF_INET);
    assert_eq!(a.shutdown(12345), Err(Errno::EINVAL));
}

#[test]
fn einval_on_accept_without_listen() {
    let sock = socket(libc::AF_INET, libc::SOCK_STREAM);
    sock.bind(&v4(0)).unwrap();
    assert_eq!(sock.accept().err(), Some(Errno::EINVAL));
}

#[test]
fn eopnotsupp_on_listen_on_a_datagram_socket() {
    let (sock, _) = udp_socket(libc::AF_INET);
    assert_eq!(sock.listen(1), Err(Errno::EOPNOTSUPP));
}

#[test]
fn eafnosupport_on_a_mismatched_family() {
    let sock = Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
    assert_eq!(sock.bind(&v6(0)), Err(Errno::EAFNOSUPPORT));
    // An address family the crate does not encode never reaches the kernel.
    assert_eq!(
        Address::Other(libc::AF_UNSPEC).to_sockaddr().err(),
        Some(Errno::EAFNOSUPPORT)
    );
    assert_eq!(
        sock.connect(&Address::Other(12345)),
        Err(Errno::EAFNOSUPPORT)
    );
    assert_eq!(
        Socket::new(12345, libc::SOCK_STREAM, 0).err(),
        Some(Errno::EAFNOSUPPORT)
    );
}

#[test]
fn etimedout_from_timed_recv() {
    let (_a, mut b) = tcp_pair(libc::AF_INET);
    b.set_timeout(Some(SHORT)).unwrap();
    let start = Instant::now();
    let mut buf = [0; 4];
    assert_eq!(b.recv_into(&mut buf, 0), Err(Errno::ETIMEDOUT));
    assert!(start.elapsed() >= SHORT, "returned before the deadline");

    let (mut udp, _) = udp_socket(libc::AF_INET6);
    udp.set_timeout(Some(SHORT)).unwrap();
    assert_eq!(
        udp.recv_from_into(&mut buf, 0).err(),
        Some(Errno::ETIMEDOUT)
    );
}

#[test]
fn etimedout_from_timed_accept() {
    let (mut listener, _) = tcp_listener(libc::AF_INET);
    listener.set_timeout(Some(SHORT)).unwrap();
    let start = Instant::now();
    assert_eq!(listener.accept().err(), Some(Errno::ETIMEDOUT));
    assert!(start.elapsed() >= SHORT, "returned before the deadline");
}

#[test]
fn etimedout_from_timed_sendall_keeps_progress() {
    let (mut a, _b) = unix_pair(libc::SOCK_STREAM);
    a.set_timeout(Some(SHORT)).unwrap();
    let data = vec![1; 64 << 20];
    let mut sent = 0;
    assert_eq!(a.sendall(&data, 0, &mut sent), Err(Errno::ETIMEDOUT));
    assert!(sent > 0 && sent < data.len(), "sent = {sent}");
}

#[test]
fn enotconn_on_an_unconnected_tcp_socket() {
    for family in [libc::AF_INET, libc::AF_INET6] {
        let sock = socket(family, libc::SOCK_STREAM);
        let mut buf = [0; 4];
        assert_eq!(sock.recv_into(&mut buf, 0), Err(Errno::ENOTCONN));
        assert_eq!(sock.peer_addr().err(), Some(Errno::ENOTCONN));
        assert_eq!(sock.shutdown(libc::SHUT_RDWR), Err(Errno::ENOTCONN));
    }
}

#[test]
fn enotconn_or_epipe_on_send_from_an_unconnected_tcp_socket() {
    let sock = socket(libc::AF_INET, libc::SOCK_STREAM);
    // Linux says EPIPE here (sending on a never-connected stream), BSDs ENOTCONN.
    let err = sock.send(b"x", 0).unwrap_err();
    assert!(err == Errno::EPIPE || err == Errno::ENOTCONN, "{err:?}");
}

#[test]
fn edestaddrreq_or_enotconn_on_unconnected_udp_send() {
    let (sock, _) = udp_socket(libc::AF_INET);
    let err = sock.send(b"x", 0).unwrap_err();
    assert!(
        err == Errno::EDESTADDRREQ || err == Errno::ENOTCONN,
        "{err:?}"
    );
}

#[test]
fn econnreset_when_the_peer_aborts_with_linger_zero() {
    let (a, b) = tcp_pair(libc::AF_INET);
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    a.setsockopt_bytes(libc::SOL_SOCKET, libc::SO_LINGER, util::as_bytes(&linger))
        .unwrap();
    drop(a); // close(2) with linger {on, 0}: an RST instead of a FIN.
    let mut buf = [0; 4];
    assert_eq!(b.recv_into(&mut buf, 0), Err(Errno::ECONNRESET));
    // Reported once; the connection is now simply gone.
    let next = b.recv_into(&mut buf, 0);
    assert!(next == Ok(0) || next == Err(Errno::ENOTCONN), "{next:?}");
}

#[test]
fn econnreset_when_the_peer_closes_with_unread_data() {
    let (a, b) = tcp_pair(libc::AF_INET6);
    b.send(b"never read", 0).unwrap();
    // Let the bytes reach a's receive queue; closing then sends an RST.
    thread::sleep(Duration::from_millis(20));
    drop(a);
    let mut buf = [0; 4];
    assert_eq!(b.recv_into(&mut buf, 0), Err(Errno::ECONNRESET));
}

#[test]
fn ebadf_from_from_raw_fd_checked_on_a_closed_fd() {
    let fd = closed_fd();
    // SAFETY: `fd` is not open; the call must fail without touching it.
    let err = unsafe { Socket::from_raw_fd_checked(fd) }.unwrap_err();
    assert_eq!(err, Errno::EBADF);
    assert!(!is_open(fd));
    // SAFETY: -1 is never a valid descriptor; nothing is taken over.
    let err = unsafe { Socket::from_raw_fd_checked(-1) }.unwrap_err();
    assert_eq!(err, Errno::EBADF);
}

/// An open pipe: (read end, write end).
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds: [RawFd; 2] = [-1; 2];
    // SAFETY: `fds` is a valid out-array of two ints.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: pipe(2) just opened both; each is owned once.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

#[test]
fn enotsock_from_from_raw_fd_checked_on_a_pipe_leaves_it_open() {
    let (read, write) = pipe();
    for fd in [read.as_raw_fd(), write.as_raw_fd()] {
        // SAFETY: on error the fd stays the caller's (`read`/`write` still own it).
        let err = unsafe { Socket::from_raw_fd_checked(fd) }.unwrap_err();
        assert_eq!(err, Errno::ENOTSOCK);
        assert!(is_open(fd));
    }
    // The pipe still works end to end.
    // SAFETY: both fds are open and owned by `read`/`write`; buffers are valid.
    unsafe {
        assert_eq!(libc::write(write.as_raw_fd(), b"ok".as_ptr().cast(), 2), 2);
        let mut buf = [0u8; 2];
        assert_eq!(libc::read(read.as_raw_fd(), buf.as_mut_ptr().cast(), 2), 2);
        assert_eq!(&buf, b"ok");
    }
}

#[test]
fn enoent_and_econnrefused_on_unix_connect() {
    let dir = tempfile::tempdir().unwrap();
    let missing = Address::Unix(
        dir.path()
            .join("nobody")
            .into_os_string()
            .into_encoded_bytes(),
    );
    let sock = socket(libc::AF_UNIX, libc::SOCK_STREAM);
    assert_eq!(sock.connect(&missing), Err(Errno::ENOENT));

    // A path bound by a socket that is not listening.
    let path = Address::Unix(
        dir.path()
            .join("bound")
            .into_os_string()
            .into_encoded_bytes(),
    );
    let bound = Socket::new(libc::AF_UNIX, libc::SOCK_STREAM, 0).unwrap();
    bound.bind(&path).unwrap();
    let sock = socket(libc::AF_UNIX, libc::SOCK_STREAM);
    assert_eq!(sock.connect(&path), Err(Errno::ECONNREFUSED));
}

#[test]
fn emsgsize_on_an_oversized_datagram() {
    let (sock, _) = udp_socket(libc::AF_INET);
    let (_, target) = udp_socket(libc::AF_INET);
    let big = vec![0; 70_000];
    assert_eq!(sock.send_to(&big, 0, &target), Err(Errno::EMSGSIZE));
}

// Linux drops a SYN when the accept queue is full, so the connect stays
// pending; other kernels may refuse it at once instead.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn etimedout_from_timed_connect_to_a_full_backlog() {
    let listener = socket(libc::AF_INET, libc::SOCK_STREAM);
    listener.bind(&v4(0)).unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    let mut last = Ok(());
    // Fill the queue; the first connect that cannot complete times out.
    for _ in 0..16 {
        let mut client = Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
        client
            .set_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        last = client.connect(&addr);
        held.push(client);
        if last.is_err() {
            break;
        }
    }
    assert_eq!(last, Err(Errno::ETIMEDOUT));
}
