//! The one place where a C `-1` becomes an [`Errno`], the poll(2) wait every
//! timed call uses, and the platform differences.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use crate::Errno;

/// Flags every send carries: never raise SIGPIPE on a closed peer.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
/// macOS has no MSG_NOSIGNAL; socket2 sets SO_NOSIGPIPE on every socket instead.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub(crate) const SEND_FLAGS: libc::c_int = 0;

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
pub(crate) fn wait_fd(
    fd: RawFd,
    events: libc::c_short,
    deadline: Option<Instant>,
) -> Result<bool, Errno> {
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let mut pfd = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        // SAFETY: `pfd` is one valid pollfd that outlives the call.
        match cvt(unsafe { libc::poll(&mut pfd, 1, poll_millis(left)) }) {
            Err(e) if e == Errno::EINTR => continue,
            Err(e) => return Err(e),
            // The ms cap can end a wait early: only a passed deadline is a timeout.
            Ok(0) if deadline.is_some_and(|d| Instant::now() < d) => continue,
            Ok(0) => return Ok(false),
            Ok(_) if pfd.revents & libc::POLLNVAL != 0 => return Err(Errno::EBADF),
            Ok(_) => return Ok(true),
        }
    }
}

/// The `SOCK_NONBLOCK` type flag of socket(2)/socketpair(2).
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
pub(crate) const SOCK_NONBLOCK: libc::c_int = libc::SOCK_NONBLOCK;
/// macOS has no `SOCK_NONBLOCK` type flag: nothing to look for.
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)))]
pub(crate) const SOCK_NONBLOCK: libc::c_int = 0;

/// The mode a new socket starts in: non-blocking if `socktype` asked for
/// `SOCK_NONBLOCK` (the kernel set O_NONBLOCK), else blocking, as in Python.
pub(crate) fn initial_timeout(socktype: libc::c_int) -> Option<Duration> {
    (socktype & SOCK_NONBLOCK != 0).then_some(Duration::ZERO)
}

/// BSD accept(2) copies O_NONBLOCK from the listener; Linux accept4(2) does not.
pub(crate) const ACCEPT_INHERITS_NONBLOCK: bool =
    !cfg!(any(target_os = "linux", target_os = "android"));

/// The socket's protocol, where the platform can tell (SO_PROTOCOL).
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
pub(crate) fn socket_protocol(sock: &socket2::Socket) -> Result<i32, Errno> {
    sock.protocol()
        .map(|p| p.map_or(0, i32::from))
        .map_err(Errno::from)
}

/// macOS has no SO_PROTOCOL: report 0, "the default for the type", as Python does.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub(crate) fn socket_protocol(_sock: &socket2::Socket) -> Result<i32, Errno> {
    Ok(0)
}
