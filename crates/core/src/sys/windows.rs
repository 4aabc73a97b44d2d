//! The Windows side of the seam: Winsock's constants and calls (windows-sys)
//! under the names and C types the Unix side gives, so the callers read the same.
//!
//! A socket is a `SOCKET` handle (`RawSocket`, which `rustix::fd::RawFd` names
//! here), never a C runtime fd. Every call reports through `WSAGetLastError`,
//! which [`Errno::last`] reads.

use std::ffi::OsStr;
use std::mem;
use std::sync::Once;
use std::time::Duration;

use rustix::fd::RawFd;
use socket2::SockAddr;
use windows_sys::Win32::Networking::WinSock as ws;

use super::cvt;
use crate::Errno;

pub(crate) const AF_INET: i32 = ws::AF_INET as i32;
pub(crate) const AF_INET6: i32 = ws::AF_INET6 as i32;
pub(crate) const AF_UNIX: i32 = ws::AF_UNIX as i32;
pub(crate) const IPPROTO_TCP: i32 = ws::IPPROTO_TCP;
pub(crate) const SOCK_STREAM: i32 = ws::SOCK_STREAM;
/// Declares functions that Windows lacks as ones failing with `EOPNOTSUPP`:
/// `[pub] fn name(ArgType, ...) -> Result<T, Errno>;`, each with its doc, so a
/// caller compiles and learns it at run time, never a panic.
macro_rules! unsupported {
    ($($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ty),* $(,)?) -> $ret:ty;)*) => {
        $(
            $(#[$meta])*
            $vis fn $name($(_: $arg),*) -> $ret {
                Err($crate::Errno::EOPNOTSUPP)
            }
        )*
    };
}
pub(crate) use unsupported;

pub(crate) use ws::{freeaddrinfo, ADDRINFOA as addrinfo, SOCKADDR_STORAGE as sockaddr_storage};
pub(crate) const AF_UNSPEC: i32 = ws::AF_UNSPEC as i32;
pub(crate) const MSG_TRUNC: i32 = ws::MSG_TRUNC as i32;
// ws2tcpip.h's EAI_* are Winsock codes.
pub(crate) const EAI_FAMILY: i32 = ws::WSAEAFNOSUPPORT;
pub(crate) const EAI_MEMORY: i32 = ws::WSA_NOT_ENOUGH_MEMORY;
pub(crate) const EAI_NONAME: i32 = ws::WSAHOST_NOT_FOUND;

pub(crate) const POLLIN: i16 = ws::POLLIN;
pub(crate) const POLLOUT: i16 = ws::POLLOUT;
pub(crate) const POLLERR: i16 = ws::POLLERR;
pub(crate) const POLLHUP: i16 = ws::POLLHUP;
pub(crate) const POLLNVAL: i16 = ws::POLLNVAL;
/// WSAPoll refuses `POLLPRI` (WSAEINVAL); Winsock reports out-of-band data, which
/// select(2)'s exceptional set stands for, as `POLLRDBAND`.
pub(crate) const POLLPRI: i16 = ws::POLLRDBAND;

/// The socket's address family, from `SO_PROTOCOL_INFOW`: getsockname fails
/// with WSAEINVAL on a socket not yet bound.
pub(crate) fn socket_family(sock: &socket2::Socket) -> Result<i32, Errno> {
    use rustix::fd::AsRawFd;

    // SAFETY: WSAPROTOCOL_INFOW is plain old data; all-zero is a valid value.
    let mut info: ws::WSAPROTOCOL_INFOW = unsafe { mem::zeroed() };
    let mut len = mem::size_of_val(&info) as i32;
    // SAFETY: `info` is writable for `len` bytes and `len` is a valid in/out pointer.
    cvt(unsafe {
        ws::getsockopt(
            sock.as_raw_fd() as ws::SOCKET,
            ws::SOL_SOCKET,
            ws::SO_PROTOCOL_INFOW,
            (&mut info as *mut ws::WSAPROTOCOL_INFOW).cast(),
            &mut len,
        )
    })?;
    Ok(info.iAddressFamily)
}

/// Winsock has no per-call "don't wait" flag, so this bit, outside every
/// `MSG_*` Winsock defines, stands for `MSG_DONTWAIT`: every Winsock socket is
/// kept non-blocking ([`EMULATES_BLOCKING`]), so a call carrying it just skips
/// the wait. It is taken out of the flags before Winsock sees them.
pub(crate) const MSG_DONTWAIT: i32 = 0x4000_0000;

/// True when `flags` ask a call never to wait ([`MSG_DONTWAIT`]).
pub(crate) fn dont_wait(flags: i32) -> bool {
    flags & MSG_DONTWAIT != 0
}

