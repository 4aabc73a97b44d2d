//! Property tests (proptest) over what core parses and encodes: addresses
//! (numeric hosts, `sockaddr` encode/decode for every family, Unix paths and
//! abstract names, also through a real bind) and socket option values (any
//! size of bytes, any int). Each property says what must hold for every input;
//! none may panic. Case counts are bounded so the file runs in about a second.
//!
//! A failure prints the shrunk input; proptest also saves its seed under
//! `proptest-regressions/` so the same case runs first next time.
#![cfg(unix)]

mod util;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::unix::ffi::OsStrExt;

use bsd_sockets_core::{Address, Errno, GaiError, Socket};
use proptest::prelude::*;
use util::socket;

fn sun_path_len() -> usize {
    // SAFETY: sockaddr_un is plain old data; all-zero is a valid value.
    let un: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    un.sun_path.len()
}

/// Bytes for a Unix address: pathnames (no NUL), abstract names (leading NUL)
/// and anything (NULs and high bytes mixed in), with lengths on both sides of
/// the `sun_path` limit.
fn unix_bytes() -> impl Strategy<Value = Vec<u8>> {
    let max = sun_path_len() + 4;
    let no_nul = prop::collection::vec(1u8..=255, 0..=max);
    let abstract_name = prop::collection::vec(any::<u8>(), 0..max).prop_map(|tail| {
        let mut name = vec![0u8];
        name.extend(tail);
        name
    });
    let mixed = prop::collection::vec(prop_oneof![4 => 0x20u8..0x7f, 1 => Just(0u8)], 0..=max);
    prop_oneof![no_nul, abstract_name, mixed]
}

/// The full, uncompressed, upper-case spelling of an IPv6 address.
fn ipv6_long_form(ip: &Ipv6Addr) -> String {
    ip.segments()
        .iter()
        .map(|s| format!("{s:04X}"))
        .collect::<Vec<_>>()
        .join(":")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any IPv4/IPv6 address (any port, flowinfo, scope id) survives
    /// `to_sockaddr` -> `from_sockaddr` unchanged.
    #[test]
    fn ip_addresses_round_trip_through_sockaddr(
        v4 in any::<SocketAddrV4>(),
        ip6 in any::<Ipv6Addr>(),
        port in any::<u16>(),
        flowinfo in any::<u32>(),
        scope_id in any::<u32>(),
    ) {
        let a = Address::V4(v4);
        prop_assert_eq!(Address::from_sockaddr(&a.to_sockaddr().unwrap()), a);
        let b = Address::V6(SocketAddrV6::new(ip6, port, flowinfo, scope_id));
        prop_assert_eq!(Address::from_sockaddr(&b.to_sockaddr().unwrap()), b);
    }

    /// A numeric host resolves to itself, without a lookup, and formats back
    /// to the canonical text; so does IPv6's long upper-case form.
    #[test]
    fn numeric_hosts_resolve_to_themselves(
        ip4 in any::<Ipv4Addr>(),
        ip6 in any::<Ipv6Addr>(),
        port in any::<u16>(),
        flowinfo in any::<u32>(),
        scope_id in any::<u32>(),
    ) {
        let got = Address::resolve(libc::AF_INET, &ip4.to_string(), port, 0, 0);
        prop_assert_eq!(got, Ok(Address::V4(SocketAddrV4::new(ip4, port))));
        let want = Ok(Address::V6(SocketAddrV6::new(ip6, port, flowinfo, scope_id)));
        for text in [ip6.to_string(), ipv6_long_form(&ip6)] {
            let got = Address::resolve(libc::AF_INET6, &text, port, flowinfo, scope_id);
            prop_assert_eq!(&got, &want, "{}", text);
            if let Ok(Address::V6(a)) = got {
                prop_assert_eq!(a.ip().to_string(), ip6.to_string());
            }
        }
    }

    /// For a family other than AF_INET/AF_INET6 no host text is looked up:
    /// AF_UNIX keeps it as the path, anything else is EAI_FAMILY.
    #[test]
    fn other_families_never_look_up(family in any::<i32>(), host in ".{0,64}", port in any::<u16>()) {
        prop_assume!(family != libc::AF_INET && family != libc::AF_INET6);
        let got = Address::resolve(family, &host, port, 0, 0);
        if family == libc::AF_UNIX {
            prop_assert_eq!(got, Ok(Address::Unix(host.into_bytes())));
        } else {
            prop_assert_eq!(got, Err(GaiError::from_raw(libc::EAI_FAMILY)));
        }
    }

    /// Any bytes as a Unix address: encoded exactly when they are a valid
    /// pathname or abstract name that fits `sun_path`, and then decoded back
    /// unchanged; otherwise EINVAL (a NUL inside a pathname) or ENAMETOOLONG.
    #[test]
    fn unix_addresses_encode_or_reject_by_rule(path in unix_bytes()) {
        let abstract_name = path.first() == Some(&0);
        // A pathname needs room for its terminating NUL, an abstract name does not.
        let room = sun_path_len() - usize::from(!abstract_name);
        let addr = Address::Unix(path.clone());
        let got = addr.to_sockaddr();
        if !abstract_name && path.contains(&0) {
            prop_assert_eq!(got.err(), Some(Errno::EINVAL));
        } else if path.len() > room {
            prop_assert_eq!(got.err(), Some(Errno::ENAMETOOLONG));
        } else {
            prop_assert_eq!(Address::from_sockaddr(&got.unwrap()), addr);
        }
    }
}

