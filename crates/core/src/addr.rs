//! Socket addresses in Python's shapes, to and from the kernel's `sockaddr`.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::unix::ffi::OsStrExt;

use socket2::SockAddr;

use crate::{getaddrinfo, AddrInfoHints, Errno, GaiError};

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
            Address::V4(_) => libc::AF_INET,
            Address::V6(_) => libc::AF_INET6,
            Address::Unix(_) => libc::AF_UNIX,
            Address::Other(family) => *family,
        }
    }

    /// Converts to the kernel's form.
    ///
    /// # Errors
    /// `ENAMETOOLONG` for a Unix path that does not fit `sun_path`,
    /// `EINVAL` for a NUL inside a (non-abstract) path, `EAFNOSUPPORT` for `Other`.
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
                // sun_path is 108 bytes on Linux, 104 on the BSDs; a pathname
                // also needs its terminating NUL, an abstract name does not.
                let room = unix_path_capacity() - usize::from(!abstract_name);
                if path.len() > room {
                    return Err(Errno::ENAMETOOLONG);
                }
                SockAddr::unix(std::ffi::OsStr::from_bytes(path)).map_err(Errno::from)
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
            Address::Unix(unix_path_bytes(addr))
        } else {
            Address::Other(i32::from(addr.family()))
        }
    }

    /// Builds an address of `family` from Python's pieces, resolving `host`
    /// through getaddrinfo when it is not a numeric address.
    ///
    /// `""` is the any-address and `"<broadcast>"` INADDR_BROADCAST, as in
    /// Python. For `AF_UNIX`, `host` is the path and the numbers are unused.
    ///
    /// # Errors
    /// A [`GaiError`] when the name does not resolve (`EAI_NONAME`) or the
    /// family is not one of `AF_INET`, `AF_INET6`, `AF_UNIX` (`EAI_FAMILY`).
    pub fn resolve(
        family: i32,
        host: &str,
        port: u16,
        flowinfo: u32,
        scope_id: u32,
    ) -> Result<Address, GaiError> {
        match family {
            libc::AF_UNIX => Ok(Address::Unix(host.as_bytes().to_vec())),
            libc::AF_INET => {
                let ip = match host {
                    "" => Ipv4Addr::UNSPECIFIED,
                    "<broadcast>" => Ipv4Addr::BROADCAST,
                    _ => match host.parse() {
                        Ok(ip) => ip,
                        Err(_) => match lookup(family, host)? {
                            Address::V4(a) => *a.ip(),
                            _ => return Err(GaiError::from_raw(libc::EAI_FAMILY)),
                        },
                    },
                };
                Ok(Address::V4(SocketAddrV4::new(ip, port)))
            }
            libc::AF_INET6 => {
                let (ip, scope) = match host {
                    "" => (Ipv6Addr::UNSPECIFIED, scope_id),
                    _ => match host.parse() {
                        Ok(ip) => (ip, scope_id),
                        // getaddrinfo also reads a "%eth0" zone into the scope id.
                        Err(_) => match lookup(family, host)? {
                            Address::V6(a) if scope_id == 0 => (*a.ip(), a.scope_id()),
                            Address::V6(a) => (*a.ip(), scope_id),
                            _ => return Err(GaiError::from_raw(libc::EAI_FAMILY)),
                        },
                    },
                };
                Ok(Address::V6(SocketAddrV6::new(ip, port, flowinfo, scope)))
            }
            _ => Err(GaiError::from_raw(libc::EAI_FAMILY)),
        }
    }
}

/// First address getaddrinfo gives for `host` in `family`.
fn lookup(family: i32, host: &str) -> Result<Address, GaiError> {
    let hints = AddrInfoHints {
        family,
        ..AddrInfoHints::default()
    };
    getaddrinfo(Some(host), None, hints)?
        .into_iter()
        .next()
        .map(|info| info.address)
        .ok_or(GaiError::from_raw(libc::EAI_NONAME))
}

fn unix_path_capacity() -> usize {
    // SAFETY: sockaddr_un is plain old data; all-zero is a valid value.
    let un: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    un.sun_path.len()
}

/// The raw path bytes of an AF_UNIX address, NUL terminator dropped.
fn unix_path_bytes(addr: &SockAddr) -> Vec<u8> {
    if let Some(name) = addr.as_abstract_namespace() {
        let mut bytes = Vec::with_capacity(name.len() + 1);
        bytes.push(0);
        bytes.extend_from_slice(name);
        bytes
    } else if let Some(path) = addr.as_pathname() {
        path.as_os_str().as_bytes().to_vec()
    } else {
        Vec::new()
    }
}
