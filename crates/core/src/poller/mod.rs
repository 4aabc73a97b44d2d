//! `Poller`: readiness events for many fds, on epoll (Linux), kqueue
//! (macOS/BSD) or poll(2) (any Unix, and forceable for tests).
//!
//! Each backend is one file implementing [`Selector`]; this file holds what
//! they share: the public types, the fd and capacity checks, the EINTR retry
//! and the timeout loop. The backends call the kernel through `libc`, not
//! `rustix::event`: rustix takes a `BorrowedFd` per registered fd, and a
//! `Poller` is fed plain fd numbers it cannot vouch for (a closed one must get
//! the kernel's `EBADF`, which is part of the contract), and poll(2)'s trick of
//! parking a disarmed entry on fd -1 has no `BorrowedFd` form.

use rustix::fd::RawFd;
use std::fmt;
use std::ops::BitOr;
use std::time::{Duration, Instant};

use crate::sys;
use crate::Errno;

#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll;
#[cfg(any(
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
mod kqueue;
mod poll;

/// The longest single wait handed to a backend: what poll(2)'s and
/// epoll_wait(2)'s C int of milliseconds holds (about 24.8 days). Longer
/// timeouts are waited in several rounds.
const MAX_WAIT: Duration = Duration::from_millis(libc::c_int::MAX as u64);

/// Waits for readiness on many fds at once: Python's `select.epoll` /
/// `select.kqueue` / `select.poll`, behind one API.
///
/// Register each fd with a `u64` key of your choice and an [`Interest`], then
/// call [`Poller::poll`], which fills an [`Events`] buffer with `(key,
/// readiness)` pairs. [`Poller::new`] picks the best backend of the platform
/// (epoll on Linux, kqueue on macOS/BSD, else poll(2));
/// [`Poller::with_backend`] forces one, such as [`Backend::Poll`] on Linux.
///
/// # Portability rules
///
/// Code that follows these works the same on every backend:
///
/// - **Spurious wakeups happen.** A report means "try the call now", not
///   "the call will succeed": use non-blocking fds and treat `EAGAIN` as
///   "wait again". A backend may report an fd more often than its mode
///   promises (the poll(2) backend's edge mode is level-triggered, below),
///   never less.
/// - **Level-triggered is the default**: an fd is reported at every poll for
///   as long as it stays ready (unread data, room to write).
/// - **Edge-triggered ([`Interest::edge`]): drain until `EAGAIN`.** After a
///   report, read (or write) until the call fails with `EAGAIN` before
///   polling again; epoll and kqueue only report new arrivals, so data left
///   unread may never be reported again. To pause an fd, [`Poller::modify`]
///   its interest away rather than leaving data unread: the poll(2) backend
///   keeps reporting an undrained fd.
/// - **One-shot ([`Interest::oneshot`])**: an fd is reported once, then
///   stays silent (even for hangup and errors) until [`Poller::modify`]
///   re-arms it. It stays registered: [`Poller::unregister`] still applies.
/// - **One event per fd per poll**: readable and writable come together in
///   one [`Readiness`] (kqueue's separate read and write filters are merged).
/// - **Error and hangup come with the interests asked for.** epoll and
///   poll(2) report them even for [`Interest::NONE`]; kqueue only through a
///   read or write interest. Ask for readable to be told of a peer's close.
/// - **Unregister before closing.** Closing a registered fd drops its
///   registration on every backend (epoll only once every duplicate of the
///   fd is closed; the poll(2) backend at its next poll), but a new fd given
///   the same number before then may be reported under the old key or
///   refused with `EEXIST`.
/// - **Misuse gives the same errno everywhere**, the one epoll_ctl(2) gives:
///   `EBADF` for an fd that is not open, `EEXIST` for registering an fd
///   twice, `ENOENT` for modifying or unregistering an fd never registered.
///   Only epoll refuses regular files (`EPERM`); kqueue and poll(2) report
///   them always ready.
/// - **EINTR is retried** with the time left (PEP 475): a signal never ends a
///   poll early.
/// - **Timeouts round up**, never down, to the backend's resolution (whole
///   milliseconds for epoll and poll(2), nanoseconds for kqueue), so a short
///   wait never becomes a busy 0 ms poll. `None` waits forever and
///   `Some(Duration::ZERO)` returns at once.
/// - **A full [`Events`] buffer loses nothing**: at most its capacity is
///   returned, and the fds left over are reported by the next polls (epoll
///   and kqueue rotate their ready lists, the poll(2) backend resumes its
///   scan after the last fd it reported).
///
/// The poll(2) backend costs time in proportion to the registered fds per
/// poll; epoll and kqueue cost time in proportion to the ready ones.
///
/// Methods take `&mut self`: one thread owns a `Poller` (it is `Send` and
/// `Sync`, so it can move between threads or sit behind a lock).
pub struct Poller {
    selector: Box<dyn Selector>,
    backend: Backend,
}

