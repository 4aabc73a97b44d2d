//! `Address` in Python's shapes, Unix paths (pathname and abstract), and
//! getaddrinfo, all without leaving the machine.
#![cfg(unix)]

mod util;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

use bsd_sockets_core::{
    getaddrinfo, getnameinfo, inet_ntop, inet_pton, AddrInfoHints, Address, Errno, GaiError, Socket,
};
use util::{recv_exact, socket};

/// The longest `sun_path` this platform has (108 on Linux, 104 on the BSDs).
fn sun_path_len() -> usize {
    // SAFETY: sockaddr_un is plain old data; all-zero is a valid value.
    let un: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    un.sun_path.len()
}

fn unix_path(dir: &tempfile::TempDir, name: &str) -> Address {
    Address::Unix(dir.path().join(name).into_os_string().into_encoded_bytes())
}

/// "bad host!" cannot resolve: it is not a valid host name, so the resolver
/// rejects it locally and no DNS query leaves the machine (checked with strace).
fn assert_unresolvable(err: GaiError) {
    assert_eq!(err.raw(), libc::EAI_NONAME, "{err:?}");
}

#[test]
fn resolve_any_and_broadcast() {
    assert_eq!(
        Address::resolve(libc::AF_INET, "", 80, 0, 0),
        Ok(Address::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80)))
    );
    assert_eq!(
        Address::resolve(libc::AF_INET, "<broadcast>", 9, 0, 0),
        Ok(Address::V4(SocketAddrV4::new(Ipv4Addr::BROADCAST, 9)))
    );
    assert_eq!(
        Address::resolve(libc::AF_INET6, "", 443, 5, 6),
        Ok(Address::V6(SocketAddrV6::new(
            Ipv6Addr::UNSPECIFIED,
            443,
            5,
            6
        )))
    );
}

#[test]
fn resolve_numeric_hosts() {
    assert_eq!(
        Address::resolve(libc::AF_INET, "127.0.0.1", 8080, 0, 0),
        Ok(util::v4(8080))
    );
    // flowinfo and scope id are kept as given.
    assert_eq!(
        Address::resolve(libc::AF_INET6, "::1", 8080, 0x12345, 7),
        Ok(Address::V6(SocketAddrV6::new(
            Ipv6Addr::LOCALHOST,
            8080,
            0x12345,
            7
        )))
    );
    assert_eq!(
        Address::resolve(libc::AF_INET6, "::ffff:127.0.0.1", 1, 0, 0),
        Ok(Address::V6(SocketAddrV6::new(
            Ipv4Addr::LOCALHOST.to_ipv6_mapped(),
            1,
            0,
            0
        )))
    );
}

#[test]
fn resolve_localhost_through_getaddrinfo() {
    assert_eq!(
        Address::resolve(libc::AF_INET, "localhost", 22, 0, 0),
        Ok(util::v4(22))
    );
}

#[test]
fn resolve_an_ipv6_zone_into_the_scope_id() {
    // Linux calls the loopback interface "lo", the BSDs "lo0".
    let Some((name, lo)) = [c"lo", c"lo0"].into_iter().find_map(|name| {
        // SAFETY: `name` is a NUL-terminated literal.
        let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
        (index != 0).then(|| (name.to_str().unwrap(), index))
    }) else {
        return; // no loopback interface to name: nothing to check against
    };
    let zoned = format!("fe80::1%{name}");
    let got = Address::resolve(libc::AF_INET6, &zoned, 5, 0, 0).unwrap();
    let ip: Ipv6Addr = "fe80::1".parse().unwrap();
    assert_eq!(got, Address::V6(SocketAddrV6::new(ip, 5, 0, lo)));
    // An explicit scope id wins over the zone.
    let got = Address::resolve(libc::AF_INET6, &zoned, 5, 0, 42).unwrap();
    assert_eq!(got, Address::V6(SocketAddrV6::new(ip, 5, 0, 42)));
}

#[test]
fn resolve_errors() {
    assert_unresolvable(Address::resolve(libc::AF_INET, "bad host!", 80, 0, 0).unwrap_err());
    assert_unresolvable(Address::resolve(libc::AF_INET6, "bad host!", 80, 0, 0).unwrap_err());
    assert_eq!(
        Address::resolve(12345, "127.0.0.1", 80, 0, 0),
        Err(GaiError::from_raw(libc::EAI_FAMILY))
    );
    // A v6 literal has no AF_INET address.
    assert!(Address::resolve(libc::AF_INET, "::1", 80, 0, 0).is_err());
}

#[test]
fn resolve_unix_is_the_path() {
    assert_eq!(
        Address::resolve(libc::AF_UNIX, "/tmp/x.sock", 0, 0, 0),
        Ok(Address::Unix(b"/tmp/x.sock".to_vec()))
    );
    assert_eq!(
        Address::resolve(libc::AF_UNIX, "\0abstract", 0, 0, 0),
        Ok(Address::Unix(b"\0abstract".to_vec()))
    );
}

