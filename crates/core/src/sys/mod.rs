//! The one place where a C `-1` becomes an [`Errno`], the poll(2) wait every
//! timed call uses, and the platform differences.
//!
//! `unix.rs` and `windows.rs` give the same names (constants, `PollFd`, the few
//! calls no crate wraps) over libc and over Winsock, as std and mio split theirs;
//! what differs only between Unixes stays here, by `target_os`. Descriptors are
//! named through `rustix::fd`: std's fd types on Unix, its socket types on Windows.

use std::time::{Duration, Instant};

use rustix::fd::RawFd;

use crate::Errno;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;

/// Flags every send carries: never raise SIGPIPE on a closed peer.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
/// macOS has no MSG_NOSIGNAL; socket2 sets SO_NOSIGPIPE on every socket instead.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub(crate) const SEND_FLAGS: libc::c_int = 0;

/// An all-zero `msghdr` to fill in: its field types differ across platforms and libcs, and
/// musl's has private padding fields, so it cannot be built as a literal.
#[cfg(unix)]
pub(crate) fn zeroed_msghdr() -> libc::msghdr {
    // SAFETY: msghdr is plain old data; all-zero (null pointers, zero lengths) is valid.
    unsafe { std::mem::zeroed() }
}

/// `getsockopt` into a zeroed `T`, returning it and the length the kernel wrote.
///
/// # Safety
/// `T` must be a plain-old-data C struct (or integer) for which all-zero and
/// any bytes the kernel writes are valid values.
#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
pub(crate) unsafe fn getsockopt_struct<T>(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
) -> Result<(T, usize), Errno> {
    // SAFETY: the caller promises all-zero is a valid `T`.
    let mut value: T = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `value` is writable for `len` bytes, `len` a valid in/out pointer.
    cvt(unsafe { libc::getsockopt(fd, level, name, (&mut value as *mut T).cast(), &mut len) })?;
    Ok((value, len as usize))
}

/// Turns a C return value into `Ok(value)` or `Err(errno)`.
pub(crate) fn cvt<T: PartialEq + From<i8>>(ret: T) -> Result<T, Errno> {
    if ret == T::from(-1) {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

/// Milliseconds for poll(2), rounded up so a short wait never becomes a busy
/// 0 ms poll, and capped to what the C int holds (callers loop past the cap).
pub(crate) fn poll_millis(timeout: Option<Duration>) -> libc::c_int {
    match timeout {
        None => -1,
        Some(d) => {
            let ms = d.as_nanos().div_ceil(1_000_000);
            ms.min(libc::c_int::MAX as u128) as libc::c_int
        }
    }
}

/// Waits until `fd` is ready for `events` or `deadline` passes.
///
/// Returns `Ok(false)` on timeout. EINTR restarts the wait with the time left.
pub(crate) fn wait_fd(fd: RawFd, events: i16, deadline: Option<Instant>) -> Result<bool, Errno> {
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let mut pfd = [pollfd(fd, events)];
        match poll(&mut pfd, poll_millis(left)) {
            Err(e) if e == Errno::EINTR => continue,
            Err(e) => return Err(e),
            // The ms cap can end a wait early: only a passed deadline is a timeout.
            Ok(0) if deadline.is_some_and(|d| Instant::now() < d) => continue,
            Ok(0) => return Ok(false),
            Ok(_) if pfd[0].revents & POLLNVAL != 0 => return Err(Errno::EBADF),
            Ok(_) => return Ok(true),
        }
    }
}

/// The mode a new socket starts in: non-blocking if `socktype` asked for
/// `SOCK_NONBLOCK` (the kernel set O_NONBLOCK), else blocking, as in Python.
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
pub(crate) fn initial_timeout(socktype: libc::c_int) -> Option<Duration> {
    (socktype & libc::SOCK_NONBLOCK != 0).then_some(Duration::ZERO)
}

/// macOS has no `SOCK_NONBLOCK` type flag: every new socket starts blocking.
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)))]
pub(crate) fn initial_timeout(_socktype: libc::c_int) -> Option<Duration> {
    None
}

/// BSD accept(2) copies O_NONBLOCK from the listener; Linux accept4(2) does not.
pub(crate) const ACCEPT_INHERITS_NONBLOCK: bool =
    !cfg!(any(target_os = "linux", target_os = "android"));

