//! The Linux backend: [epoll(7)](https://man7.org/linux/man-pages/man7/epoll.7.html).
//!
//! The kernel keeps the interest list and already answers misuse with the
//! errnos of the contract, so this is one syscall per call and no table.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::{Event, Events, Interest, Readiness, Selector};
use crate::sys::{cvt, poll_millis};
use crate::Errno;

/// An epoll instance and the buffer epoll_wait(2) fills.
pub(super) struct Epoll {
    epfd: OwnedFd,
    /// Reused by every wait; grown once to the capacity of the `Events` given.
    buf: Vec<libc::epoll_event>,
}

impl Epoll {
    /// A new epoll instance, CLOEXEC.
    pub(super) fn new() -> Result<Epoll, Errno> {
        // SAFETY: epoll_create1 takes no pointer; a non-negative result is a new fd.
        let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `fd` was just created and nothing else owns it.
        let epfd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Epoll {
            epfd,
            buf: Vec::new(),
        })
    }

    /// epoll_ctl(2) with `op` on `fd`.
    fn ctl(&self, op: libc::c_int, fd: RawFd, key: u64, interest: Interest) -> Result<(), Errno> {
        let mut event = libc::epoll_event {
            events: flags(interest),
            u64: key,
        };
        // SAFETY: `event` is a valid epoll_event for the call (EPOLL_CTL_DEL
        // ignores it; kernels before 2.6.9 wanted it non-null even then). The
        // kernel checks `fd` itself, so a closed one is only an EBADF.
        cvt(unsafe { libc::epoll_ctl(self.epfd.as_raw_fd(), op, fd, &mut event) }).map(drop)
    }
}

/// The epoll flags for `interest`. Readable also asks for `EPOLLRDHUP`, so a
/// peer's shutdown is reported as hangup even before the full close.
fn flags(interest: Interest) -> u32 {
    let mut flags = 0;
    if interest.is_readable() {
        flags |= libc::EPOLLIN | libc::EPOLLRDHUP;
    }
    if interest.is_writable() {
        flags |= libc::EPOLLOUT;
    }
    if interest.is_edge() {
        flags |= libc::EPOLLET;
    }
    if interest.is_oneshot() {
        flags |= libc::EPOLLONESHOT;
    }
    flags as u32
}

fn readiness(flags: u32) -> Readiness {
    let has = |flag: libc::c_int| flags & flag as u32 != 0;
    Readiness::new(
        has(libc::EPOLLIN),
        has(libc::EPOLLOUT),
        has(libc::EPOLLERR),
        has(libc::EPOLLHUP | libc::EPOLLRDHUP),
    )
}

impl Selector for Epoll {
    fn register(&mut self, fd: RawFd, key: u64, interest: Interest) -> Result<(), Errno> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, key, interest)
    }

    fn modify(&mut self, fd: RawFd, key: u64, interest: Interest) -> Result<(), Errno> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, key, interest)
    }

    fn unregister(&mut self, fd: RawFd) -> Result<(), Errno> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, Interest::NONE)
    }

    fn wait(&mut self, events: &mut Events, timeout: Option<Duration>) -> Result<(), Errno> {
        let max = events.capacity().min(libc::c_int::MAX as usize);
        self.buf.clear();
        self.buf.reserve(max);
        // SAFETY: `buf` has room for `max` events and the kernel writes at most
        // `max`; the pointer stays valid for the call.
        let n = cvt(unsafe {
            libc::epoll_wait(
                self.epfd.as_raw_fd(),
                self.buf.as_mut_ptr(),
                max as libc::c_int,
                poll_millis(timeout),
            )
        })?;
        // SAFETY: epoll_wait initialized the first `n` (<= max) entries.
        unsafe { self.buf.set_len(n as usize) };
        for event in &self.buf {
            // Copied out by value: the struct is packed on x86_64.
            let (key, flags) = (event.u64, event.events);
            events.push(Event {
                key,
                readiness: readiness(flags),
            });
        }
        Ok(())
    }

    fn as_raw_fd(&self) -> Option<RawFd> {
        Some(self.epfd.as_raw_fd())
    }
}
