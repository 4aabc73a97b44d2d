//! Data calls on a borrowed fd under Python's three modes, shared by [`Socket`]
//! and by the Node binding's fd-level hot calls (which skip the object lookup).
//!
//! `timeout`: `None` blocks, `Some(ZERO)` never waits (`EAGAIN`), `Some(d)`
//! waits with poll(2) up to `d` in all, then fails with `ETIMEDOUT`. EINTR is
//! retried (PEP 475). `MSG_DONTWAIT` in `flags` also means "never wait" (on
//! Windows, core's own bit of that name: see `sys::EMULATES_BLOCKING`).
//!
//! [`Socket`]: crate::Socket

use rustix::fd::{AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use crate::sys::{self, wait_fd, SEND_FLAGS};
use crate::Errno;

/// The flag that makes one call never wait, whatever the socket's mode: libc's
/// on Unix; on Windows, which has none, a bit of core's own (see
/// `sys::EMULATES_BLOCKING`) that no call passes on to Winsock.
pub const MSG_DONTWAIT: i32 = sys::MSG_DONTWAIT;

/// A timeout of `seconds` (>= 0) as a [`Duration`], for [`crate::Socket::set_timeout`]
/// and the calls here. A positive timeout under 1 ns stays a timeout (1 ns):
/// rounding it to zero would silently make it non-blocking. Past
/// `Duration::MAX` it saturates.
pub fn timeout_from_secs(seconds: f64) -> Duration {
    let d = Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX);
    if seconds > 0.0 && d.is_zero() {
        Duration::from_nanos(1)
    } else {
        d
    }
}

/// The deadline a timed call waits until; `None` when it never waits on a timer.
pub(crate) fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.filter(|d| !d.is_zero()).map(|d| Instant::now() + d)
}

/// Runs `f` under the mode, waiting for `events` until `deadline` when timed.
/// The call is tried first and poll(2) only runs on EAGAIN, which saves a
/// syscall whenever data is already there.
pub(crate) fn call<T>(
    fd: RawFd,
    events: i16,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    flags: i32,
    mut f: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    // Blocking mode waits here too where the OS socket never blocks (Windows).
    let waits = timeout.map_or(sys::EMULATES_BLOCKING, |d| !d.is_zero()) && !sys::dont_wait(flags);
    loop {
        match f() {
            Err(e) if e == Errno::EINTR => continue,
            Err(e) if waits && e.is_would_block() => {
                if !wait_fd(fd, events, deadline)? {
                    return Err(Errno::ETIMEDOUT);
                }
            }
            other => return other,
        }
    }
}

// recv/send go through rustix: raw syscalls on Linux. glibc's wrappers add
// cancellation-point bookkeeping in any multithreaded process, Node included:
// ~11 % of an EAGAIN recv in a profile (benchmark/README.md). Flags pass through.

fn recv_once(fd: BorrowedFd<'_>, buf: &mut [u8], flags: i32) -> Result<usize, Errno> {
    let flags = rustix::net::RecvFlags::from_bits_retain(sys::os_flags(flags) as u32);
    // The second count is the datagram's full length under MSG_TRUNC, as recv(2) returns.
    rustix::net::recv(fd, buf, flags)
        .map(|(_, n)| n)
        .map_err(Errno::from)
}

fn send_once(fd: BorrowedFd<'_>, buf: &[u8], flags: i32) -> Result<usize, Errno> {
    let flags =
        rustix::net::SendFlags::from_bits_retain((sys::os_flags(flags) | SEND_FLAGS) as u32);
    rustix::net::send(fd, buf, flags).map_err(Errno::from)
}

/// Receives into `buf`; 0 is end of stream. An empty `buf` returns 0 at once,
/// as Python's `recv(0)` does (the kernel would wait for a byte).
///
/// Corresponds to [`recv(2)`](https://man7.org/linux/man-pages/man2/recv.2.html).
///
/// # Errors
/// `EAGAIN` (non-blocking), `ETIMEDOUT` (timed), `ECONNRESET`, `ENOTCONN`, `EBADF`.
pub fn recv(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    flags: i32,
    timeout: Option<Duration>,
) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    let raw = fd.as_raw_fd();
    call(raw, sys::POLLIN, timeout, deadline(timeout), flags, || {
        recv_once(fd, buf, flags)
    })
}

/// Sends from `buf`, returning how many bytes went out. Never raises SIGPIPE.
///
/// Corresponds to [`send(2)`](https://man7.org/linux/man-pages/man2/send.2.html).
///
/// # Errors
/// `EAGAIN`, `ETIMEDOUT`, `EPIPE`, `ECONNRESET`, `ENOTCONN`, `EMSGSIZE`, `EBADF`.
pub fn send(
    fd: BorrowedFd<'_>,
    buf: &[u8],
    flags: i32,
    timeout: Option<Duration>,
) -> Result<usize, Errno> {
    let raw = fd.as_raw_fd();
    call(raw, sys::POLLOUT, timeout, deadline(timeout), flags, || {
        send_once(fd, buf, flags)
    })
}

/// Sends all of `buf`, looping over partial sends; when timed, the timeout
/// covers the whole call, as in Python. `sent` holds the bytes that went out,
/// also when an error stops the loop.
///
/// # Errors
/// As [`send`]; without waiting (non-blocking), `EAGAIN` once the buffer fills.
pub fn sendall(
    fd: BorrowedFd<'_>,
    buf: &[u8],
    flags: i32,
    timeout: Option<Duration>,
    sent: &mut usize,
) -> Result<(), Errno> {
    let raw = fd.as_raw_fd();
    let deadline = deadline(timeout);
    *sent = 0;
    while *sent < buf.len() {
        let rest = &buf[*sent..];
        *sent += call(raw, sys::POLLOUT, timeout, deadline, flags, || {
            send_once(fd, rest, flags)
        })?;
    }
    Ok(())
}