#[test]
fn family_of_each_kind() {
    assert_eq!(util::v4(0).family(), libc::AF_INET);
    assert_eq!(util::v6(0).family(), libc::AF_INET6);
    assert_eq!(Address::Unix(vec![]).family(), libc::AF_UNIX);
    assert_eq!(Address::Other(17).family(), 17);
}

#[test]
fn sockaddr_round_trips() {
    let max = sun_path_len();
    let addrs = [
        util::v4(0),
        util::v4(65535),
        Address::V4(SocketAddrV4::new(Ipv4Addr::new(10, 1, 2, 3), 1234)),
        util::v6(443),
        Address::V6(SocketAddrV6::new(
            "fe80::abcd".parse().unwrap(),
            8443,
            0xabcde,
            3,
        )),
        Address::Unix(b"/run/some.sock".to_vec()),
        Address::Unix(b"relative.sock".to_vec()),
        Address::Unix(vec![b'p'; max - 1]),
        Address::Unix(b"\0abstract name".to_vec()),
        Address::Unix(b"\0with\0nuls".to_vec()),
        Address::Unix([&[0u8][..], &vec![b'a'; max - 1]].concat()),
    ];
    for addr in addrs {
        let sa = addr.to_sockaddr().unwrap();
        assert_eq!(i32::from(sa.family()), addr.family());
        assert_eq!(Address::from_sockaddr(&sa), addr);
    }
}

#[test]
fn enametoolong_for_a_unix_path_that_does_not_fit() {
    let max = sun_path_len();
    // A pathname needs room for its NUL terminator, an abstract name does not.
    let long_path = Address::Unix(vec![b'a'; max]);
    assert_eq!(long_path.to_sockaddr().err(), Some(Errno::ENAMETOOLONG));
    let long_abstract = Address::Unix([&[0u8][..], &vec![b'a'; max]].concat());
    assert_eq!(long_abstract.to_sockaddr().err(), Some(Errno::ENAMETOOLONG));
    let huge = Address::Unix(vec![b'x'; 4096]);
    assert_eq!(huge.to_sockaddr().err(), Some(Errno::ENAMETOOLONG));

    let sock = Socket::new(libc::AF_UNIX, libc::SOCK_STREAM, 0).unwrap();
    assert_eq!(sock.bind(&long_path), Err(Errno::ENAMETOOLONG));
    assert_eq!(sock.connect(&long_path), Err(Errno::ENAMETOOLONG));
    let dgram = Socket::new(libc::AF_UNIX, libc::SOCK_DGRAM, 0).unwrap();
    assert_eq!(dgram.send_to(b"x", 0, &huge), Err(Errno::ENAMETOOLONG));
}

#[test]
fn einval_for_a_nul_inside_a_unix_path() {
    for path in [&b"/tmp/a\0b"[..], b"trailing\0", b"a\0"] {
        let addr = Address::Unix(path.to_vec());
        assert_eq!(addr.to_sockaddr().err(), Some(Errno::EINVAL), "{path:?}");
        let sock = Socket::new(libc::AF_UNIX, libc::SOCK_STREAM, 0).unwrap();
        assert_eq!(sock.bind(&addr), Err(Errno::EINVAL));
    }
}

#[test]
fn unix_pathname_bind_getsockname_connect_accept() {
    let dir = tempfile::tempdir().unwrap();
    let path = unix_path(&dir, "server.sock");
    let listener = socket(libc::AF_UNIX, libc::SOCK_STREAM);
    listener.bind(&path).unwrap();
    listener.listen(4).unwrap();
    assert_eq!(listener.local_addr(), Ok(path.clone()));

    let client = socket(libc::AF_UNIX, libc::SOCK_STREAM);
    // Unbound: an unnamed address.
    assert_eq!(client.local_addr(), Ok(Address::Unix(vec![])));
    client.connect(&path).unwrap();
    assert_eq!(client.peer_addr(), Ok(path.clone()));
    let (server, peer) = listener.accept().unwrap();
    assert_eq!(peer, Address::Unix(vec![]));
    assert_eq!(server.local_addr(), Ok(path));
    client.send(b"over unix", 0).unwrap();
    assert_eq!(recv_exact(&server, 9), b"over unix");
}