proptest! {
    // Each case binds a real socket: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// An abstract name of any bytes (NULs and 0xff included) binds, and
    /// getsockname gives back the very same bytes.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn abstract_names_round_trip_through_the_kernel(tail in prop::collection::vec(any::<u8>(), 0..=64)) {
        // A per-process prefix keeps the names apart from other runs' and programs'.
        let mut name = format!("\0bsd-sockets-fuzz-{}-", std::process::id()).into_bytes();
        name.extend_from_slice(&tail);
        let sock = socket(libc::AF_UNIX, libc::SOCK_DGRAM);
        let addr = Address::Unix(name);
        prop_assert_eq!(sock.bind(&addr), Ok(()));
        prop_assert_eq!(sock.local_addr(), Ok(addr));
    }

    /// A file name of any bytes but NUL and '/' binds in a temp dir, and
    /// getsockname gives back the same path.
    #[test]
    fn pathnames_round_trip_through_the_kernel(
        file in prop::collection::vec(any::<u8>().prop_filter("no NUL or /", |b| *b != 0 && *b != b'/'), 1..=40),
    ) {
        prop_assume!(file != b"." && file != b"..");
        let dir = tempfile::tempdir().unwrap();
        let mut path = dir.path().as_os_str().as_bytes().to_vec();
        path.push(b'/');
        path.extend_from_slice(&file);
        let sock = socket(libc::AF_UNIX, libc::SOCK_STREAM);
        let addr = Address::Unix(path);
        prop_assert_eq!(sock.bind(&addr), Ok(()));
        prop_assert_eq!(sock.local_addr(), Ok(addr));
    }

    /// IP_TTL takes 1..=255 and reads back what was set; -1 restores the
    /// default; any other int is EINVAL and leaves the value alone (ip(7)).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn int_option_values_round_trip_or_are_rejected(ttl in prop_oneof![1..=255i32, any::<i32>()]) {
        let sock = socket(libc::AF_INET, libc::SOCK_DGRAM);
        let default = sock.getsockopt_int(libc::IPPROTO_IP, libc::IP_TTL).unwrap();
        sock.setsockopt_int(libc::IPPROTO_IP, libc::IP_TTL, 7).unwrap();
        let got = sock.setsockopt_int(libc::IPPROTO_IP, libc::IP_TTL, ttl);
        let now = sock.getsockopt_int(libc::IPPROTO_IP, libc::IP_TTL).unwrap();
        match ttl {
            1..=255 => prop_assert_eq!((got, now), (Ok(()), ttl)),
            -1 => prop_assert_eq!((got, now), (Ok(()), default)),
            _ => prop_assert_eq!((got, now), (Err(Errno::EINVAL), 7)),
        }
    }

    /// Option values of any size and content, for options of every kind (int,
    /// struct, read-only): an `Ok` or an errno the platform names, never a
    /// panic; getsockopt into a buffer of any size reports at most that many
    /// bytes; and the socket is still the same working socket afterwards.
    #[test]
    fn option_bytes_of_any_size_never_panic(
        which in 0..OPTIONS.len(),
        value in prop::collection::vec(any::<u8>(), 0..=64),
        out_len in 0usize..=64,
    ) {
        let (level, name) = OPTIONS[which];
        let (a, b) = util::tcp_pair(libc::AF_INET);
        if let Err(e) = a.setsockopt_bytes(level, name, &value) {
            prop_assert!(e.name().is_some(), "setsockopt({level}, {name}): unnamed errno {}", e.raw());
        }
        // Linux reads an int option only from at least sizeof(int) bytes.
        #[cfg(target_os = "linux")]
        if level == libc::SOL_SOCKET && INT_SOL_SOCKET.contains(&name) && value.len() < 4 {
            prop_assert_eq!(a.setsockopt_bytes(level, name, &value), Err(Errno::EINVAL));
        }
        let mut out = vec![0u8; out_len];
        match a.getsockopt_into(level, name, &mut out) {
            Ok(n) => prop_assert!(n <= out_len, "getsockopt wrote {n} into {out_len}"),
            Err(e) => prop_assert!(e.name().is_some(), "getsockopt: unnamed errno {}", e.raw()),
        }
        prop_assert_eq!(a.getsockopt_int(libc::SOL_SOCKET, libc::SO_TYPE), Ok(libc::SOCK_STREAM));
        check_still_connected(&a, &b)?;
    }
}