/// What a backend file implements. [`Poller`] has already rejected negative
/// fds and empty event buffers, and retries EINTR around [`Selector::wait`].
trait Selector: Send + Sync {
    /// Adds `fd`: `EBADF` if it is not open, `EEXIST` if already there.
    fn register(&mut self, fd: RawFd, key: u64, interest: Interest) -> Result<(), Errno>;
    /// Replaces the key and interest of `fd`, re-arming a one-shot fd:
    /// `EBADF` if it is not open, `ENOENT` if not registered.
    fn modify(&mut self, fd: RawFd, key: u64, interest: Interest) -> Result<(), Errno>;
    /// Removes `fd`: `EBADF` if it is not open (the registration is gone
    /// anyway), `ENOENT` if not registered.
    fn unregister(&mut self, fd: RawFd) -> Result<(), Errno>;
    /// One wait of at most `timeout` (at most [`MAX_WAIT`]; `None` forever)
    /// that appends at most `events.capacity()` events to the empty `events`.
    /// It may return early with no events; EINTR is returned, not retried.
    fn wait(&mut self, events: &mut Events, timeout: Option<Duration>) -> Result<(), Errno>;
    /// The backend's own fd, if it has one.
    fn as_raw_fd(&self) -> Option<RawFd>;
}

impl Poller {
    /// Creates a poller on the best backend of the platform (the first of
    /// [`Backend::available`]), its own fd (if any) CLOEXEC.
    ///
    /// Corresponds to [`epoll_create1(2)`](https://man7.org/linux/man-pages/man2/epoll_create1.2.html)
    /// or [`kqueue(2)`](https://man.freebsd.org/cgi/man.cgi?query=kqueue&sektion=2).
    ///
    /// # Errors
    /// `EMFILE`, `ENFILE`, `ENOMEM`.
    pub fn new() -> Result<Poller, Errno> {
        Poller::with_backend(Backend::available()[0])
    }