#[test]
fn unix_dgram_send_to_and_recv_from_a_bound_path() {
    let dir = tempfile::tempdir().unwrap();
    let a_path = unix_path(&dir, "a.sock");
    let b_path = unix_path(&dir, "b.sock");
    let a = socket(libc::AF_UNIX, libc::SOCK_DGRAM);
    a.bind(&a_path).unwrap();
    let b = socket(libc::AF_UNIX, libc::SOCK_DGRAM);
    b.bind(&b_path).unwrap();
    assert_eq!(a.send_to(b"dgram", 0, &b_path), Ok(5));
    let mut buf = [0; 16];
    let (n, from) = b.recv_from_into(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"dgram");
    assert_eq!(from, a_path);
}

// Abstract names are a Linux feature.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn unix_abstract_bind_getsockname_connect() {
    let name = format!("\0bsd-sockets-test-{}-abstract", std::process::id());
    let addr = Address::Unix(name.into_bytes());
    let listener = socket(libc::AF_UNIX, libc::SOCK_STREAM);
    listener.bind(&addr).unwrap();
    listener.listen(4).unwrap();
    assert_eq!(listener.local_addr(), Ok(addr.clone()));

    let client = socket(libc::AF_UNIX, libc::SOCK_STREAM);
    client.connect(&addr).unwrap();
    assert_eq!(client.peer_addr(), Ok(addr.clone()));
    let (server, _) = listener.accept().unwrap();
    server.send(b"abs", 0).unwrap();
    assert_eq!(recv_exact(&client, 3), b"abs");

    // The name is taken while the listener lives.
    let second = Socket::new(libc::AF_UNIX, libc::SOCK_STREAM, 0).unwrap();
    assert_eq!(second.bind(&addr), Err(Errno::EADDRINUSE));
}

