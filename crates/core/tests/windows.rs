//! What is Windows' own: Winsock's codes and names, the calls that stand in for
//! the ones it lacks, and the EOPNOTSUPP of what it has not. Real loopback
//! sockets, as the Unix suites; empty on Unix.
//!
//! On Linux they run under wine with `npm run test:windows` (scripts/test-windows.mjs
//! builds every core test for x86_64-pc-windows-gnu and runs each executable).
//!
//! (wine 8 has no AF_UNIX sockets: that test says so and passes.)
#![cfg(windows)]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::windows::io::{AsRawSocket, RawSocket};
use std::time::Duration;

use bsd_sockets_core::{
    getaddrinfo, getnameinfo, select, AddrInfoHints, Address, Backend, Errno, Events, Interest,
    Poller, Selected, Socket,
};
use windows_sys::Win32::Networking::WinSock as ws;

const AF_INET: i32 = ws::AF_INET as i32;
const AF_UNIX: i32 = ws::AF_UNIX as i32;
const STREAM: i32 = ws::SOCK_STREAM;
const DGRAM: i32 = ws::SOCK_DGRAM;
const WAIT: Duration = Duration::from_secs(5);
const SHORT: Duration = Duration::from_millis(50);

fn v4(port: u16) -> Address {
    Address::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

fn raw(s: &Socket) -> RawSocket {
    s.as_raw_socket()
}

/// A listener, a client connected to it (blocking) and the accepted server side.
fn tcp_pair() -> (Socket, Socket) {
    let listener = Socket::new(AF_INET, STREAM, 0).unwrap();
    listener.bind(&v4(0)).unwrap();
    listener.listen(1).unwrap();
    let client = Socket::new(AF_INET, STREAM, 0).unwrap();
    client.connect(&listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

#[test]
fn errnos_are_winsock_codes_with_their_names() {
    assert_eq!(Errno::EWOULDBLOCK.raw(), ws::WSAEWOULDBLOCK);
    assert_eq!(Errno::EAGAIN, Errno::EWOULDBLOCK);
    assert_eq!(Errno::EAGAIN.name(), Some("WSAEWOULDBLOCK"));
    assert_eq!(Errno::ECONNREFUSED.name(), Some("WSAECONNREFUSED"));
    assert_eq!(Errno::ECANCELED.name(), Some("WSAECANCELLED"));
    assert!(Errno::EWOULDBLOCK.is_would_block());
    assert!(Errno::ECONNREFUSED
        .to_string()
        .starts_with("WSAECONNREFUSED: "));
    // By the POSIX names the code tests against, Winsock's values; all below the bound.
    assert!(Errno::consts().any(|(name, e)| name == "EAGAIN" && e.raw() == ws::WSAEWOULDBLOCK));
    assert!(Errno::consts().all(|(_, e)| (0..Errno::BOUND).contains(&e.raw())));
    // The C runtime's numbers are no Win32 codes: no text of another error.
    assert_eq!(Errno::EEXIST.to_string(), "EEXIST");
}

#[test]
fn a_new_socket_knows_its_family_type_and_protocol_before_bind() {
    let s = Socket::new(AF_INET, STREAM, 0).unwrap();
    assert_eq!(
        (s.family(), s.socktype(), s.protocol()),
        (AF_INET, STREAM, ws::IPPROTO_TCP)
    );
    s.setsockopt_int(ws::SOL_SOCKET, ws::SO_REUSEADDR, 1)
        .unwrap();
    assert_eq!(s.getsockopt_int(ws::SOL_SOCKET, ws::SO_REUSEADDR), Ok(1));
}

#[test]
fn nonblocking_connect_says_wouldblock_and_select_sees_it_finish() {
    let listener = Socket::new(AF_INET, STREAM, 0).unwrap();
    listener.bind(&v4(0)).unwrap();
    listener.listen(1).unwrap();
    let mut client = Socket::new(AF_INET, STREAM, 0).unwrap();
    client.set_timeout(Some(Duration::ZERO)).unwrap();
    let rc = client.connect_ex(&listener.local_addr().unwrap());
    assert!(rc == ws::WSAEWOULDBLOCK || rc == 0, "{rc}");
    let ready = select(&[], &[raw(&client)], &[], Some(WAIT)).unwrap();
    assert_eq!(ready.write, [0]);
}

#[test]
fn modes_wouldblock_and_time_out() {
    let (client, mut server) = tcp_pair();
    let mut buf = [0u8; 8];
    server.set_timeout(Some(Duration::ZERO)).unwrap();
    assert_eq!(server.recv_into(&mut buf, 0), Err(Errno::EWOULDBLOCK));
    server.set_timeout(Some(SHORT)).unwrap();
    assert_eq!(server.recv_into(&mut buf, 0), Err(Errno::ETIMEDOUT));
    // The exceptional set is POLLRDBAND there (WSAPoll refuses POLLPRI).
    assert_eq!(
        select(&[raw(&server)], &[], &[raw(&server)], Some(SHORT)),
        Ok(Selected::default())
    );
    client.send(b"data", 0).unwrap();
    server.set_timeout(None).unwrap();
    assert_eq!(server.recv_into(&mut buf, 0), Ok(4));
    client.shutdown(ws::SD_SEND).unwrap();
    assert_eq!(server.recv_into(&mut buf, 0), Ok(0));
}

#[test]
fn the_poller_runs_on_wsapoll_with_the_same_contract() {
    let (client, server) = tcp_pair();
    let mut poller = Poller::new().unwrap();
    assert_eq!(poller.backend(), Backend::Poll);
    assert_eq!(Backend::available(), [Backend::Poll]);
    let mut events = Events::with_capacity(4);
    poller
        .register(raw(&server), 7, Interest::READABLE)
        .unwrap();
    assert_eq!(
        poller.register(raw(&server), 7, Interest::READABLE),
        Err(Errno::EEXIST)
    );
    assert_eq!(poller.poll(&mut events, Some(SHORT)), Ok(0));
    client.send(b"x", 0).unwrap();
    assert_eq!(poller.poll(&mut events, Some(WAIT)), Ok(1));
    let event = events.iter().next().unwrap();
    assert_eq!(event.key, 7);
    assert!(event.readiness.is_readable());
    poller.unregister(raw(&server)).unwrap();
    assert_eq!(poller.unregister(raw(&server)), Err(Errno::ENOENT));
    // No socket at all: WSAPoll refuses an empty set, the Poller sleeps instead.
    assert_eq!(poller.poll(&mut events, Some(SHORT)), Ok(0));
    let closed = Socket::new(AF_INET, STREAM, 0).unwrap();
    let gone = raw(&closed);
    closed.close().unwrap();
    assert_eq!(
        poller.register(gone, 1, Interest::READABLE),
        Err(Errno::EBADF)
    );
}

#[test]
fn socketpair_is_a_loopback_connection_as_python_makes_it() {
    let (a, b) = Socket::pair(AF_INET, STREAM, 0).unwrap();
    assert_eq!(a.peer_addr(), b.local_addr());
    a.send(b"pair", 0).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(b.recv_into(&mut buf, 0), Ok(4));
    assert_eq!(
        Socket::pair(AF_UNIX, STREAM, 0).map(drop),
        Err(Errno::EAFNOSUPPORT)
    );
    assert_eq!(
        Socket::pair(AF_INET, DGRAM, 0).map(drop),
        Err(Errno::EOPNOTSUPP)
    );
}

#[test]
fn the_resolver_answers_before_any_socket_and_names_its_errors() {
    let hints = AddrInfoHints {
        family: AF_INET,
        socktype: STREAM,
        ..AddrInfoHints::default()
    };
    let found = getaddrinfo(Some("localhost"), Some("80"), hints).unwrap();
    assert!(found.iter().any(|a| a.address == v4(80)), "{found:?}");
    let err =
        getaddrinfo(Some("no-such-host.invalid"), None, AddrInfoHints::default()).unwrap_err();
    assert_eq!(err.name(), Some("EAI_NONAME"));
    assert!(!err.message().is_empty());
    let flags = (ws::NI_NUMERICHOST | ws::NI_NUMERICSERV) as i32;
    assert_eq!(
        getnameinfo(&v4(80), flags),
        Ok(("127.0.0.1".into(), "80".into()))
    );
}

#[test]
fn what_windows_lacks_is_eopnotsupp() {
    let (_client, server) = tcp_pair();
    assert_eq!(server.tcp_info().map(drop), Err(Errno::EOPNOTSUPP));
    assert_eq!(
        server.recvmsg(&mut [], 0, 0).map(drop),
        Err(Errno::EOPNOTSUPP)
    );
    assert_eq!(server.sendmsg(&[], &[], 0, None), Err(Errno::EOPNOTSUPP));
    let udp = Socket::new(AF_INET, DGRAM, 0).unwrap();
    udp.bind(&v4(0)).unwrap();
    let me = udp.local_addr().unwrap();
    assert_eq!(
        udp.send_many(&[b"x"], std::slice::from_ref(&me), 0),
        Err(Errno::EOPNOTSUPP)
    );
    assert_eq!(udp.send_to(b"dgram", 0, &me), Ok(5));
    let mut buf = [0u8; 8];
    assert_eq!(udp.recv_from_into(&mut buf, 0), Ok((5, me)));
    assert_eq!(
        Address::Unix(b"\0abstract".to_vec())
            .to_sockaddr()
            .map(drop),
        Err(Errno::EOPNOTSUPP)
    );
}

#[test]
fn an_adopted_socket_is_checked_and_blocking() {
    let (_client, server) = tcp_pair();
    let handle = server.try_clone().unwrap().into_raw_fd();
    // SAFETY: `handle` is a socket this test owns and gives up here.
    let adopted = unsafe { Socket::from_raw_fd_checked(handle) }.unwrap();
    assert_eq!((adopted.family(), adopted.timeout()), (AF_INET, None));
    // SAFETY: a number that is no socket; on error nothing is taken.
    let refused = unsafe { Socket::from_raw_fd_checked(12345) }.map(drop);
    assert_eq!(refused, Err(Errno::ENOTSOCK));
}

#[test]
fn unix_sockets_where_windows_has_them() {
    let Ok(sock) = Socket::new(AF_UNIX, STREAM, 0) else {
        // wine 8 has no AF_UNIX (WSAEAFNOSUPPORT); Windows 10 1803 and later do.
        return;
    };
    let path = std::env::temp_dir().join(format!("bsd-sockets-{}.sock", std::process::id()));
    let bytes = path.to_str().unwrap().as_bytes().to_vec();
    sock.bind(&Address::Unix(bytes.clone())).unwrap();
    assert_eq!(sock.local_addr(), Ok(Address::Unix(bytes)));
    let _ = std::fs::remove_file(path);
}

#[test]
fn blocking_mode_waits_in_wsapoll_and_msg_dontwait_never_waits() {
    let (client, server) = tcp_pair();
    let mut buf = [0u8; 8];
    // Blocking mode on a socket that is non-blocking underneath: the call still
    // waits for the peer, here one that writes from another thread later.
    let writer = std::thread::spawn(move || {
        std::thread::sleep(SHORT);
        client.send(b"late", 0).unwrap();
        client
    });
    assert_eq!(server.timeout(), None);
    assert_eq!(server.recv_into(&mut buf, 0), Ok(4));
    assert_eq!(&buf[..4], b"late");
    let _client = writer.join().unwrap();
    // The same blocking socket, one call told not to wait: Winsock never sees the bit.
    let dontwait = bsd_sockets_core::io::MSG_DONTWAIT;
    assert_eq!(
        server.recv_into(&mut buf, dontwait),
        Err(Errno::EWOULDBLOCK)
    );
    let fd = std::os::windows::io::AsSocket::as_socket(&server);
    assert_eq!(
        bsd_sockets_core::io::recv(fd, &mut buf, dontwait, None),
        Err(Errno::EWOULDBLOCK)
    );
}
