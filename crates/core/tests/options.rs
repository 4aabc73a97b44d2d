//! Socket options through the raw setsockopt/getsockopt calls: one table row
//! per integer option (set, read back, differs from the default), then the
//! struct-valued and read-only ones.
#![cfg(unix)]

mod util;

use bsd_sockets_core::{Errno, Socket};
use util::{as_bytes, socket, tcp_pair, unix_pair};

/// One integer option: where it lives, the value to set, and how the
/// platform reports it back.
struct IntOption {
    name: &'static str,
    family: i32,
    socktype: i32,
    level: i32,
    option: i32,
    value: i32,
    readback: fn(set: i32, got: i32) -> bool,
}

/// Booleans read back as any non-zero value on some platforms.
fn truthy(set: i32, got: i32) -> bool {
    (set != 0) == (got != 0)
}

/// Linux doubles buffer sizes for its bookkeeping; others report them as set.
fn at_least(set: i32, got: i32) -> bool {
    got >= set
}

const INT_OPTIONS: &[IntOption] = &[
    IntOption {
        name: "SO_REUSEADDR",
        family: libc::AF_INET,
        socktype: libc::SOCK_STREAM,
        level: libc::SOL_SOCKET,
        option: libc::SO_REUSEADDR,
        value: 1,
        readback: truthy,
    },
    IntOption {
        name: "SO_REUSEPORT",
        family: libc::AF_INET,
        socktype: libc::SOCK_DGRAM,
        level: libc::SOL_SOCKET,
        option: libc::SO_REUSEPORT,
        value: 1,
        readback: truthy,
    },
    IntOption {
        name: "SO_KEEPALIVE",
        family: libc::AF_INET6,
        socktype: libc::SOCK_STREAM,
        level: libc::SOL_SOCKET,
        option: libc::SO_KEEPALIVE,
        value: 1,
        readback: truthy,
    },
    IntOption {
        name: "SO_BROADCAST",
        family: libc::AF_INET,
        socktype: libc::SOCK_DGRAM,
        level: libc::SOL_SOCKET,
        option: libc::SO_BROADCAST,
        value: 1,
        readback: truthy,
    },
    IntOption {
        name: "SO_RCVBUF",
        family: libc::AF_INET,
        socktype: libc::SOCK_STREAM,
        level: libc::SOL_SOCKET,
        option: libc::SO_RCVBUF,
        value: 100_000,
        readback: at_least,
    },
    IntOption {
        name: "SO_SNDBUF",
        family: libc::AF_INET,
        socktype: libc::SOCK_STREAM,
        level: libc::SOL_SOCKET,
        option: libc::SO_SNDBUF,
        value: 100_000,
        readback: at_least,
    },
    IntOption {
        name: "TCP_NODELAY",
        family: libc::AF_INET,
        socktype: libc::SOCK_STREAM,
        level: libc::IPPROTO_TCP,
        option: libc::TCP_NODELAY,
        value: 1,
        readback: truthy,
    },
    IntOption {
        name: "IPV6_V6ONLY",
        family: libc::AF_INET6,
        socktype: libc::SOCK_STREAM,
        level: libc::IPPROTO_IPV6,
        option: libc::IPV6_V6ONLY,
        // Set below to the opposite of the system's default.
        value: -1,
        readback: truthy,
    },
    IntOption {
        name: "IP_TTL",
        family: libc::AF_INET,
        socktype: libc::SOCK_DGRAM,
        level: libc::IPPROTO_IP,
        option: libc::IP_TTL,
        value: 7,
        readback: |set, got| set == got,
    },
];

#[test]
fn int_options_set_read_back_and_differ_from_default() {
    for row in INT_OPTIONS {
        let sock = Socket::new(row.family, row.socktype, 0).unwrap();
        let default = sock.getsockopt_int(row.level, row.option).unwrap();
        let value = if row.value == -1 {
            i32::from(default == 0)
        } else {
            row.value
        };
        sock.setsockopt_int(row.level, row.option, value)
            .unwrap_or_else(|e| panic!("set {}: {e}", row.name));
        let got = sock.getsockopt_int(row.level, row.option).unwrap();
        assert!(
            (row.readback)(value, got),
            "{}: set {value}, read back {got}",
            row.name
        );
        assert_ne!(got, default, "{}: still the default {default}", row.name);
    }
}

#[test]
fn bool_options_switch_back_off() {
    let sock = Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
    for option in [libc::SO_REUSEADDR, libc::SO_KEEPALIVE] {
        sock.setsockopt_int(libc::SOL_SOCKET, option, 1).unwrap();
        sock.setsockopt_int(libc::SOL_SOCKET, option, 0).unwrap();
        assert_eq!(sock.getsockopt_int(libc::SOL_SOCKET, option), Ok(0));
    }
}

#[test]
fn so_reuseaddr_lets_a_restarted_server_bind_its_port() {
    // A server that used SO_REUSEADDR closes with a connection still open
    // (its side then lingers in FIN_WAIT/TIME_WAIT); a new one binds the port again.
    let listener = socket(libc::AF_INET, libc::SOCK_STREAM);
    listener
        .setsockopt_int(libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)
        .unwrap();
    listener.bind(&util::v4(0)).unwrap();
    listener.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let client = socket(libc::AF_INET, libc::SOCK_STREAM);
    client.connect(&addr).unwrap();
    let (server, _) = listener.accept().unwrap();
    drop(server);
    drop(listener);

    let again = Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
    again
        .setsockopt_int(libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)
        .unwrap();
    again.bind(&addr).unwrap();
    again.listen(1).unwrap();
    drop(client);
}