    /// Creates a poller on a given backend, such as [`Backend::Poll`] to test
    /// the fallback on Linux.
    ///
    /// # Errors
    /// `ENOSYS` for a backend this platform does not have (see
    /// [`Backend::available`]); else as [`Poller::new`].
    pub fn with_backend(backend: Backend) -> Result<Poller, Errno> {
        let selector: Box<dyn Selector> = match backend {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Backend::Epoll => Box::new(epoll::Epoll::new()?),
            #[cfg(any(
                target_vendor = "apple",
                target_os = "freebsd",
                target_os = "netbsd",
                target_os = "openbsd",
                target_os = "dragonfly"
            ))]
            Backend::Kqueue => Box::new(kqueue::Kqueue::new()?),
            Backend::Poll => Box::new(poll::PollSet::new()),
            _ => return Err(Errno::ENOSYS),
        };
        Ok(Poller { selector, backend })
    }

    /// The backend this poller runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The epoll or kqueue fd, which becomes readable when an event is
    /// pending, so the poller can be watched from another event loop; `None`
    /// for the poll(2) backend, which has no fd. The poller keeps ownership.
    pub fn as_raw_fd(&self) -> Option<RawFd> {
        self.selector.as_raw_fd()
    }

    /// Starts watching `fd` for `interest`, reporting it under `key`.
    ///
    /// Corresponds to [`epoll_ctl(2)`](https://man7.org/linux/man-pages/man2/epoll_ctl.2.html)
    /// `EPOLL_CTL_ADD`, or kevent(2) `EV_ADD`.
    ///
    /// # Errors
    /// `EBADF` if `fd` is not open, `EEXIST` if it is already registered,
    /// `EPERM` (epoll) for a regular file, `ENOMEM`, `ENOSPC` (epoll's
    /// `max_user_watches`).
    pub fn register(&mut self, fd: RawFd, key: u64, interest: Interest) -> Result<(), Errno> {
        check_fd(fd)?;
        self.selector.register(fd, key, interest)
    }

    /// Changes the key and interest of a registered `fd`; this also re-arms a
    /// one-shot fd that has fired.
    ///
    /// Corresponds to [`epoll_ctl(2)`](https://man7.org/linux/man-pages/man2/epoll_ctl.2.html)
    /// `EPOLL_CTL_MOD`, or kevent(2) `EV_DELETE` then `EV_ADD`.
    ///
    /// # Errors
    /// `EBADF` if `fd` is not open, `ENOENT` if it is not registered, `ENOMEM`.
    pub fn modify(&mut self, fd: RawFd, key: u64, interest: Interest) -> Result<(), Errno> {
        check_fd(fd)?;
        self.selector.modify(fd, key, interest)
    }

    /// Stops watching `fd`.
    ///
    /// Corresponds to [`epoll_ctl(2)`](https://man7.org/linux/man-pages/man2/epoll_ctl.2.html)
    /// `EPOLL_CTL_DEL`, or kevent(2) `EV_DELETE`.
    ///
    /// # Errors
    /// `EBADF` if `fd` is not open (closing it already ended the
    /// registration), `ENOENT` if it is not registered.
    pub fn unregister(&mut self, fd: RawFd) -> Result<(), Errno> {
        check_fd(fd)?;
        self.selector.unregister(fd)
    }

    /// Waits until some registered fd is ready or `timeout` passes (`None`:
    /// forever), then fills `events` with at most its capacity of
    /// `(key, readiness)` pairs and returns how many. Returns 0 on timeout.
    ///
    /// `events` is cleared first, so one buffer serves every call. The
    /// timeout rounds up and EINTR is retried with the time left (see the
    /// portability rules on [`Poller`]).
    ///
    /// Corresponds to [`epoll_wait(2)`](https://man7.org/linux/man-pages/man2/epoll_wait.2.html),
    /// kevent(2) or [`poll(2)`](https://man7.org/linux/man-pages/man2/poll.2.html).
    ///
    /// # Errors
    /// `EINVAL` for an [`Events`] of capacity 0; `EINVAL` (poll(2)) for more
    /// registered fds than `RLIMIT_NOFILE`; `ENOMEM`.
    pub fn poll(&mut self, events: &mut Events, timeout: Option<Duration>) -> Result<usize, Errno> {
        events.clear();
        if events.capacity == 0 {
            return Err(Errno::EINVAL);
        }
        // A timeout too far away for `Instant` is as good as forever.
        let deadline = timeout.and_then(|d| Instant::now().checked_add(d));
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()).min(MAX_WAIT));
            match self.selector.wait(events, left) {
                Err(e) if e == Errno::EINTR => continue,
                Err(e) => return Err(e),
                // The MAX_WAIT cap, or a round whose only reports were dropped
                // (a closed fd in the poll(2) backend), can end a wait early:
                // only a passed deadline ends it with nothing.
                Ok(()) if events.is_empty() && deadline.is_none_or(|d| Instant::now() < d) => {}
                Ok(()) => return Ok(events.len()),
            }
        }
    }
}

impl fmt::Debug for Poller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller")
            .field("backend", &self.backend)
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

/// `EBADF` for a negative fd (Windows: `INVALID_SOCKET`), before any backend
/// sees it (as the kernel would say; and kqueue would take it for a huge
/// unsigned ident).
fn check_fd(fd: RawFd) -> Result<(), Errno> {
    if !sys::is_valid(fd) {
        return Err(Errno::EBADF);
    }
    Ok(())
}

/// `EBADF` unless `fd` is open: for the backends that keep their own table
/// and so get no answer from the kernel about the fd itself.
fn ensure_open(fd: RawFd) -> Result<(), Errno> {
    sys::ensure_open(fd)
}

/// A way of waiting for readiness; see [`Poller::with_backend`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// [epoll(7)](https://man7.org/linux/man-pages/man7/epoll.7.html): Linux, Android.
    Epoll,
    /// [kqueue(2)](https://man.freebsd.org/cgi/man.cgi?query=kqueue&sektion=2):
    /// macOS, iOS, FreeBSD, NetBSD, OpenBSD, DragonFly.
    Kqueue,
    /// [poll(2)](https://man7.org/linux/man-pages/man2/poll.2.html): every
    /// Unix. Cost grows with the number of registered fds; edge-triggered
    /// interest behaves as level-triggered (see [`Interest::edge`]).
    Poll,
}

