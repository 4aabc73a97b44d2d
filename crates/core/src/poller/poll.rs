//! The fallback backend: [poll(2)](https://man7.org/linux/man-pages/man2/poll.2.html),
//! on every Unix, forceable with [`Backend::Poll`](super::Backend::Poll).
//!
//! poll(2) keeps no state, so the interest list is a table here, and the
//! checks epoll_ctl(2) makes (open fd, already there, not there) are made by
//! hand to give the same errnos. Written by hand because no maintained crate
//! offers a forceable poll(2) backend on Linux (`polling` uses epoll there).
//!
//! Modes: edge-triggered is level-triggered here (see [`Interest::edge`]);
//! one-shot is emulated by leaving a fired fd out of poll(2), as fd -1, which
//! poll(2) skips, until `modify` re-arms it.

use rustix::fd::RawFd;
use std::collections::HashMap;
use std::time::Duration;

use super::{ensure_open, Event, Events, Interest, Readiness, Selector};
use crate::sys::{self, poll_millis};
use crate::Errno;

/// `POLLRDHUP` (peer shut down writing) where poll(2) has it; elsewhere a
/// peer's close shows as `POLLHUP` alone.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
const POLLRDHUP: i16 = libc::POLLRDHUP;
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
const POLLRDHUP: i16 = 0;

/// The registered fds, as the array poll(2) takes plus what it cannot hold.
pub(super) struct PollSet {
    /// Given to poll(2) as is; `fd` is -1 while a one-shot entry is disarmed.
    pollfds: Vec<sys::PollFd>,
    /// Parallel to `pollfds`.
    entries: Vec<Entry>,
    /// fd -> its index in `pollfds` and `entries`.
    index: HashMap<RawFd, usize>,
    /// Where the next scan for reports starts: when `Events` fills up, the
    /// next poll resumes there, so the fds at the end are not starved.
    next: usize,
}

struct Entry {
    fd: RawFd,
    key: u64,
    interest: Interest,
}

impl PollSet {
    pub(super) fn new() -> PollSet {
        PollSet {
            pollfds: Vec::new(),
            entries: Vec::new(),
            index: HashMap::new(),
            next: 0,
        }
    }

    /// Removes the entry at `i`, moving the last one into its place.
    fn remove_at(&mut self, i: usize) {
        self.pollfds.swap_remove(i);
        let gone = self.entries.swap_remove(i);
        self.index.remove(&gone.fd);
        if let Some(moved) = self.entries.get(i) {
            self.index.insert(moved.fd, i);
        }
    }
}

/// The armed pollfd for `fd` with `interest`.
fn pollfd(fd: RawFd, interest: Interest) -> sys::PollFd {
    let mut events = 0;
    if interest.is_readable() {
        events |= sys::POLLIN | POLLRDHUP;
    }
    if interest.is_writable() {
        events |= sys::POLLOUT;
    }
    sys::pollfd(fd, events)
}

fn readiness(revents: i16, interest: Interest) -> Readiness {
    // WSAPoll reports a peer's close as POLLHUP and a reset as POLLERR without the POLLIN
    // that poll(2) adds (a read returns at once, with EOF or the error); added back there
    // for an fd that asked for reading, so that Windows reports what Unix does.
    let hup_or_err = revents & (sys::POLLHUP | sys::POLLERR) != 0;
    let readable =
        revents & sys::POLLIN != 0 || (cfg!(windows) && hup_or_err && interest.is_readable());
    Readiness::new(
        readable,
        revents & sys::POLLOUT != 0,
        revents & sys::POLLERR != 0,
        revents & (sys::POLLHUP | POLLRDHUP) != 0,
    )
}

impl Selector for PollSet {
    fn register(&mut self, fd: RawFd, key: u64, interest: Interest) -> Result<(), Errno> {
        ensure_open(fd)?;
        if self.index.contains_key(&fd) {
            return Err(Errno::EEXIST);
        }
        self.index.insert(fd, self.entries.len());
        self.pollfds.push(pollfd(fd, interest));
        self.entries.push(Entry { fd, key, interest });
        Ok(())
    }

    fn modify(&mut self, fd: RawFd, key: u64, interest: Interest) -> Result<(), Errno> {
        ensure_open(fd)?;
        let &i = self.index.get(&fd).ok_or(Errno::ENOENT)?;
        self.entries[i].key = key;
        self.entries[i].interest = interest;
        self.pollfds[i] = pollfd(fd, interest);
        Ok(())
    }

    fn unregister(&mut self, fd: RawFd) -> Result<(), Errno> {
        // A closed fd loses its registration and reports EBADF, as with epoll.
        let open = ensure_open(fd);
        let found = self.index.get(&fd).copied();
        if let Some(i) = found {
            self.remove_at(i);
        }
        open?;
        found.map(drop).ok_or(Errno::ENOENT)
    }

    fn wait(&mut self, events: &mut Events, timeout: Option<Duration>) -> Result<(), Errno> {
        let ready = sys::poll(&mut self.pollfds, poll_millis(timeout))?;
        if ready == 0 {
            return Ok(());
        }
        let len = self.pollfds.len();
        let start = if self.next < len { self.next } else { 0 };
        // Indices of fds closed while registered (POLLNVAL): dropped after
        // the scan, as closing drops an epoll registration. No allocation
        // unless one shows up.
        let mut closed = Vec::new();
        for i in (start..len).chain(0..start) {
            let revents = self.pollfds[i].revents;
            if revents == 0 {
                continue;
            }
            if revents & sys::POLLNVAL != 0 {
                closed.push(i);
                continue;
            }
            if events.is_full() {
                self.next = i;
                break;
            }
            events.push(Event {
                key: self.entries[i].key,
                readiness: readiness(revents, self.entries[i].interest),
            });
            if self.entries[i].interest.is_oneshot() {
                self.pollfds[i].fd = sys::SKIP_FD;
            }
            self.next = i + 1;
        }
        // From the highest index down, so no swap_remove moves a pending one.
        closed.sort_unstable_by(|a, b| b.cmp(a));
        for i in closed {
            self.remove_at(i);
        }
        Ok(())
    }

    fn as_raw_fd(&self) -> Option<RawFd> {
        None
    }
}