/// The flags Winsock gets: the caller's, without [`MSG_DONTWAIT`].
#[inline]
pub(crate) fn os_flags(flags: i32) -> i32 {
    flags & !MSG_DONTWAIT
}

/// Winsock cannot make one call of a blocking socket not wait, so every socket
/// stays non-blocking and the blocking mode waits in WSAPoll, as the timed mode
/// does (CPython's timed mode works the same way on every platform).
pub(crate) const EMULATES_BLOCKING: bool = true;

/// True when a connect goes on in the background: Winsock says `WSAEWOULDBLOCK`
/// where Unix says `EINPROGRESS` (Python's connect checks both there).
pub(crate) fn connect_in_progress(e: Errno) -> bool {
    e == Errno::EWOULDBLOCK || e == Errno::EINPROGRESS
}

/// One entry of the array WSAPoll takes (the same fields as `struct pollfd`).
pub(crate) type PollFd = ws::WSAPOLLFD;

/// An entry WSAPoll skips: `INVALID_SOCKET`, the "negative" handle its docs name.
pub(crate) const SKIP_FD: ws::SOCKET = ws::INVALID_SOCKET;

/// True for a handle that can name an open socket (not `INVALID_SOCKET`).
pub(crate) fn is_valid(fd: RawFd) -> bool {
    fd as ws::SOCKET != ws::INVALID_SOCKET
}

/// An entry watching `fd` for `events`.
pub(crate) fn pollfd(fd: RawFd, events: i16) -> PollFd {
    ws::WSAPOLLFD {
        fd: fd as ws::SOCKET,
        events,
        revents: 0,
    }
}

/// Winsock's WSAStartup, once per process, before any call that takes no
/// socket (socket2 and std make theirs when a socket is created; the resolver
/// and a poll of handles from elsewhere may come first). Never undone: the
/// process's exit is the cleanup.
pub(crate) fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // SAFETY: WSADATA is plain old data; all-zero is a valid out-value.
        let mut data: ws::WSADATA = unsafe { std::mem::zeroed() };
        // SAFETY: `data` is a valid out-pointer. A failure shows up as
        // WSANOTINITIALISED from the next call, which is the clearer place to see it.
        let _ = unsafe { ws::WSAStartup(0x202, &mut data) };
    });
}