// Linux autobind: an empty address gives the socket a fresh abstract name.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn unix_empty_bind_autobinds_an_abstract_name() {
    let sock = Socket::new(libc::AF_UNIX, libc::SOCK_DGRAM, 0).unwrap();
    sock.bind(&Address::Unix(vec![])).unwrap();
    match sock.local_addr().unwrap() {
        Address::Unix(name) => assert!(name.len() > 1 && name[0] == 0, "{name:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn getaddrinfo_numeric_host_and_port() {
    let hints = AddrInfoHints {
        socktype: libc::SOCK_STREAM,
        ..AddrInfoHints::default()
    };
    let infos = getaddrinfo(Some("127.0.0.1"), Some("80"), hints).unwrap();
    assert_eq!(infos.len(), 1, "{infos:?}");
    let info = &infos[0];
    assert_eq!(info.family, libc::AF_INET);
    assert_eq!(info.socktype, libc::SOCK_STREAM);
    assert_eq!(info.protocol, libc::IPPROTO_TCP);
    assert_eq!(info.canonname, "");
    assert_eq!(info.address, util::v4(80));

    let infos = getaddrinfo(
        Some("::1"),
        Some("53"),
        AddrInfoHints {
            socktype: libc::SOCK_DGRAM,
            ..AddrInfoHints::default()
        },
    )
    .unwrap();
    assert_eq!(infos.len(), 1, "{infos:?}");
    assert_eq!(infos[0].family, libc::AF_INET6);
    assert_eq!(infos[0].protocol, libc::IPPROTO_UDP);
    assert_eq!(infos[0].address, util::v6(53));
}

#[test]
fn getaddrinfo_canonname_on_the_first_result_only() {
    let hints = AddrInfoHints {
        family: libc::AF_INET,
        flags: libc::AI_CANONNAME,
        ..AddrInfoHints::default()
    };
    let infos = getaddrinfo(Some("localhost"), None, hints).unwrap();
    assert!(!infos.is_empty());
    assert!(!infos[0].canonname.is_empty(), "{infos:?}");
    assert!(
        infos[1..].iter().all(|i| i.canonname.is_empty()),
        "{infos:?}"
    );
    assert!(infos.iter().all(|i| i.address == util::v4(0)), "{infos:?}");

    let infos = getaddrinfo(
        Some("127.0.0.1"),
        Some("80"),
        AddrInfoHints {
            socktype: libc::SOCK_STREAM,
            flags: libc::AI_CANONNAME,
            ..AddrInfoHints::default()
        },
    )
    .unwrap();
    assert_eq!(infos[0].canonname, "127.0.0.1");
}

#[test]
fn getaddrinfo_localhost_is_loopback() {
    let hints = AddrInfoHints {
        family: libc::AF_INET,
        socktype: libc::SOCK_STREAM,
        ..AddrInfoHints::default()
    };
    let infos = getaddrinfo(Some("localhost"), Some("8080"), hints).unwrap();
    assert_eq!(infos.len(), 1, "{infos:?}");
    assert_eq!(infos[0].address, util::v4(8080));
}

#[test]
fn getaddrinfo_passive_without_host_is_the_any_address() {
    let hints = AddrInfoHints {
        family: libc::AF_INET,
        socktype: libc::SOCK_STREAM,
        flags: libc::AI_PASSIVE,
        ..AddrInfoHints::default()
    };
    let infos = getaddrinfo(None, Some("0"), hints).unwrap();
    assert_eq!(
        infos[0].address,
        Address::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
    );
}

#[test]
fn getaddrinfo_errors() {
    let hints = AddrInfoHints::default();
    assert_unresolvable(getaddrinfo(Some("bad host!"), None, hints).unwrap_err());
    let numeric = AddrInfoHints {
        flags: libc::AI_NUMERICHOST,
        ..AddrInfoHints::default()
    };
    assert_eq!(
        getaddrinfo(Some("localhost"), None, numeric).err(),
        Some(GaiError::from_raw(libc::EAI_NONAME))
    );
    let stream = AddrInfoHints {
        socktype: libc::SOCK_STREAM,
        ..AddrInfoHints::default()
    };
    assert_eq!(
        getaddrinfo(Some("127.0.0.1"), Some("no-such-service-xyz"), stream).err(),
        Some(GaiError::from_raw(libc::EAI_SERVICE))
    );
    // A NUL cannot reach C: reported as an unknown name.
    assert_eq!(
        getaddrinfo(Some("local\0host"), None, hints).err(),
        Some(GaiError::from_raw(libc::EAI_NONAME))
    );
    let bad_family = AddrInfoHints {
        family: 12345,
        ..AddrInfoHints::default()
    };
    assert_eq!(
        getaddrinfo(Some("127.0.0.1"), None, bad_family).err(),
        Some(GaiError::from_raw(libc::EAI_FAMILY))
    );
}

#[test]
fn gai_error_names_and_messages() {
    let err = GaiError::from_raw(libc::EAI_NONAME);
    assert_eq!(err.raw(), libc::EAI_NONAME);
    assert_eq!(err.name(), Some("EAI_NONAME"));
    assert_eq!(format!("{err:?}"), "EAI_NONAME");
    assert!(!err.message().is_empty());
    assert_eq!(format!("{err}"), format!("EAI_NONAME: {}", err.message()));
    assert_eq!(
        GaiError::from_raw(libc::EAI_AGAIN).name(),
        Some("EAI_AGAIN")
    );
    assert_eq!(GaiError::from_raw(123_456).name(), None);
}

#[test]
fn getnameinfo_numeric_and_its_errors() {
    let numeric = libc::NI_NUMERICHOST | libc::NI_NUMERICSERV;
    let v4 = Address::resolve(libc::AF_INET, "127.0.0.1", 80, 0, 0).unwrap();
    assert_eq!(
        getnameinfo(&v4, numeric).unwrap(),
        ("127.0.0.1".to_string(), "80".to_string())
    );
    let v6 = Address::resolve(libc::AF_INET6, "::1", 8080, 0, 0).unwrap();
    assert_eq!(
        getnameinfo(&v6, numeric).unwrap(),
        ("::1".to_string(), "8080".to_string())
    );
    let unix = Address::Unix(b"/tmp/x".to_vec());
    assert_eq!(
        getnameinfo(&unix, numeric),
        Err(GaiError::from_raw(libc::EAI_FAMILY))
    );
    assert_eq!(
        getnameinfo(&v4, 1 << 24),
        Err(GaiError::from_raw(libc::EAI_BADFLAGS))
    );
}

#[test]
fn numeric_addresses_take_their_family_from_the_text_and_never_look_up() {
    assert_eq!(
        Address::numeric("127.0.0.1", 80, 9, 9),
        Ok(Address::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 80)))
    );
    assert_eq!(
        Address::numeric("::1", 443, 5, 6),
        Ok(Address::V6(SocketAddrV6::new(
            Ipv6Addr::LOCALHOST,
            443,
            5,
            6
        )))
    );
    let no_name = Err(GaiError::from_raw(libc::EAI_NONAME));
    for host in ["localhost", "", "<broadcast>", "1.2.3", "::1%lo"] {
        assert_eq!(Address::numeric(host, 80, 0, 0), no_name, "{host:?}");
    }
}

#[test]
fn inet_text_and_packed_forms_agree_with_address_parsing() {
    let packed = inet_pton(libc::AF_INET6, "2001:db8::7").unwrap().unwrap();
    assert_eq!(
        inet_ntop(libc::AF_INET6, &packed).unwrap().unwrap(),
        "2001:db8::7"
    );
    let Address::V6(a) = Address::resolve(libc::AF_INET6, "2001:db8::7", 0, 0, 0).unwrap() else {
        panic!("not IPv6")
    };
    assert_eq!(a.ip().octets().to_vec(), packed);
    assert_eq!(inet_pton(libc::AF_INET, "localhost").unwrap(), None);
    assert_eq!(inet_pton(libc::AF_UNIX, "x"), Err(Errno::EAFNOSUPPORT));
}