impl Backend {
    /// The backends this platform has, best first; [`Poller::new`] takes the first.
    pub fn available() -> &'static [Backend] {
        const AVAILABLE: &[Backend] = if cfg!(any(target_os = "linux", target_os = "android")) {
            &[Backend::Epoll, Backend::Poll]
        } else if cfg!(any(
            target_vendor = "apple",
            target_os = "freebsd",
            target_os = "netbsd",
            target_os = "openbsd",
            target_os = "dragonfly"
        )) {
            &[Backend::Kqueue, Backend::Poll]
        } else {
            &[Backend::Poll]
        };
        AVAILABLE
    }

    /// The lowercase name: `"epoll"`, `"kqueue"` or `"poll"`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Epoll => "epoll",
            Backend::Kqueue => "kqueue",
            Backend::Poll => "poll",
        }
    }
}

/// What to wait for on a registered fd: readable and/or writable, plus the
/// mode, level-triggered unless [`Interest::edge`] or [`Interest::oneshot`].
///
/// ```
/// use bsd_sockets_core::Interest;
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert_eq!(both, Interest::from_poll_events(libc::POLLIN | libc::POLLOUT));
/// assert!(Interest::READABLE.edge().is_edge());
/// ```
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
pub struct Interest(u8);

impl Interest {
    const READ: u8 = 1;
    const WRITE: u8 = 2;
    const EDGE: u8 = 4;
    const ONESHOT: u8 = 8;

    /// Neither readable nor writable: only error and hangup, where the
    /// backend reports those unasked (epoll, poll(2)); nothing on kqueue.
    pub const NONE: Interest = Interest(0);
    /// Readable (`POLLIN`): data, a connection to accept, end of stream, an
    /// error to collect. Also asks for hangup when the peer stops sending.
    pub const READABLE: Interest = Interest(Self::READ);
    /// Writable (`POLLOUT`): room in the send buffer, a finished connect.
    pub const WRITABLE: Interest = Interest(Self::WRITE);

    /// From poll(2) event bits, as Python's `poll.register(fd, eventmask)`:
    /// `POLLIN` is readable, `POLLOUT` writable; other bits are ignored
    /// (error and hangup are always reported, as in poll(2)).
    pub const fn from_poll_events(events: i16) -> Interest {
        let mut bits = 0;
        if events & sys::POLLIN != 0 {
            bits |= Self::READ;
        }
        if events & sys::POLLOUT != 0 {
            bits |= Self::WRITE;
        }
        Interest(bits)
    }

    /// The poll(2) event bits: `POLLIN` and/or `POLLOUT`.
    pub const fn poll_events(self) -> i16 {
        let mut events = 0;
        if self.is_readable() {
            events |= sys::POLLIN;
        }
        if self.is_writable() {
            events |= sys::POLLOUT;
        }
        events
    }

    /// Both interests and modes of `self` and `other`.
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// Edge-triggered: report an fd when it becomes ready (new data, new
    /// room), not at every poll while it stays ready; drain until `EAGAIN`.
    ///
    /// epoll's `EPOLLET`, kqueue's `EV_CLEAR`. The poll(2) backend has no
    /// edges to see and treats it as level-triggered (allowed by the
    /// spurious-wakeup rule on [`Poller`]): tracking transitions itself would
    /// either miss data that arrives while the fd is still readable, or spin,
    /// since poll(2) returns at once for an fd that stays ready.
    pub const fn edge(self) -> Interest {
        Interest(self.0 | Self::EDGE)
    }

    /// One-shot: after one report the fd is disabled, reporting nothing at
    /// all, until [`Poller::modify`] re-arms it.
    ///
    /// epoll's `EPOLLONESHOT`, kqueue's `EV_DISPATCH` (the other filter of
    /// the fd is disabled too); the poll(2) backend leaves the fd out of its
    /// poll(2) calls until re-armed.
    pub const fn oneshot(self) -> Interest {
        Interest(self.0 | Self::ONESHOT)
    }

    /// True when readable was asked for.
    pub const fn is_readable(self) -> bool {
        self.0 & Self::READ != 0
    }

    /// True when writable was asked for.
    pub const fn is_writable(self) -> bool {
        self.0 & Self::WRITE != 0
    }

    /// True in edge-triggered mode.
    pub const fn is_edge(self) -> bool {
        self.0 & Self::EDGE != 0
    }

    /// True in one-shot mode.
    pub const fn is_oneshot(self) -> bool {
        self.0 & Self::ONESHOT != 0
    }
}

impl BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (self.is_readable(), "READABLE"),
            (self.is_writable(), "WRITABLE"),
            (self.is_edge(), "EDGE"),
            (self.is_oneshot(), "ONESHOT"),
        ];
        write_flags(f, "Interest", &names)
    }
}

/// What a poll found an fd ready for.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
pub struct Readiness(u8);

