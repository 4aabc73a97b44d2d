//! Socket addresses in Python's shapes, to and from the kernel's `sockaddr`.

use std::net::{SocketAddrV4, SocketAddrV6};

use socket2::SockAddr;

use crate::sys::{self, AF_INET, AF_INET6, AF_UNIX};
use crate::Errno;

/// A socket address: what `bind`, `connect` and `sendto` take and what
/// `accept`, `getsockname` and `recvfrom` give back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// `AF_INET`: Python's `(host, port)`.
    V4(SocketAddrV4),
    /// `AF_INET6`: Python's `(host, port, flowinfo, scope_id)`.
    V6(SocketAddrV6),
    /// `AF_UNIX`: the path's bytes; empty for an unnamed socket, a leading
    /// NUL for a Linux abstract name.
    Unix(Vec<u8>),
    /// A family this crate does not decode (`AF_PACKET`, ...).
    Other(i32),
}

impl Address {
    /// The address family (`AF_INET`, ...).
    pub fn family(&self) -> i32 {
        match self {
            Address::V4(_) => AF_INET,
            Address::V6(_) => AF_INET6,
            Address::Unix(_) => AF_UNIX,
            Address::Other(family) => *family,
        }
    }

    /// Converts to the kernel's form.
    ///
    /// # Errors
    /// `ENAMETOOLONG` for a Unix path that does not fit `sun_path`,
    /// `EINVAL` for a NUL inside a (non-abstract) path (on Windows also for a path
    /// that is not UTF-8), `EOPNOTSUPP` for an abstract name where the platform has
    /// none (Windows), `EAFNOSUPPORT` for `Other`.
    pub fn to_sockaddr(&self) -> Result<SockAddr, Errno> {
        match self {
            Address::V4(a) => Ok(SockAddr::from(*a)),
            Address::V6(a) => Ok(SockAddr::from(*a)),
            Address::Unix(path) => {
                let (abstract_name, rest) = match path.split_first() {
                    Some((0, rest)) => (true, rest),
                    _ => (false, &path[..]),
                };
                if !abstract_name && rest.contains(&0) {
                    return Err(Errno::EINVAL);
                }
                if abstract_name && sys::REFUSES_ABSTRACT_NAMES {
                    return Err(Errno::EOPNOTSUPP);
                }
                // sun_path is 108 bytes on Linux and Windows, 104 on the BSDs; a
                // pathname also needs its terminating NUL, an abstract name does not.
                let room = sys::unix_path_capacity() - usize::from(!abstract_name);
                if path.len() > room {
                    return Err(Errno::ENAMETOOLONG);
                }
                SockAddr::unix(sys::path_from_bytes(path)?).map_err(Errno::from)
            }
            Address::Other(_) => Err(Errno::EAFNOSUPPORT),
        }
    }

    /// Decodes what the kernel returned.
    pub fn from_sockaddr(addr: &SockAddr) -> Address {
        if let Some(a) = addr.as_socket_ipv4() {
            Address::V4(a)
        } else if let Some(a) = addr.as_socket_ipv6() {
            Address::V6(a)
        } else if addr.is_unix() {
            Address::Unix(sys::unix_path_bytes(addr))
        } else {
            Address::Other(i32::from(addr.family()))
        }
    }
}
