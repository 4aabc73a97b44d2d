//! getaddrinfo(3) and getnameinfo(3) with Python's shapes, their own error kind, and
//! [`Address::resolve`] and [`Address::numeric`] (Python's address pieces to an Address).

use std::ffi::{CStr, CString};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

use socket2::SockAddr;

use crate::sys::{self, AF_INET, AF_INET6, AF_UNIX, EAI_FAMILY, EAI_MEMORY, EAI_NONAME};
use crate::Address;

/// A getaddrinfo(3) failure (`EAI_NONAME`, ...): outside the errno space,
/// like Python's `socket.gaierror`.
#[derive(Copy, Clone, PartialEq, Eq)]
pub struct GaiError(i32);

/// As `errnos!`: names from the platform's own constants, never typed numbers;
/// `NAME = WSANAME` takes the value of Winsock's constant (Windows).
macro_rules! gai_names {
    (@value $name:ident) => { libc::$name };
    (@value $name:ident $os:ident) => { windows_sys::Win32::Networking::WinSock::$os };
    ($($name:ident $(= $os:ident)?),* $(,)?) => {
        const GAI_NAMES: &[(i32, &str)] = &[$((gai_names!(@value $name $($os)?), stringify!($name))),*];
    };
}

#[cfg(unix)]
gai_names! {
    EAI_AGAIN, EAI_BADFLAGS, EAI_FAIL, EAI_FAMILY, EAI_MEMORY, EAI_NONAME,
    EAI_SERVICE, EAI_SOCKTYPE, EAI_SYSTEM, EAI_OVERFLOW,
}

// Windows: ws2tcpip.h defines each EAI_* as a Winsock code (Python's socket.EAI_NONAME
// is 11001 there); it has no EAI_SYSTEM or EAI_OVERFLOW.
#[cfg(windows)]
gai_names! {
    EAI_AGAIN = WSATRY_AGAIN, EAI_BADFLAGS = WSAEINVAL, EAI_FAIL = WSANO_RECOVERY,
    EAI_FAMILY = WSAEAFNOSUPPORT, EAI_MEMORY = WSA_NOT_ENOUGH_MEMORY,
    EAI_NONAME = WSAHOST_NOT_FOUND, EAI_SERVICE = WSATYPE_NOT_FOUND,
    EAI_SOCKTYPE = WSAESOCKTNOSUPPORT,
}

impl GaiError {
    /// Wraps a raw `EAI_*` value.
    pub const fn from_raw(code: i32) -> GaiError {
        GaiError(code)
    }

    /// The raw `EAI_*` value as the platform defines it (negative on glibc).
    pub const fn raw(self) -> i32 {
        self.0
    }

    /// The C name (`"EAI_NONAME"`), if the platform names this value.
    pub fn name(self) -> Option<&'static str> {
        GAI_NAMES
            .iter()
            .find(|(n, _)| *n == self.0)
            .map(|(_, s)| *s)
    }

    /// gai_strerror(3)'s text.
    pub fn message(self) -> String {
        sys::gai_strerror(self.0)
    }
}

impl fmt::Debug for GaiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name().unwrap_or("EAI_UNKNOWN"))
    }
}

impl fmt::Display for GaiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}: {}", self.message())
    }
}

impl std::error::Error for GaiError {}

/// The `hints` of getaddrinfo(3); zero means "any".
#[derive(Clone, Copy, Debug, Default)]
pub struct AddrInfoHints {
    /// `AF_INET`, `AF_INET6` or 0 (`AF_UNSPEC`).
    pub family: i32,
    /// `SOCK_STREAM`, `SOCK_DGRAM`, ... or 0.
    pub socktype: i32,
    /// `IPPROTO_TCP`, ... or 0.
    pub protocol: i32,
    /// `AI_PASSIVE`, `AI_CANONNAME`, `AI_NUMERICHOST`, ...
    pub flags: i32,
}

/// One result of getaddrinfo: Python's `(family, type, proto, canonname, sockaddr)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrInfo {
    /// Address family.
    pub family: i32,
    /// Socket type.
    pub socktype: i32,
    /// Protocol.
    pub protocol: i32,
    /// Canonical name: set on the first result when `AI_CANONNAME` was asked, else empty.
    pub canonname: String,
    /// The address.
    pub address: Address,
}

