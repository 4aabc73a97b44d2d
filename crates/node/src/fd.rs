//! The descriptor as JS holds it: a C int. On Unix it is the fd itself. On
//! Windows it is the `SOCKET` handle, whose value fits 32 bits (kernel handles
//! do, even in 64-bit processes, so that 32-bit ones can share them), carried
//! as Windows' `HandleToLong` / `LongToHandle` carry one: truncated, and
//! sign-extended back, so `INVALID_SOCKET` is -1 as a closed fd is.

use rustix::fd::RawFd;

/// `fd` as JS holds it.
#[cfg(unix)]
pub fn to_js(fd: RawFd) -> i32 {
    fd
}

/// The descriptor JS's `fd` stands for.
#[cfg(unix)]
pub fn from_js(fd: i32) -> RawFd {
    fd
}

/// `fd` as JS holds it.
#[cfg(windows)]
pub fn to_js(fd: RawFd) -> i32 {
    fd as i32
}

/// The descriptor JS's `fd` stands for.
#[cfg(windows)]
pub fn from_js(fd: i32) -> RawFd {
    fd as isize as RawFd
}

/// The slot of a per-descriptor table for `fd`: the fd itself on Unix; on
/// Windows the handle over 4, as handle values are multiples of 4.
pub fn slot(fd: i32) -> Option<usize> {
    let fd = usize::try_from(fd).ok()?;
    Some(if cfg!(windows) { fd >> 2 } else { fd })
}