#[test]
fn so_reuseport_lets_two_sockets_share_a_port() {
    let first = Socket::new(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap();
    first
        .setsockopt_int(libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)
        .unwrap();
    first.bind(&util::v4(0)).unwrap();
    let addr = first.local_addr().unwrap();
    let second = Socket::new(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap();
    second
        .setsockopt_int(libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)
        .unwrap();
    second.bind(&addr).unwrap();
    assert_eq!(second.local_addr(), Ok(addr));
}

#[test]
fn so_linger_as_a_struct() {
    let sock = Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
    let mut buf = [0u8; std::mem::size_of::<libc::linger>()];
    let n = sock
        .getsockopt_into(libc::SOL_SOCKET, libc::SO_LINGER, &mut buf)
        .unwrap();
    assert_eq!(n, buf.len());
    assert_eq!(linger_from(&buf), (0, 0), "default is off");

    let set = libc::linger {
        l_onoff: 1,
        l_linger: 7,
    };
    sock.setsockopt_bytes(libc::SOL_SOCKET, libc::SO_LINGER, as_bytes(&set))
        .unwrap();
    let n = sock
        .getsockopt_into(libc::SOL_SOCKET, libc::SO_LINGER, &mut buf)
        .unwrap();
    assert_eq!(n, buf.len());
    let (onoff, secs) = linger_from(&buf);
    assert_ne!(onoff, 0);
    assert_eq!(secs, 7);
}

fn linger_from(buf: &[u8]) -> (i32, i32) {
    assert_eq!(buf.len(), std::mem::size_of::<libc::linger>());
    // SAFETY: `buf` holds exactly one linger's bytes; read_unaligned needs no alignment.
    let l: libc::linger = unsafe { std::ptr::read_unaligned(buf.as_ptr().cast()) };
    (l.l_onoff, l.l_linger)
}

#[test]
fn setsockopt_bytes_with_a_short_value_is_einval() {
    let sock = Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
    assert_eq!(
        sock.setsockopt_bytes(libc::SOL_SOCKET, libc::SO_LINGER, &[1]),
        Err(Errno::EINVAL)
    );
}

#[test]
fn so_type_and_so_error_read() {
    for (family, socktype) in [
        (libc::AF_INET, libc::SOCK_STREAM),
        (libc::AF_INET6, libc::SOCK_DGRAM),
        (libc::AF_UNIX, libc::SOCK_DGRAM),
    ] {
        let sock = Socket::new(family, socktype, 0).unwrap();
        assert_eq!(
            sock.getsockopt_int(libc::SOL_SOCKET, libc::SO_TYPE),
            Ok(socktype)
        );
        assert_eq!(sock.getsockopt_int(libc::SOL_SOCKET, libc::SO_ERROR), Ok(0));
    }
    let (a, _b) = tcp_pair(libc::AF_INET);
    assert_eq!(a.getsockopt_int(libc::SOL_SOCKET, libc::SO_ERROR), Ok(0));
    let (a, _b) = unix_pair(libc::SOCK_STREAM);
    assert_eq!(
        a.getsockopt_int(libc::SOL_SOCKET, libc::SO_TYPE),
        Ok(libc::SOCK_STREAM)
    );
}

#[test]
fn so_error_is_read_once_and_cleared() {
    // A connected UDP socket collects ECONNREFUSED from the ICMP reply.
    let (holder, target) = util::udp_socket(libc::AF_INET);
    drop(holder);
    let (client, _) = util::udp_socket(libc::AF_INET);
    client.connect(&target).unwrap();
    client.send(b"x", 0).unwrap();
    let ready = bsd_sockets_core::select(
        &[std::os::fd::AsRawFd::as_raw_fd(&client)],
        &[],
        &[],
        Some(util::WAIT),
    )
    .unwrap();
    assert_eq!(ready.read, [0]);
    assert_eq!(
        client.getsockopt_int(libc::SOL_SOCKET, libc::SO_ERROR),
        Ok(libc::ECONNREFUSED)
    );
    assert_eq!(
        client.getsockopt_int(libc::SOL_SOCKET, libc::SO_ERROR),
        Ok(0)
    );
}

#[test]
fn enoprotoopt_for_an_unknown_option() {
    let sock = Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
    for level in [libc::SOL_SOCKET, libc::IPPROTO_TCP, libc::IPPROTO_IP] {
        assert_eq!(sock.getsockopt_int(level, 12345), Err(Errno::ENOPROTOOPT));
        assert_eq!(
            sock.setsockopt_int(level, 12345, 1),
            Err(Errno::ENOPROTOOPT)
        );
    }
}

#[test]
fn wrong_level_for_the_family() {
    // TCP options on a UDP socket: the protocol does not know them.
    let (udp, _) = util::udp_socket(libc::AF_INET);
    let err = udp
        .getsockopt_int(libc::IPPROTO_TCP, libc::TCP_NODELAY)
        .unwrap_err();
    assert!(
        err == Errno::ENOPROTOOPT || err == Errno::EOPNOTSUPP,
        "{err:?}"
    );
}

#[test]
fn getsockopt_into_a_small_buffer_truncates() {
    let sock = Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
    let mut big = [0u8; 64];
    let n = sock
        .getsockopt_into(libc::SOL_SOCKET, libc::SO_TYPE, &mut big)
        .unwrap();
    assert_eq!(n, std::mem::size_of::<libc::c_int>());
    assert_eq!(
        i32::from_ne_bytes(big[..4].try_into().unwrap()),
        libc::SOCK_STREAM
    );
}