/// Resolves a host and service.
///
/// Corresponds to [`getaddrinfo(3)`](https://man7.org/linux/man-pages/man3/getaddrinfo.3.html).
///
/// # Errors
/// `EAI_NONAME` for an unknown name, `EAI_SERVICE` for an unknown service,
/// `EAI_NONAME` as well for a host or service holding a NUL byte.
pub fn getaddrinfo(
    host: Option<&str>,
    service: Option<&str>,
    hints: AddrInfoHints,
) -> Result<Vec<AddrInfo>, GaiError> {
    let no_name = GaiError(EAI_NONAME);
    let host = host.map(CString::new).transpose().map_err(|_| no_name)?;
    let service = service.map(CString::new).transpose().map_err(|_| no_name)?;
    // SAFETY: addrinfo is plain old data; all-zero is the documented "no hints" value.
    let mut c_hints: sys::addrinfo = unsafe { std::mem::zeroed() };
    c_hints.ai_family = hints.family;
    c_hints.ai_socktype = hints.socktype;
    c_hints.ai_protocol = hints.protocol;
    c_hints.ai_flags = hints.flags;
    let mut list: *mut sys::addrinfo = std::ptr::null_mut();
    // SAFETY: the strings are NUL-terminated or null, the hints are valid, and
    // `list` is freed below with freeaddrinfo.
    let rc = unsafe {
        sys::getaddrinfo(
            host.as_ref()
                .map_or(std::ptr::null(), |h| h.as_ptr().cast()),
            service
                .as_ref()
                .map_or(std::ptr::null(), |s| s.as_ptr().cast()),
            &c_hints,
            &mut list,
        )
    };
    if rc != 0 {
        return Err(GaiError(rc));
    }
    let _free = FreeOnDrop(list);
    let mut out = Vec::new();
    let mut cur = list;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getaddrinfo returned, not yet freed.
        let ai = unsafe { &*cur };
        let canonname = if ai.ai_canonname.is_null() {
            String::new()
        } else {
            // SAFETY: a non-null ai_canonname is a NUL-terminated string owned by the list.
            unsafe { CStr::from_ptr(ai.ai_canonname.cast()) }
                .to_string_lossy()
                .into_owned()
        };
        // SAFETY: ai_addr points to ai_addrlen initialized bytes of a sockaddr,
        // which fit in sockaddr_storage.
        let ((), addr) = unsafe {
            SockAddr::try_init(|storage, len| {
                std::ptr::copy_nonoverlapping(
                    ai.ai_addr.cast::<u8>(),
                    storage.cast::<u8>(),
                    ai.ai_addrlen as usize,
                );
                *len = ai.ai_addrlen as _;
                Ok(())
            })
        }
        .map_err(|_| GaiError(EAI_MEMORY))?;
        out.push(AddrInfo {
            family: ai.ai_family,
            socktype: ai.ai_socktype,
            protocol: ai.ai_protocol,
            canonname,
            address: Address::from_sockaddr(&addr),
        });
        cur = ai.ai_next;
    }
    Ok(out)
}

/// Frees a getaddrinfo list on every path out, early returns included.
struct FreeOnDrop(*mut sys::addrinfo);

impl Drop for FreeOnDrop {
    fn drop(&mut self) {
        // SAFETY: the pointer came from a successful getaddrinfo and is freed once, here.
        unsafe { sys::freeaddrinfo(self.0) };
    }
}

