//! The macOS/BSD backend: [kqueue(2)](https://man.freebsd.org/cgi/man.cgi?query=kqueue&sektion=2),
//! one `EVFILT_READ` and/or `EVFILT_WRITE` filter per fd.
//!
//! kevent(2) answers misuse differently from epoll_ctl(2) (`EV_ADD` on a
//! registered fd silently updates it), so a table of registered fds gives the
//! contract's `EEXIST`/`ENOENT`. It also holds each fd's key: `udata` is left
//! null, since a pointer-sized field cannot hold a `u64` key on 32-bit BSDs.
//!
//! `kevent` structs are built by assigning fields to a zeroed value, so the
//! field types that differ between the BSDs (NetBSD's `u32` filter and flags,
//! FreeBSD's `ext`) need no `cfg` here.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;
use std::time::Duration;

use super::{ensure_open, Event, Events, Interest, Readiness, Selector};
use crate::sys::cvt;
use crate::Errno;

/// A `kevent` change: `$filter` on `$fd` with `$flags`. A macro rather than
/// a function so that the field types, which differ between the BSDs, are
/// never named.
macro_rules! change {
    ($fd:expr, $filter:expr, $flags:expr) => {{
        // SAFETY: kevent is plain old data on every BSD, for which all zeros
        // is a valid value (null udata, zero ext).
        let mut change: libc::kevent = unsafe { std::mem::zeroed() };
        change.ident = $fd as libc::uintptr_t;
        change.filter = $filter;
        change.flags = $flags;
        change
    }};
}

/// A kqueue, the registered fds, and the buffers kevent(2) reads and fills.
pub(super) struct Kqueue {
    kq: OwnedFd,
    entries: HashMap<RawFd, Entry>,
    /// Changes to submit; reused by every call.
    changes: Vec<libc::kevent>,
    /// Filled by every wait; grown once to the capacity of the `Events` given.
    buf: Vec<libc::kevent>,
    /// Counts waits, to merge the read and write reports of one fd in one wait.
    round: u64,
}

struct Entry {
    key: u64,
    interest: Interest,
    /// The wait that last reported this fd, and where its event went.
    round: u64,
    slot: usize,
}

// SAFETY: the only thing that is neither Send nor Sync is the `udata` raw
// pointer inside the scratch `kevent`s, which is always null, never
// dereferenced, and never shared: every use of the buffers takes `&mut self`.
unsafe impl Send for Kqueue {}
// SAFETY: as above; `&Kqueue` gives no access to the buffers.
unsafe impl Sync for Kqueue {}

impl Kqueue {
    /// A new kqueue, CLOEXEC.
    pub(super) fn new() -> Result<Kqueue, Errno> {
        // SAFETY: kqueue takes no argument; a non-negative result is a new fd.
        let fd = cvt(unsafe { libc::kqueue() })?;
        // SAFETY: `fd` was just created and nothing else owns it.
        let kq = unsafe { OwnedFd::from_raw_fd(fd) };
        // macOS has no kqueue1/O_CLOEXEC, so the flag is set right after. A
        // kqueue is not inherited across fork(2), so no child of a concurrent
        // fork+exec can hold it in between.
        // SAFETY: F_SETFD takes an int and only changes the descriptor table.
        cvt(unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) })?;
        Ok(Kqueue {
            kq,
            entries: HashMap::new(),
            changes: Vec::new(),
            buf: Vec::new(),
            round: 0,
        })
    }

    /// Queues one change per filter of `interest` on `fd`: `EV_ADD` with the
    /// mode's flags when `add`, else `EV_DELETE`.
    fn queue(&mut self, fd: RawFd, interest: Interest, add: bool) {
        let mut flags = libc::EV_DELETE;
        if add {
            flags = libc::EV_ADD;
            if interest.is_edge() {
                flags |= libc::EV_CLEAR;
            }
            if interest.is_oneshot() {
                // Disabled, not deleted, after one report, so the filter is
                // still there for `modify` and `unregister`, as with epoll.
                flags |= libc::EV_DISPATCH;
            }
        }
        if interest.is_readable() {
            self.changes.push(change!(fd, libc::EVFILT_READ, flags));
        }
        if interest.is_writable() {
            self.changes.push(change!(fd, libc::EVFILT_WRITE, flags));
        }
    }

    /// Submits the queued changes; the first that fails gives the errno.
    fn submit(&mut self) -> Result<(), Errno> {
        if self.changes.is_empty() {
            return Ok(());
        }
        // SAFETY: `changes` is valid for reads of its length. With no event
        // list (0 entries), kevent returns at once and reports a failed
        // change as -1/errno rather than as an EV_ERROR event.
        let ret = cvt(unsafe {
            libc::kevent(
                self.kq.as_raw_fd(),
                self.changes.as_ptr(),
                self.changes.len() as _,
                ptr::null_mut(),
                0,
                ptr::null(),
            )
        });
        self.changes.clear();
        ret.map(drop)
    }

    /// [`Kqueue::submit`] for the changes of one `fd`; with none queued (an
    /// empty interest), checks that `fd` is open, as the kernel would have.
    fn submit_for(&mut self, fd: RawFd) -> Result<(), Errno> {
        if self.changes.is_empty() {
            return ensure_open(fd);
        }
        self.submit()
    }
}

