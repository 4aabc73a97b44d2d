//! Helpers shared by the integration tests: loopback sockets with a safety
//! timeout on every blocking call, and fd inspection through fcntl(2).

// Each test binary compiles this module and uses a different subset of it.
#![allow(dead_code)]

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::thread::JoinHandleExt;
use std::thread::JoinHandle;
use std::time::Duration;

use bsd_sockets_core::{Address, Errno, Socket};

/// Upper bound for any call a test expects to complete: long enough for a
/// loaded CI machine, short enough that a regression fails instead of hanging.
pub const WAIT: Duration = Duration::from_secs(5);

/// `127.0.0.1:port`.
pub fn v4(port: u16) -> Address {
    Address::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// `[::1]:port`.
pub fn v6(port: u16) -> Address {
    Address::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, port, 0, 0))
}

/// The loopback address of `family` with an ephemeral port.
pub fn loopback(family: i32) -> Address {
    match family {
        libc::AF_INET => v4(0),
        libc::AF_INET6 => v6(0),
        _ => panic!("no loopback address for family {family}"),
    }
}

/// The port of an IP address.
pub fn port(addr: &Address) -> u16 {
    match addr {
        Address::V4(a) => a.port(),
        Address::V6(a) => a.port(),
        other => panic!("no port in {other:?}"),
    }
}

/// A socket of `family`/`socktype` in timed mode ([`WAIT`]), so nothing blocks forever.
pub fn socket(family: i32, socktype: i32) -> Socket {
    let mut sock = Socket::new(family, socktype, 0).expect("socket");
    sock.set_timeout(Some(WAIT)).expect("set_timeout");
    sock
}

/// A TCP listener on loopback, port 0, and the address it got.
pub fn tcp_listener(family: i32) -> (Socket, Address) {
    let sock = socket(family, libc::SOCK_STREAM);
    sock.bind(&loopback(family)).expect("bind");
    sock.listen(16).expect("listen");
    let addr = sock.local_addr().expect("local_addr");
    (sock, addr)
}

/// A connected TCP pair over loopback: (client, accepted server side), both timed.
pub fn tcp_pair(family: i32) -> (Socket, Socket) {
    let (listener, addr) = tcp_listener(family);
    let client = socket(family, libc::SOCK_STREAM);
    client.connect(&addr).expect("connect");
    let (mut server, _) = listener.accept().expect("accept");
    server.set_timeout(Some(WAIT)).expect("set_timeout");
    (client, server)
}

/// A bound UDP socket on loopback and its address.
pub fn udp_socket(family: i32) -> (Socket, Address) {
    let sock = socket(family, libc::SOCK_DGRAM);
    sock.bind(&loopback(family)).expect("bind");
    let addr = sock.local_addr().expect("local_addr");
    (sock, addr)
}

/// A connected AF_UNIX pair, both timed.
pub fn unix_pair(socktype: i32) -> (Socket, Socket) {
    let (mut a, mut b) = Socket::pair(libc::AF_UNIX, socktype, 0).expect("socketpair");
    a.set_timeout(Some(WAIT)).expect("set_timeout");
    b.set_timeout(Some(WAIT)).expect("set_timeout");
    (a, b)
}

/// Bounds the blocking-mode calls of a test with SO_RCVTIMEO/SO_SNDTIMEO: a
/// hung call then fails with EAGAIN instead of hanging the test run.
pub fn bound_blocking(sock: &Socket, limit: Duration) {
    let tv = libc::timeval {
        // `as _`, not `as libc::time_t`: on musl the libc crate marks those
        // aliases deprecated (they change size in musl 1.2), which -D warnings rejects.
        tv_sec: limit.as_secs() as _,
        tv_usec: limit.subsec_micros() as _,
    };
    for name in [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO] {
        sock.setsockopt_bytes(libc::SOL_SOCKET, name, as_bytes(&tv))
            .expect("SO_RCVTIMEO/SO_SNDTIMEO");
    }
}

/// Sends `signal` to the thread of `handle` with pthread_kill(3), asserting it was sent.
pub fn signal_thread<T>(handle: &JoinHandle<T>, signal: i32) {
    // `as _`: std's RawPthread is an integer, libc's pthread_t an integer in
    // glibc but a pointer in musl.
    let tid = handle.as_pthread_t() as _;
    // SAFETY: the thread is not joined yet (we borrow its handle), so its id is valid.
    assert_eq!(unsafe { libc::pthread_kill(tid, signal) }, 0);
}

/// The bytes of a plain C struct, for setsockopt_bytes.
pub fn as_bytes<T: Copy>(value: &T) -> &[u8] {
    // SAFETY: `value` is a live, initialized plain-data C struct; reading its
    // bytes (padding included, which the kernel ignores) is sound for u8.
    unsafe { std::slice::from_raw_parts((value as *const T).cast(), std::mem::size_of::<T>()) }
}

/// fcntl(F_GETFD) flags, panicking on error.
fn fd_flags(fd: RawFd) -> libc::c_int {
    // SAFETY: F_GETFD only reads the descriptor table.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    assert!(flags >= 0, "F_GETFD on {fd}: {:?}", Errno::last());
    flags
}

/// True when `fd` has FD_CLOEXEC.
pub fn is_cloexec(fd: &impl AsRawFd) -> bool {
    fd_flags(fd.as_raw_fd()) & libc::FD_CLOEXEC != 0
}

/// True when `fd` is open (F_GETFD succeeds).
pub fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor table.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// True when `fd` has O_NONBLOCK.
pub fn is_nonblocking(fd: &impl AsRawFd) -> bool {
    // SAFETY: F_GETFL only reads the open file description's flags.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    assert!(flags >= 0, "F_GETFL: {:?}", Errno::last());
    flags & libc::O_NONBLOCK != 0
}

/// Raises the soft RLIMIT_NOFILE to at least `min` (up to the hard limit).
pub fn raise_nofile(min: u64) {
    // SAFETY: rlimit is plain old data and a valid out-pointer for getrlimit.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    if (lim.rlim_cur as u64) < min {
        lim.rlim_cur = (min as libc::rlim_t).min(lim.rlim_max);
        // SAFETY: `lim` is a valid rlimit; raising the soft limit up to the hard one is allowed.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    }
}

/// Duplicates `fd` (CLOEXEC) onto the lowest free number >= `min`.
pub fn dup_at_least(fd: RawFd, min: RawFd) -> RawFd {
    raise_nofile(min as u64 + 64);
    // SAFETY: F_DUPFD_CLOEXEC creates a new descriptor the caller now owns.
    let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) };
    assert!(dup >= min, "F_DUPFD_CLOEXEC: {:?}", Errno::last());
    dup
}

/// A descriptor number that is not open.
///
/// Taken far above the numbers other tests of the same process allocate (the
/// kernel hands out the lowest free number), so no concurrent test can have
/// reopened it by the time it is used.
pub fn closed_fd() -> RawFd {
    let sock = Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).expect("socket");
    let fd = dup_at_least(sock.as_raw_fd(), 1500);
    // SAFETY: `fd` is the duplicate made just above and owned here.
    assert_eq!(unsafe { libc::close(fd) }, 0);
    assert!(!is_open(fd));
    fd
}

/// Reads exactly `n` bytes (or until EOF) from a timed socket.
pub fn recv_exact(sock: &Socket, n: usize) -> Vec<u8> {
    let mut out = vec![0; n];
    let mut got = 0;
    while got < n {
        let k = sock.recv_into(&mut out[got..], 0).expect("recv");
        if k == 0 {
            break;
        }
        got += k;
    }
    out.truncate(got);
    out
}