/// The socket's protocol, where the platform can tell (SO_PROTOCOL; Windows'
/// SO_PROTOCOL_INFOW).
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    windows
))]
pub(crate) fn socket_protocol(sock: &socket2::Socket) -> Result<i32, Errno> {
    sock.protocol()
        .map(|p| p.map_or(0, i32::from))
        .map_err(Errno::from)
}

/// macOS has no SO_PROTOCOL: report 0, "the default for the type", as Python does.
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    windows
)))]
pub(crate) fn socket_protocol(_sock: &socket2::Socket) -> Result<i32, Errno> {
    Ok(0)
}

/// Platforms whose recvmsg(2) can open received descriptors CLOEXEC atomically.
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
mod cmsg_cloexec {
    /// Flags every recvmsg carries: received fds are CLOEXEC from the start.
    pub(crate) const RECV_CMSG_FLAGS: libc::c_int = libc::MSG_CMSG_CLOEXEC;

    /// Nothing to do: the kernel set CLOEXEC.
    pub(crate) fn set_received_cloexec(_fds: &[std::os::fd::OwnedFd]) -> Result<(), crate::Errno> {
        Ok(())
    }
}

/// macOS has no MSG_CMSG_CLOEXEC: CLOEXEC is set right after recvmsg returns
/// (a fork in another thread in between would inherit the fds; nothing closes that window).
#[cfg(all(
    unix,
    not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly"
    ))
))]
mod cmsg_cloexec {
    use std::os::fd::AsRawFd;

    use super::cvt;

    /// No flag to ask for it.
    pub(crate) const RECV_CMSG_FLAGS: libc::c_int = 0;

    /// Sets FD_CLOEXEC on every received fd, trying them all before reporting an error.
    pub(crate) fn set_received_cloexec(fds: &[std::os::fd::OwnedFd]) -> Result<(), crate::Errno> {
        let mut result = Ok(());
        for fd in fds {
            // SAFETY: F_SETFD on an fd we own.
            let rc = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
            if let Err(e) = cvt(rc) {
                result = Err(e);
            }
        }
        result
    }
}

#[cfg(unix)]
pub(crate) use cmsg_cloexec::{set_received_cloexec, RECV_CMSG_FLAGS};

/// The credentials of the process at the other end of an AF_UNIX socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerCredentials {
    /// Its process id, where the platform tells (Linux SO_PEERCRED, macOS LOCAL_PEERPID).
    pub pid: Option<i32>,
    /// Its effective user id.
    pub uid: u32,
    /// Its effective group id.
    pub gid: u32,
}

/// Linux: SO_PEERCRED's `struct ucred`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn peer_credentials(fd: RawFd) -> Result<PeerCredentials, Errno> {
    // SAFETY: ucred is plain old data (three integers).
    let (cred, _) =
        unsafe { getsockopt_struct::<libc::ucred>(fd, libc::SOL_SOCKET, libc::SO_PEERCRED)? };
    Ok(PeerCredentials {
        pid: Some(cred.pid),
        uid: cred.uid,
        gid: cred.gid,
    })
}

/// macOS and the BSDs: getpeereid(3) for the ids; macOS also tells the pid (LOCAL_PEERPID).
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
pub(crate) fn peer_credentials(fd: RawFd) -> Result<PeerCredentials, Errno> {
    let (mut uid, mut gid) = (0, 0);
    // SAFETY: `uid` and `gid` are valid out-pointers.
    cvt(unsafe { libc::getpeereid(fd, &mut uid, &mut gid) })?;
    Ok(PeerCredentials {
        pid: peer_pid(fd),
        uid,
        gid,
    })
}

#[cfg(any(target_os = "macos", target_os = "ios"))]
fn peer_pid(fd: RawFd) -> Option<i32> {
    // SAFETY: pid_t is an integer.
    unsafe { getsockopt_struct::<libc::pid_t>(fd, libc::SOL_LOCAL, libc::LOCAL_PEERPID) }
        .ok()
        .map(|(pid, _)| pid)
}

/// The other BSDs' getpeereid(3) gives no pid.
#[cfg(any(
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
fn peer_pid(_fd: RawFd) -> Option<i32> {
    None
}

/// No peer-credential call known here.
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)))]
pub(crate) fn peer_credentials(_fd: RawFd) -> Result<PeerCredentials, Errno> {
    Err(Errno::EOPNOTSUPP)
}