/// What a kevent says: its filter gives readable or writable; `EV_EOF` is
/// hangup, and an error too when the socket's error code rides in `fflags`.
fn readiness(event: &libc::kevent) -> Readiness {
    let eof = event.flags & libc::EV_EOF != 0;
    Readiness::new(
        event.filter == libc::EVFILT_READ,
        event.filter == libc::EVFILT_WRITE,
        event.flags & libc::EV_ERROR != 0 || (eof && event.fflags != 0),
        eof,
    )
}

impl Selector for Kqueue {
    fn register(&mut self, fd: RawFd, key: u64, interest: Interest) -> Result<(), Errno> {
        if self.entries.contains_key(&fd) {
            ensure_open(fd)?;
            return Err(Errno::EEXIST);
        }
        self.queue(fd, interest, true);
        self.submit_for(fd)?;
        let entry = Entry {
            key,
            interest,
            round: 0,
            slot: 0,
        };
        self.entries.insert(fd, entry);
        Ok(())
    }

    fn modify(&mut self, fd: RawFd, key: u64, interest: Interest) -> Result<(), Errno> {
        let Some(old) = self.entries.get(&fd).map(|entry| entry.interest) else {
            ensure_open(fd)?;
            return Err(Errno::ENOENT);
        };
        // Deleted and added again: EV_ADD on a live filter keeps the
        // EV_CLEAR/EV_DISPATCH it was created with on some BSDs, and adding
        // re-arms a dispatched (one-shot) filter.
        self.queue(fd, old, false);
        self.queue(fd, interest, true);
        if let Err(e) = self.submit_for(fd) {
            if e == Errno::EBADF {
                // Closed: the kernel already dropped its filters.
                self.entries.remove(&fd);
            }
            return Err(e);
        }
        if let Some(entry) = self.entries.get_mut(&fd) {
            entry.key = key;
            entry.interest = interest;
        }
        Ok(())
    }

    fn unregister(&mut self, fd: RawFd) -> Result<(), Errno> {
        let Some(entry) = self.entries.remove(&fd) else {
            ensure_open(fd)?;
            return Err(Errno::ENOENT);
        };
        self.queue(fd, entry.interest, false);
        self.submit_for(fd)
    }

    fn wait(&mut self, events: &mut Events, timeout: Option<Duration>) -> Result<(), Errno> {
        let max = events.capacity().min(libc::c_int::MAX as usize);
        self.buf.clear();
        self.buf.reserve(max);
        // Nanoseconds: kevent(2) needs no rounding.
        let ts = timeout.map(|d| libc::timespec {
            tv_sec: d.as_secs() as libc::time_t,
            tv_nsec: d.subsec_nanos() as _,
        });
        let ts_ptr = ts
            .as_ref()
            .map_or(ptr::null(), |ts| ts as *const libc::timespec);
        // SAFETY: no changes; `buf` has room for `max` events and the kernel
        // writes at most `max`; `ts_ptr` is null or points at `ts`, which
        // outlives the call.
        let n = cvt(unsafe {
            libc::kevent(
                self.kq.as_raw_fd(),
                ptr::null(),
                0,
                self.buf.as_mut_ptr(),
                max as _,
                ts_ptr,
            )
        })?;
        // SAFETY: kevent initialized the first `n` (<= max) entries.
        unsafe { self.buf.set_len(n as usize) };
        self.round += 1;
        for event in &self.buf {
            let fd = event.ident as RawFd;
            // Every filter is deleted before its entry: none is missing.
            let Some(entry) = self.entries.get_mut(&fd) else {
                continue;
            };
            let readiness = readiness(event);
            if entry.round == self.round {
                // The other filter of an fd already reported in this wait.
                let merged = &mut events.list[entry.slot].readiness;
                merged.0 |= readiness.0;
                continue;
            }
            entry.round = self.round;
            entry.slot = events.len();
            events.push(Event {
                key: entry.key,
                readiness,
            });
            if entry.interest.is_oneshot()
                && entry.interest.is_readable()
                && entry.interest.is_writable()
            {
                // EV_DISPATCH disabled the filter that fired; one-shot means
                // the whole fd, so the other filter is disabled as well.
                let other = if event.filter == libc::EVFILT_READ {
                    libc::EVFILT_WRITE
                } else {
                    libc::EVFILT_READ
                };
                self.changes.push(change!(fd, other, libc::EV_DISABLE));
            }
        }
        if !self.changes.is_empty() {
            // The events are already taken; a failure can only mean that an
            // fd was closed, which removed its filters anyway.
            let _ = self.submit();
        }
        Ok(())
    }

    fn as_raw_fd(&self) -> Option<RawFd> {
        Some(self.kq.as_raw_fd())
    }
}
