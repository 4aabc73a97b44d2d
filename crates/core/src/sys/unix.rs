//! The Unix side of the seam: libc's constants and calls under the names the
//! rest of the crate uses on every platform.

use std::ffi::OsStr;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;

use socket2::SockAddr;

use super::cvt;
use crate::Errno;

pub(crate) use libc::{
    addrinfo, freeaddrinfo, getaddrinfo, getnameinfo, sockaddr_storage, AF_UNSPEC, EAI_FAMILY,
    EAI_MEMORY, EAI_NONAME, MSG_TRUNC,
};
pub(crate) use libc::{
    AF_INET, AF_INET6, AF_UNIX, IPPROTO_TCP, MSG_DONTWAIT, POLLERR, POLLHUP, POLLIN, POLLNVAL,
    POLLOUT, POLLPRI, SOCK_STREAM,
};

/// The socket's address family, from getsockname(2): a Unix socket has a local
/// address of its family from the start, bound or not.
pub(crate) fn socket_family(sock: &socket2::Socket) -> Result<i32, Errno> {
    Ok(i32::from(sock.local_addr()?.domain()))
}

/// True when `flags` ask a call never to wait (`MSG_DONTWAIT`).
pub(crate) fn dont_wait(flags: i32) -> bool {
    flags & MSG_DONTWAIT != 0
}

/// The flags the kernel gets: the caller's, `MSG_DONTWAIT` included.
#[inline]
pub(crate) fn os_flags(flags: i32) -> i32 {
    flags
}

/// The kernel blocks a blocking socket itself: its fd is blocking.
pub(crate) const EMULATES_BLOCKING: bool = false;

/// True when a connect(2) goes on in the background: `EINPROGRESS`.
pub(crate) fn connect_in_progress(e: Errno) -> bool {
    e == Errno::EINPROGRESS
}

/// One entry of the array poll(2) takes.
pub(crate) type PollFd = libc::pollfd;

/// An entry poll(2) skips: a negative fd.
pub(crate) const SKIP_FD: RawFd = -1;

/// True for a number that can name an open fd (not negative).
pub(crate) fn is_valid(fd: RawFd) -> bool {
    fd >= 0
}

/// An entry watching `fd` for `events`.
pub(crate) fn pollfd(fd: RawFd, events: libc::c_short) -> PollFd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// poll(2) over `fds` for up to `millis` (-1: forever).
pub(crate) fn poll(fds: &mut [PollFd], millis: libc::c_int) -> Result<libc::c_int, Errno> {
    // SAFETY: `fds` is a valid array of `fds.len()` pollfds for the call.
    cvt(unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, millis) })
}

/// `EBADF` unless `fd` is open.
pub(crate) fn ensure_open(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: F_GETFD takes no pointer and only reads the descriptor table.
    cvt(unsafe { libc::fcntl(fd, libc::F_GETFD) }).map(drop)
}

/// `EBADF` unless `fd` is open, `ENOTSOCK` unless it is a socket.
pub(crate) fn ensure_socket(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: fstat only reads the inode; all-zero is a valid `stat`.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid out-pointer for fstat.
    cvt(unsafe { libc::fstat(fd, &mut st) })?;
    if st.st_mode & libc::S_IFMT != libc::S_IFSOCK {
        return Err(Errno::ENOTSOCK);
    }
    Ok(())
}

/// close(2), once. EINTR is not retried: on Linux the fd is already gone when
/// close returns EINTR.
pub(crate) fn close(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: the caller owned `fd` and gives it to close exactly once.
    cvt(unsafe { libc::close(fd) }).map(drop)
}

/// shutdown(2).
pub(crate) fn shutdown(fd: RawFd, how: i32) -> Result<(), Errno> {
    // SAFETY: plain syscall on an fd the caller owns.
    cvt(unsafe { libc::shutdown(fd, how) }).map(drop)
}

/// setsockopt(2) from raw bytes.
pub(crate) fn setsockopt(fd: RawFd, level: i32, name: i32, value: &[u8]) -> Result<(), Errno> {
    let len = libc::socklen_t::try_from(value.len()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: `value` is valid for `len` bytes for the duration of the call.
    cvt(unsafe { libc::setsockopt(fd, level, name, value.as_ptr().cast(), len) }).map(drop)
}

/// getsockopt(2) into `buf`, returning the length the kernel wrote.
pub(crate) fn getsockopt(fd: RawFd, level: i32, name: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut len = libc::socklen_t::try_from(buf.len()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: `buf` is writable for `len` bytes and `len` is a valid in/out pointer.
    cvt(unsafe { libc::getsockopt(fd, level, name, buf.as_mut_ptr().cast(), &mut len) })?;
    Ok(len as usize)
}

/// Unix hands an abstract AF_UNIX name (leading NUL) to the kernel, which says
/// whether it has them (Linux does).
pub(crate) const REFUSES_ABSTRACT_NAMES: bool = false;

/// The room in `sun_path`: 108 bytes on Linux, 104 on the BSDs.
pub(crate) fn unix_path_capacity() -> usize {
    // SAFETY: sockaddr_un is plain old data; all-zero is a valid value.
    let un: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    un.sun_path.len()
}

/// A Unix socket path's bytes as the `OsStr` socket2 takes: any bytes.
pub(crate) fn path_from_bytes(path: &[u8]) -> Result<&OsStr, Errno> {
    Ok(OsStr::from_bytes(path))
}

/// The raw path bytes of an AF_UNIX address, NUL terminator dropped; a leading
/// NUL for an abstract name.
pub(crate) fn unix_path_bytes(addr: &SockAddr) -> Vec<u8> {
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

/// gai_strerror(3)'s text for an `EAI_*` code.
pub(crate) fn gai_strerror(code: i32) -> String {
    // SAFETY: gai_strerror returns a pointer to a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(code)) }
        .to_string_lossy()
        .into_owned()
}
