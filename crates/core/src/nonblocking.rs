//! Non-blocking calls on a borrowed fd, for hot loops that drive readiness
//! themselves (the Node binding's `try*` calls): no mode lookup, no poll, one
//! syscall each, whatever O_NONBLOCK says (MSG_DONTWAIT).

use std::os::fd::{AsRawFd, BorrowedFd};

use crate::sys::{cvt, SEND_FLAGS};
use crate::Errno;

/// Receives into `buf` without blocking; 0 is end of stream.
///
/// Corresponds to [`recv(2)`](https://man7.org/linux/man-pages/man2/recv.2.html)
/// with `MSG_DONTWAIT`.
///
/// # Errors
/// `EAGAIN` when nothing is there, `ECONNRESET`, `ENOTCONN`, `EBADF`.
pub fn try_recv(fd: BorrowedFd<'_>, buf: &mut [u8], flags: i32) -> Result<usize, Errno> {
    // SAFETY: `buf` is writable for its length; the fd is borrowed for the call.
    let n = unsafe {
        libc::recv(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            flags | libc::MSG_DONTWAIT,
        )
    };
    cvt(n).map(|n| n as usize)
}

/// Sends from `buf` without blocking, never raising SIGPIPE.
///
/// Corresponds to [`send(2)`](https://man7.org/linux/man-pages/man2/send.2.html)
/// with `MSG_DONTWAIT`.
///
/// # Errors
/// `EAGAIN` when the send buffer is full, `EPIPE`, `ECONNRESET`, `ENOTCONN`, `EBADF`.
pub fn try_send(fd: BorrowedFd<'_>, buf: &[u8], flags: i32) -> Result<usize, Errno> {
    // SAFETY: `buf` is readable for its length; the fd is borrowed for the call.
    let n = unsafe {
        libc::send(
            fd.as_raw_fd(),
            buf.as_ptr().cast(),
            buf.len(),
            flags | libc::MSG_DONTWAIT | SEND_FLAGS,
        )
    };
    cvt(n).map(|n| n as usize)
}
