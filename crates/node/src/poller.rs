//! `NativePoller`: the JS handle of a core `Poller`. Conversion only: poll(2)
//! event bits in, a flat `[fd, revents, ...]` array out, the fd as the key.

use std::time::Duration;

use bsd_sockets_core::{Backend, Errno, Events, Interest, Poller};
use napi_derive::napi;

use crate::error::{errno_error, IntoJs, Result};

/// Event-mask flag of `Poller.register`/`modify`: edge-triggered
/// (`Interest::edge`). Above the 16 bits of poll(2)'s `short` events, so it
/// can never clash with a platform's `POLL*` bit.
#[napi]
pub const POLLER_EDGE: i32 = 1 << 16;

/// Event-mask flag of `Poller.register`/`modify`: one-shot (`Interest::oneshot`).
#[napi]
pub const POLLER_ONESHOT: i32 = 1 << 17;

/// The core interest of a JS event mask: `POLLIN`/`POLLOUT` (other poll bits
/// ignored, as `Interest::from_poll_events` does) plus the two flags above.
fn interest(events: i32) -> Interest {
    // The low 16 bits are poll(2)'s `short`; ts/ has rejected anything else.
    let mut interest = Interest::from_poll_events(events as u16 as i16);
    if events & POLLER_EDGE != 0 {
        interest = interest.edge();
    }
    if events & POLLER_ONESHOT != 0 {
        interest = interest.oneshot();
    }
    interest
}

/// The backend named `name` (`Backend::name`); `EINVAL` for an unknown name.
fn backend_named(name: &str) -> Result<Backend> {
    [Backend::Epoll, Backend::Kqueue, Backend::Poll]
        .into_iter()
        .find(|b| b.name() == name)
        .ok_or_else(|| errno_error(Errno::EINVAL))
}

/// The backends this platform has, best first (`Backend::available`).
#[napi(catch_unwind)]
pub fn poller_backends() -> Vec<&'static str> {
    Backend::available().iter().map(|b| b.name()).collect()
}

/// A poller owned by a JS object. `None` once closed: every call then fails
/// with EBADF from this state. Dropped by the GC = closed.
#[napi]
pub struct NativePoller {
    poller: Option<Poller>,
    backend: Backend,
    /// Reused by every poll; replaced when a poll asks for another capacity.
    events: Events,
}

impl NativePoller {
    fn get(&mut self) -> Result<&mut Poller> {
        self.poller
            .as_mut()
            .ok_or_else(|| errno_error(Errno::EBADF))
    }
}

#[napi]
impl NativePoller {
    /// `backend`: `'epoll'`, `'kqueue'` or `'poll'`; the platform's best if omitted.
    #[napi(constructor, catch_unwind)]
    pub fn new(backend: Option<String>) -> Result<NativePoller> {
        let poller = match backend {
            Some(name) => Poller::with_backend(backend_named(&name)?),
            None => Poller::new(),
        }
        .js()?;
        Ok(NativePoller {
            backend: poller.backend(),
            poller: Some(poller),
            events: Events::with_capacity(1),
        })
    }

    /// `'epoll'`, `'kqueue'` or `'poll'` (still answered once closed).
    #[napi(catch_unwind)]
    pub fn backend(&self) -> &'static str {
        self.backend.name()
    }

    /// The epoll/kqueue fd; -1 for the poll(2) backend and once closed.
    #[napi(catch_unwind)]
    pub fn fileno(&self) -> i32 {
        self.poller
            .as_ref()
            .and_then(Poller::as_raw_fd)
            .map_or(-1, crate::fd::to_js)
    }

    /// `events`: poll(2) bits, `POLLER_EDGE`, `POLLER_ONESHOT`.
    #[napi(catch_unwind)]
    pub fn register(&mut self, fd: i32, events: i32) -> Result<()> {
        let raw = crate::fd::from_js(fd);
        self.get()?.register(raw, fd as u64, interest(events)).js()
    }

    #[napi(catch_unwind)]
    pub fn modify(&mut self, fd: i32, events: i32) -> Result<()> {
        let raw = crate::fd::from_js(fd);
        self.get()?.modify(raw, fd as u64, interest(events)).js()
    }

    #[napi(catch_unwind)]
    pub fn unregister(&mut self, fd: i32) -> Result<()> {
        self.get()?.unregister(crate::fd::from_js(fd)).js()
    }

    /// Waits up to `timeout` seconds (`None`: forever; ts/ checked the range)
    /// for at most `maxevents` events; returns `[fd, revents, fd, revents, ...]`
    /// with poll(2) `revents` bits.
    #[napi(catch_unwind)]
    pub fn poll(&mut self, timeout: Option<f64>, maxevents: u32) -> Result<Vec<i32>> {
        let capacity = maxevents as usize;
        if self.events.capacity() != capacity {
            self.events = Events::with_capacity(capacity);
        }
        let poller = self
            .poller
            .as_mut()
            .ok_or_else(|| errno_error(Errno::EBADF))?;
        poller
            .poll(&mut self.events, timeout.map(Duration::from_secs_f64))
            .js()?;
        let mut flat = Vec::with_capacity(2 * self.events.len());
        for event in &self.events {
            // The key is the fd it was registered under, as JS holds it.
            flat.push(event.key as i32);
            flat.push(i32::from(event.readiness.poll_events()));
        }
        Ok(flat)
    }

    /// Closes the epoll/kqueue fd. Idempotent.
    #[napi(catch_unwind)]
    pub fn close(&mut self) {
        self.poller = None;
    }
}
