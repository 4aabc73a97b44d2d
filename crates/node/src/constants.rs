//! Constants by name with this platform's values, read from `libc` at build
//! time of this platform's addon: no number is typed by hand.

use std::collections::HashMap;

use napi_derive::napi;

macro_rules! table {
    ($($name:ident),* $(,)?) => {
        &[$((stringify!($name), libc::$name as i64)),*]
    };
}

/// Names every Unix has.
const COMMON: &[(&str, i64)] = table! {
    AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX,
    SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET,
    SOL_SOCKET, SOMAXCONN,
    SO_ACCEPTCONN, SO_BROADCAST, SO_DEBUG, SO_DONTROUTE, SO_ERROR, SO_KEEPALIVE,
    SO_LINGER, SO_OOBINLINE, SO_RCVBUF, SO_RCVLOWAT, SO_RCVTIMEO, SO_REUSEADDR,
    SO_REUSEPORT, SO_SNDBUF, SO_SNDLOWAT, SO_SNDTIMEO, SO_TYPE,
    IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_RAW,
    IP_TOS, IP_TTL, IP_HDRINCL, IP_MULTICAST_IF, IP_MULTICAST_TTL, IP_MULTICAST_LOOP,
    IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP,
    IPV6_V6ONLY, IPV6_UNICAST_HOPS, IPV6_MULTICAST_IF, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_LOOP,
    TCP_NODELAY, TCP_MAXSEG, TCP_KEEPINTVL, TCP_KEEPCNT,
    MSG_OOB, MSG_PEEK, MSG_DONTROUTE, MSG_EOR, MSG_TRUNC, MSG_CTRUNC, MSG_WAITALL, MSG_DONTWAIT,
    SHUT_RD, SHUT_WR, SHUT_RDWR,
    SCM_RIGHTS,
    POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND,
    AI_PASSIVE, AI_CANONNAME, AI_NUMERICHOST, AI_NUMERICSERV, AI_ADDRCONFIG, AI_V4MAPPED, AI_ALL,
    NI_NUMERICHOST, NI_NUMERICSERV, NI_NAMEREQD, NI_DGRAM, NI_NOFQDN,
};

/// Linux-only names (cfg here because these exist nowhere else).
#[cfg(any(target_os = "linux", target_os = "android"))]
const PLATFORM: &[(&str, i64)] = table! {
    AF_NETLINK, AF_PACKET, SOCK_NONBLOCK, SOCK_CLOEXEC,
    SO_DOMAIN, SO_PROTOCOL, SO_PEERCRED, SO_PASSCRED, SO_BINDTODEVICE, SO_PRIORITY,
    SO_MARK, SO_INCOMING_CPU, SO_BUSY_POLL, SO_RCVBUFFORCE, SO_SNDBUFFORCE,
    TCP_KEEPIDLE, TCP_USER_TIMEOUT, TCP_QUICKACK, TCP_CORK, TCP_DEFER_ACCEPT, TCP_FASTOPEN,
    TCP_INFO, TCP_CONGESTION, TCP_NOTSENT_LOWAT, TCP_SYNCNT, TCP_LINGER2, TCP_WINDOW_CLAMP,
    IP_FREEBIND, IP_TRANSPARENT, IP_RECVERR, IP_MTU_DISCOVER, IP_MTU, IP_MULTICAST_ALL, IP_PKTINFO,
    IPV6_RECVERR, IPV6_FREEBIND, IPV6_ADD_MEMBERSHIP, IPV6_DROP_MEMBERSHIP, IPV6_RECVPKTINFO,
    MSG_NOSIGNAL, MSG_CONFIRM, MSG_MORE, MSG_ERRQUEUE, MSG_CMSG_CLOEXEC, MSG_FASTOPEN,
    SCM_CREDENTIALS,
    POLLRDHUP,
};

/// glibc's `<netinet/in.h>` defines these as aliases of the Linux names; the libc crate
/// (gnu, musl) lacks them, so they are spelled here as those aliases, not as numbers.
#[cfg(any(target_os = "linux", target_os = "android"))]
const ALIASES: &[(&str, i64)] = &[
    ("IPV6_JOIN_GROUP", libc::IPV6_ADD_MEMBERSHIP as i64),
    ("IPV6_LEAVE_GROUP", libc::IPV6_DROP_MEMBERSHIP as i64),
];

/// Elsewhere the libc crate has every name directly.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const ALIASES: &[(&str, i64)] = &[];

/// macOS/BSD-only names.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const PLATFORM: &[(&str, i64)] = table! {
    SO_NOSIGPIPE, TCP_KEEPALIVE, IPV6_JOIN_GROUP, IPV6_LEAVE_GROUP,
};

/// Every constant this platform defines, by name.
#[napi(catch_unwind)]
pub fn constants() -> HashMap<&'static str, i64> {
    COMMON
        .iter()
        .chain(PLATFORM)
        .chain(ALIASES)
        .copied()
        .collect()
}