impl Readiness {
    const READABLE: u8 = 1;
    const WRITABLE: u8 = 2;
    const ERROR: u8 = 4;
    const HANGUP: u8 = 8;

    /// A read (or accept) will not block: data, a connection, end of stream
    /// or an error is there. `POLLIN`.
    pub const fn is_readable(self) -> bool {
        self.0 & Self::READABLE != 0
    }

    /// A write will not block, or a non-blocking connect finished. `POLLOUT`.
    pub const fn is_writable(self) -> bool {
        self.0 & Self::WRITABLE != 0
    }

    /// The fd has a pending error (read it with `SO_ERROR`, or see it from
    /// the next call). `POLLERR`; kqueue's `EV_ERROR`, or `EV_EOF` with an
    /// error code.
    pub const fn is_error(self) -> bool {
        self.0 & Self::ERROR != 0
    }

    /// The peer closed its side: reads will reach end of stream (and writes
    /// may fail). `POLLHUP` or `POLLRDHUP`; kqueue's `EV_EOF`.
    pub const fn is_hangup(self) -> bool {
        self.0 & Self::HANGUP != 0
    }

    /// Built by the backends from what the kernel said.
    const fn new(readable: bool, writable: bool, error: bool, hangup: bool) -> Readiness {
        let mut bits = 0;
        if readable {
            bits |= Self::READABLE;
        }
        if writable {
            bits |= Self::WRITABLE;
        }
        if error {
            bits |= Self::ERROR;
        }
        if hangup {
            bits |= Self::HANGUP;
        }
        Readiness(bits)
    }

    /// As poll(2) `revents` bits, for Python's `poll()` results: `POLLIN`,
    /// `POLLOUT`, `POLLERR`, `POLLHUP`.
    pub const fn poll_events(self) -> i16 {
        let mut events = 0;
        if self.is_readable() {
            events |= sys::POLLIN;
        }
        if self.is_writable() {
            events |= sys::POLLOUT;
        }
        if self.is_error() {
            events |= sys::POLLERR;
        }
        if self.is_hangup() {
            events |= sys::POLLHUP;
        }
        events
    }
}

impl fmt::Debug for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (self.is_readable(), "READABLE"),
            (self.is_writable(), "WRITABLE"),
            (self.is_error(), "ERROR"),
            (self.is_hangup(), "HANGUP"),
        ];
        write_flags(f, "Readiness", &names)
    }
}

/// Writes `Type(A | B)`, or `Type(NONE)` when no flag is set.
fn write_flags(f: &mut fmt::Formatter<'_>, ty: &str, flags: &[(bool, &str)]) -> fmt::Result {
    write!(f, "{ty}(")?;
    let mut set = flags.iter().filter(|(on, _)| *on).map(|(_, name)| name);
    match set.next() {
        None => write!(f, "NONE")?,
        Some(first) => {
            write!(f, "{first}")?;
            for name in set {
                write!(f, " | {name}")?;
            }
        }
    }
    write!(f, ")")
}

/// One report of [`Poller::poll`]: the key an fd was registered with and
/// what it is ready for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Event {
    /// The key given to [`Poller::register`] or [`Poller::modify`].
    pub key: u64,
    /// What the fd is ready for.
    pub readiness: Readiness,
}

/// The buffer [`Poller::poll`] fills, reused from call to call: its
/// capacity, set once, is the most events one poll returns.
#[derive(Clone, Debug)]
pub struct Events {
    list: Vec<Event>,
    capacity: usize,
}

impl Events {
    /// An empty buffer for at most `capacity` events per poll (polling with
    /// a capacity of 0 fails with `EINVAL`, as epoll_wait(2) does).
    pub fn with_capacity(capacity: usize) -> Events {
        Events {
            list: Vec::with_capacity(capacity),
            capacity,
        }
    }

    /// The most events one poll puts here.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many events the last poll found.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when the last poll found nothing (or none was made).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The events of the last poll, in the order the kernel gave them.
    pub fn iter(&self) -> std::slice::Iter<'_, Event> {
        self.list.iter()
    }

    /// Empties the buffer, keeping its capacity.
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// True when no more event fits.
    fn is_full(&self) -> bool {
        self.list.len() >= self.capacity
    }

    /// Appends an event; the backends check [`Events::is_full`] first (or,
    /// for epoll and kqueue, ask the kernel for at most the capacity).
    fn push(&mut self, event: Event) {
        debug_assert!(!self.is_full());
        self.list.push(event);
    }
}

impl<'a> IntoIterator for &'a Events {
    type Item = &'a Event;
    type IntoIter = std::slice::Iter<'a, Event>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