/// WSAPoll over `fds` for up to `millis` (-1: forever). WSAPoll refuses an
/// empty array (WSAEINVAL) where poll(2) sleeps, so an empty set sleeps here.
///
/// Known gap: before Windows 10 2004, WSAPoll did not report a connect that
/// failed (no POLLERR/POLLHUP), so a timed connect to a closed port waits out
/// its timeout there; libuv and mio use AFD polling for this reason.
pub(crate) fn poll(fds: &mut [PollFd], millis: i32) -> Result<i32, Errno> {
    init();
    // Windows skips an INVALID_SOCKET entry, as documented; wine 8 fails the whole call
    // with WSAENOTSOCK instead. So the skipped entries are left out here, everywhere.
    if fds.iter().any(|p| p.fd == SKIP_FD) {
        let mut live: Vec<PollFd> = fds.iter().filter(|p| p.fd != SKIP_FD).copied().collect();
        let ready = poll(&mut live, millis)?;
        let mut polled = live.into_iter();
        for p in fds.iter_mut() {
            p.revents = if p.fd == SKIP_FD {
                0
            } else {
                polled.next().map_or(0, |q| q.revents)
            };
        }
        return Ok(ready);
    }
    if fds.is_empty() {
        match u64::try_from(millis) {
            Ok(ms) => std::thread::sleep(Duration::from_millis(ms)),
            Err(_) => loop {
                std::thread::park();
            },
        }
        return Ok(0);
    }
    let n = u32::try_from(fds.len()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: `fds` is a valid array of `n` WSAPOLLFDs for the call.
    cvt(unsafe { ws::WSAPoll(fds.as_mut_ptr(), n, millis) })
}

/// `EBADF` unless `fd` is an open socket: Winsock has no descriptor table to
/// ask, so a socket option every socket has is read (WSAENOTSOCK otherwise).
pub(crate) fn ensure_open(fd: RawFd) -> Result<(), Errno> {
    ensure_socket(fd).map_err(|e| {
        if e == Errno::ENOTSOCK {
            Errno::EBADF
        } else {
            e
        }
    })
}

/// `ENOTSOCK` unless `fd` is an open socket (a closed handle and a non-socket
/// look alike to Winsock).
pub(crate) fn ensure_socket(fd: RawFd) -> Result<(), Errno> {
    let mut buf = [0u8; 4];
    getsockopt(fd, ws::SOL_SOCKET, ws::SO_TYPE, &mut buf).map(drop)
}

/// closesocket.
pub(crate) fn close(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: the caller owned `fd` and gives it to closesocket exactly once.
    cvt(unsafe { ws::closesocket(fd as ws::SOCKET) }).map(drop)
}

/// shutdown: `SD_RECEIVE`, `SD_SEND`, `SD_BOTH` are 0, 1, 2, as `SHUT_*`.
pub(crate) fn shutdown(fd: RawFd, how: i32) -> Result<(), Errno> {
    // SAFETY: plain call on a socket the caller owns.
    cvt(unsafe { ws::shutdown(fd as ws::SOCKET, how) }).map(drop)
}

/// setsockopt from raw bytes.
pub(crate) fn setsockopt(fd: RawFd, level: i32, name: i32, value: &[u8]) -> Result<(), Errno> {
    let len = i32::try_from(value.len()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: `value` is valid for `len` bytes for the duration of the call.
    cvt(unsafe { ws::setsockopt(fd as ws::SOCKET, level, name, value.as_ptr(), len) }).map(drop)
}

/// getsockopt into `buf`, returning the length Winsock wrote.
pub(crate) fn getsockopt(fd: RawFd, level: i32, name: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut len = i32::try_from(buf.len()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: `buf` is writable for `len` bytes and `len` is a valid in/out pointer.
    cvt(unsafe { ws::getsockopt(fd as ws::SOCKET, level, name, buf.as_mut_ptr(), &mut len) })?;
    Ok(len as usize)
}

/// Windows' AF_UNIX has no abstract names (a leading NUL) that it documents:
/// refused with `EOPNOTSUPP` before the call.
pub(crate) const REFUSES_ABSTRACT_NAMES: bool = true;

/// The room in `sun_path` (afunix.h): 108 bytes.
pub(crate) fn unix_path_capacity() -> usize {
    // SAFETY: SOCKADDR_UN is plain old data; all-zero is a valid value.
    let un: ws::SOCKADDR_UN = unsafe { mem::zeroed() };
    un.sun_path.len()
}

/// A Unix socket path's bytes as the `OsStr` socket2 takes: Windows paths are
/// text, so the bytes must be UTF-8 (`EINVAL` otherwise), as Python encodes them.
pub(crate) fn path_from_bytes(path: &[u8]) -> Result<&OsStr, Errno> {
    std::str::from_utf8(path)
        .map(OsStr::new)
        .map_err(|_| Errno::EINVAL)
}

/// The raw path bytes of an AF_UNIX address, up to its NUL terminator (socket2
/// decodes `sockaddr_un` on Unix only).
pub(crate) fn unix_path_bytes(addr: &SockAddr) -> Vec<u8> {
    let offset = mem::offset_of!(ws::SOCKADDR_UN, sun_path);
    let len = usize::try_from(addr.len())
        .unwrap_or(0)
        .saturating_sub(offset);
    // SAFETY: the storage holds a SOCKADDR_UN (the family is AF_UNIX) and is at
    // least as large; only its `sun_path` is read, up to the length Winsock gave.
    let un = unsafe { &*addr.as_ptr().cast::<ws::SOCKADDR_UN>() };
    un.sun_path[..len.min(un.sun_path.len())]
        .iter()
        .map(|&c| c as u8)
        .take_while(|&b| b != 0)
        .collect()
}

/// getaddrinfo, after WSAStartup: a resolve may come before any socket.
///
/// # Safety
/// As `getaddrinfo`: NUL-terminated strings or null, valid hints and out-pointer.
pub(crate) unsafe fn getaddrinfo(
    node: *const u8,
    service: *const u8,
    hints: *const addrinfo,
    res: *mut *mut addrinfo,
) -> i32 {
    init();
    // SAFETY: the caller's promises are getaddrinfo's.
    unsafe { ws::getaddrinfo(node, service, hints, res) }
}

/// getnameinfo, after WSAStartup.
///
/// # Safety
/// As `getnameinfo`: a valid sockaddr of `len` bytes, buffers writable for their lengths.
pub(crate) unsafe fn getnameinfo(
    sa: *const ws::SOCKADDR,
    len: i32,
    host: *mut u8,
    host_len: u32,
    service: *mut u8,
    service_len: u32,
    flags: i32,
) -> i32 {
    init();
    // SAFETY: the caller's promises are getnameinfo's.
    unsafe { ws::getnameinfo(sa, len, host, host_len, service, service_len, flags) }
}

/// The text of an `EAI_*` code: Winsock's message for it (ws2_32 exports no
/// gai_strerror; ws2tcpip.h's inline one reads the same system message table).
pub(crate) fn gai_strerror(code: i32) -> String {
    std::io::Error::from_raw_os_error(code).to_string()
}