/// Options across the levels: ints, structs (linger, timeval) and read-only ones.
const OPTIONS: &[(i32, i32)] = &[
    (libc::SOL_SOCKET, libc::SO_REUSEADDR),
    (libc::SOL_SOCKET, libc::SO_KEEPALIVE),
    (libc::SOL_SOCKET, libc::SO_RCVBUF),
    (libc::SOL_SOCKET, libc::SO_SNDBUF),
    (libc::SOL_SOCKET, libc::SO_RCVLOWAT),
    (libc::SOL_SOCKET, libc::SO_LINGER),
    (libc::SOL_SOCKET, libc::SO_RCVTIMEO),
    (libc::SOL_SOCKET, libc::SO_SNDTIMEO),
    (libc::SOL_SOCKET, libc::SO_TYPE),
    (libc::SOL_SOCKET, libc::SO_ERROR),
    (libc::IPPROTO_IP, libc::IP_TTL),
    (libc::IPPROTO_IP, libc::IP_TOS),
    (libc::IPPROTO_TCP, libc::TCP_NODELAY),
    (libc::IPPROTO_TCP, libc::TCP_MAXSEG),
    (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL),
    (libc::IPPROTO_TCP, 9999),
    (9999, 1),
];

/// The SOL_SOCKET options above that Linux reads as an int.
#[cfg(target_os = "linux")]
const INT_SOL_SOCKET: &[i32] = &[
    libc::SO_REUSEADDR,
    libc::SO_KEEPALIVE,
    libc::SO_RCVBUF,
    libc::SO_SNDBUF,
    libc::SO_RCVLOWAT,
];

/// Data still flows both ways between `a` and `b`, whatever options were set
/// (SO_RCVLOWAT is reset so a small recv can return).
fn check_still_connected(a: &Socket, b: &Socket) -> Result<(), TestCaseError> {
    a.setsockopt_int(libc::SOL_SOCKET, libc::SO_RCVLOWAT, 1)
        .unwrap();
    a.sendall(b"ping", 0, &mut 0).unwrap();
    prop_assert_eq!(util::recv_exact(b, 4), b"ping");
    b.sendall(b"pong", 0, &mut 0).unwrap();
    prop_assert_eq!(util::recv_exact(a, 4), b"pong");
    Ok(())
}