/// Python's address pieces to an [`Address`]: here rather than in addr, so that addr
/// (which the resolver's results are made of) needs no resolver.
impl Address {
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
            AF_UNIX => Ok(Address::Unix(host.as_bytes().to_vec())),
            AF_INET => {
                let ip = match host {
                    "" => Ipv4Addr::UNSPECIFIED,
                    "<broadcast>" => Ipv4Addr::BROADCAST,
                    _ => match host.parse() {
                        Ok(ip) => ip,
                        Err(_) => match lookup(family, host)? {
                            Address::V4(a) => *a.ip(),
                            _ => return Err(GaiError::from_raw(EAI_FAMILY)),
                        },
                    },
                };
                Ok(Address::V4(SocketAddrV4::new(ip, port)))
            }
            AF_INET6 => {
                let (ip, scope) = match host {
                    "" => (Ipv6Addr::UNSPECIFIED, scope_id),
                    _ => match host.parse() {
                        Ok(ip) => (ip, scope_id),
                        // getaddrinfo also reads a "%eth0" zone into the scope id.
                        Err(_) => match lookup(family, host)? {
                            Address::V6(a) if scope_id == 0 => (*a.ip(), a.scope_id()),
                            Address::V6(a) => (*a.ip(), scope_id),
                            _ => return Err(GaiError::from_raw(EAI_FAMILY)),
                        },
                    },
                };
                Ok(Address::V6(SocketAddrV6::new(ip, port, flowinfo, scope)))
            }
            _ => Err(GaiError::from_raw(EAI_FAMILY)),
        }
    }

    /// An IPv4 or IPv6 address of Python's pieces when `host` is a numeric address, its
    /// family read from the text. No name is looked up: Python's `getnameinfo` reads its
    /// sockaddr this way (`AI_NUMERICHOST`), and so ours refuses names as Python does.
    ///
    /// # Errors
    /// `EAI_NONAME` when `host` is not a numeric IPv4 or IPv6 address.
    pub fn numeric(
        host: &str,
        port: u16,
        flowinfo: u32,
        scope_id: u32,
    ) -> Result<Address, GaiError> {
        match host.parse() {
            Ok(IpAddr::V4(ip)) => Ok(Address::V4(SocketAddrV4::new(ip, port))),
            Ok(IpAddr::V6(ip)) => Ok(Address::V6(SocketAddrV6::new(ip, port, flowinfo, scope_id))),
            Err(_) => Err(GaiError::from_raw(EAI_NONAME)),
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
        .ok_or(GaiError::from_raw(EAI_NONAME))
}

/// The host and service names of `addr` (IPv4 or IPv6), as getnameinfo(3)
/// finds them under `flags` (`NI_NUMERICHOST`, `NI_NUMERICSERV`,
/// `NI_NAMEREQD`, ...): Python's `socket.getnameinfo`.
///
/// # Errors
/// The resolver's code: `EAI_NONAME` (`NI_NAMEREQD` and no name),
/// `EAI_BADFLAGS`, `EAI_FAMILY` for a Unix address, ...
pub fn getnameinfo(addr: &Address, flags: i32) -> Result<(String, String), GaiError> {
    let family = GaiError(EAI_FAMILY);
    if !matches!(addr, Address::V4(_) | Address::V6(_)) {
        return Err(family);
    }
    let sa = addr.to_sockaddr().map_err(|_| family)?;
    // NI_MAXHOST and NI_MAXSERV (glibc's netdb.h): room for any answer.
    let mut host = [0 as libc::c_char; 1025];
    let mut service = [0 as libc::c_char; 32];
    // SAFETY: `sa` is a valid sockaddr of `sa.len()` bytes; both buffers are
    // writable for the lengths given, and getnameinfo NUL-terminates what it writes.
    let rc = unsafe {
        sys::getnameinfo(
            sa.as_ptr().cast(),
            sa.len(),
            host.as_mut_ptr().cast(),
            // The length type differs: socklen_t in glibc, musl and macOS,
            // size_t in FreeBSD's netdb.h; `as _` takes the one declared.
            host.len() as _,
            service.as_mut_ptr().cast(),
            service.len() as _,
            flags,
        )
    };
    if rc != 0 {
        return Err(GaiError(rc));
    }
    // On success both buffers hold NUL-terminated strings; a zeroed one is "".
    let text = |b: &[libc::c_char]| {
        let bytes: Vec<u8> = b
            .iter()
            .take_while(|&&c| c != 0)
            // c_char is i8 on x86-64 and u8 on aarch64: the same byte either way.
            .map(|&c| u8::from_ne_bytes(c.to_ne_bytes()))
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Ok((text(&host), text(&service)))
}
