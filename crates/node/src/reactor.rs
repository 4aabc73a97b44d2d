//! Readiness on Node's own event loop: one `uv_poll` per watched socket on the
//! env's loop, whose callbacks only append `[id, events]` to a batch, and one
//! `uv_check` that hands the whole batch to JS in ONE call per loop turn.
//!
//! The batch carries the JS-assigned watch id, never the raw fd, so an fd closed
//! and reused within one turn cannot receive a stale event. One reactor per
//! thread: Node runs one env per thread (main thread or worker).

use rustix::fd::RawFd;
use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::ptr;

use napi::bindgen_prelude::Unknown;
use napi::{sys, Env, JsValue};
use napi_derive::napi;

use crate::error::{errno_error, Result};
use crate::uv::{self, Handle};
use bsd_sockets_core::Errno;

// The event bits of the `[id, events]` pairs (and of the `events` a watch asks for),
// exported so that ts/ reads them from here.

/// Event bit: the fd is readable (libuv's `UV_READABLE`).
#[napi]
pub const REACTOR_READABLE: i32 = uv::UV_READABLE;

/// Event bit: the fd is writable (libuv's `UV_WRITABLE`).
#[napi]
pub const REACTOR_WRITABLE: i32 = uv::UV_WRITABLE;

/// Event bit: the peer shut down its side (libuv's `UV_DISCONNECT`, EPOLLRDHUP), reported
/// only to a watch that asked for it (Poller.watch does, with readable).
#[napi]
pub const REACTOR_DISCONNECT: i32 = uv::UV_DISCONNECT;

/// Event bit for "libuv reported an error and stopped the handle", sent with the readable
/// and writable bits: JS retries its operations (the syscall then reports the real errno)
/// and re-arms. libuv's own 8 is `UV_PRIORITIZED`, which no watch asks for, so libuv
/// never reports it itself.
#[napi]
pub const REACTOR_ERROR: i32 = 8;

struct Reactor {
    env: sys::napi_env,
    lp: *mut uv::Loop,
    check: *mut Handle,
    dispatch: sys::napi_ref,
    batch_ref: sys::napi_ref,
    batch: *mut i32,
    /// Capacity of `batch` in `[id, events]` pairs.
    batch_cap: usize,
    pending: Vec<(u32, c_int)>,
    /// `pending`'s previous buffer, swapped in at each flush so a turn allocates nothing.
    spare: Vec<(u32, c_int)>,
    async_ctx: sys::napi_async_context,
    polls: HashMap<u32, *mut Handle>,
    /// The socket of each watch. libuv refuses a second `uv_poll` on one fd of a loop with
    /// `EEXIST` on Unix, which is how an fd a watching Poller holds is refused for async
    /// calls; libuv on Windows polls a socket twice without a word, so the check is here.
    #[cfg(windows)]
    socks: HashMap<u32, RawFd>,
    /// The sockets in `socks`, to find one in O(1) (one check per accepted connection).
    #[cfg(windows)]
    watched: std::collections::HashSet<RawFd>,
    /// Handles whose close callback has not run yet; the reactor is freed at 0.
    open: usize,
    cleanup: sys::napi_async_cleanup_hook_handle,
    closing: bool,
}

thread_local! {
    static REACTOR: Cell<*mut Reactor> = const { Cell::new(ptr::null_mut()) };
}

fn reactor() -> *mut Reactor {
    REACTOR.with(Cell::get)
}

fn check(status: sys::napi_status) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(errno_error(Errno::EINVAL))
    }
}

fn uv_check_status(rc: c_int) -> Result<()> {
    // libuv errors are negated errnos on Unix.
    if rc < 0 {
        Err(errno_error(Errno::from_raw(-rc)))
    } else {
        Ok(())
    }
}

/// Installs this thread's reactor: `dispatch(count)` is called once per loop
/// turn with `batch` (an Int32Array of `[id, events]` pairs) filled with
/// `count` pairs. Calling it again on the same thread does nothing.
#[napi(catch_unwind)]
pub fn reactor_init(env: Env, dispatch: Unknown, batch: Unknown) -> Result<()> {
    if !reactor().is_null() {
        return Ok(());
    }
    let raw_env = env.raw();
    let mut lp = ptr::null_mut();
    // SAFETY: every call gets the live env of this callback and valid
    // out-pointers; the values were passed in by JS for this call.
    unsafe {
        check(sys::napi_get_uv_event_loop(raw_env, &mut lp))?;
        let mut kind = 0;
        let mut len = 0;
        let mut data = ptr::null_mut();
        let mut ab = ptr::null_mut();
        let mut offset = 0;
        check(sys::napi_get_typedarray_info(
            raw_env,
            batch.value().value,
            &mut kind,
            &mut len,
            &mut data,
            &mut ab,
            &mut offset,
        ))?;
        if kind != sys::TypedarrayType::int32_array || len < 2 {
            return Err(errno_error(Errno::EINVAL));
        }
        let mut dispatch_ref = ptr::null_mut();
        check(sys::napi_create_reference(
            raw_env,
            dispatch.value().value,
            1,
            &mut dispatch_ref,
        ))?;
        let mut batch_ref = ptr::null_mut();
        check(sys::napi_create_reference(
            raw_env,
            batch.value().value,
            1,
            &mut batch_ref,
        ))?;
        let mut name = ptr::null_mut();
        check(sys::napi_create_string_utf8(
            raw_env,
            c"bsd-sockets".as_ptr(),
            11,
            &mut name,
        ))?;
        let mut async_ctx = ptr::null_mut();
        check(sys::napi_async_init(
            raw_env,
            ptr::null_mut(),
            name,
            &mut async_ctx,
        ))?;

        let check_handle = uv::alloc_handle(uv::UV_CHECK);
        if check_handle.is_null() {
            return Err(errno_error(Errno::ENOMEM));
        }
        uv_check_status(uv::uv_check_init(lp, check_handle))?;
        uv_check_status(uv::uv_check_start(check_handle, on_check))?;
        // The check handle alone must never keep the process alive.
        uv::uv_unref(check_handle);

        let r = Box::into_raw(Box::new(Reactor {
            env: raw_env,
            lp,
            check: check_handle,
            dispatch: dispatch_ref,
            batch_ref,
            batch: data.cast(),
            batch_cap: len / 2,
            pending: Vec::new(),
            spare: Vec::new(),
            async_ctx,
            polls: HashMap::new(),
            #[cfg(windows)]
            socks: HashMap::new(),
            #[cfg(windows)]
            watched: std::collections::HashSet::new(),
            open: 1,
            cleanup: ptr::null_mut(),
            closing: false,
        }));
        // Closing handles from a plain env cleanup hook can run their close
        // callbacks after a worker's addon is unloaded; the async hook waits.
        check(sys::napi_add_async_cleanup_hook(
            raw_env,
            Some(on_env_teardown),
            r.cast(),
            &mut (*r).cleanup,
        ))?;
        REACTOR.with(|c| c.set(r));
    }
    Ok(())
}

/// Starts, changes (`events` != 0) or pauses (`events` == 0) the watch `id` on `fd`.
pub fn watch(id: u32, fd: RawFd, events: c_int) -> Result<()> {
    let r = reactor();
    if r.is_null() {
        return Err(errno_error(Errno::EINVAL));
    }
    // SAFETY: `r` is this thread's live reactor; handles in `polls` are live.
    unsafe {
        if (*r).closing {
            return Err(errno_error(Errno::EBADF));
        }
        let handle = match (*r).polls.get(&id) {
            Some(&h) => h,
            None if events == 0 => return Ok(()),
            None => {
                #[cfg(windows)]
                if (*r).watched.contains(&fd) {
                    return Err(errno_error(Errno::EEXIST));
                }
                let h = uv::alloc_handle(uv::UV_POLL);
                if h.is_null() {
                    return Err(errno_error(Errno::ENOMEM));
                }
                if let Err(e) = uv_check_status(uv::poll_init((*r).lp, h, fd)) {
                    uv::free_handle(h);
                    return Err(e);
                }
                uv::set_data(h, id as usize as *mut c_void);
                (*r).polls.insert(id, h);
                #[cfg(windows)]
                (*r).socks.insert(id, fd);
                #[cfg(windows)]
                (*r).watched.insert(fd);
                (*r).open += 1;
                h
            }
        };
        if events == 0 {
            uv_check_status(uv::uv_poll_stop(handle))
        } else {
            uv_check_status(uv::uv_poll_start(handle, events, on_poll))
        }
    }
}

/// Whether the watch keeps the process alive (like a Node handle's ref/unref).
pub fn set_ref(id: u32, keep_alive: bool) {
    let r = reactor();
    if r.is_null() {
        return;
    }
    // SAFETY: `r` is this thread's live reactor; handles in `polls` are live.
    unsafe {
        if let Some(&h) = (*r).polls.get(&id) {
            if keep_alive {
                uv::uv_ref(h)
            } else {
                uv::uv_unref(h)
            }
        }
    }
}

/// Stops and closes the watch `id`. Must run before its fd is closed.
pub fn unwatch(id: u32) {
    let r = reactor();
    if r.is_null() {
        return;
    }
    // SAFETY: `r` is this thread's live reactor; the handle is live until its close callback.
    unsafe {
        #[cfg(windows)]
        if let Some(fd) = (*r).socks.remove(&id) {
            (*r).watched.remove(&fd);
        }
        if let Some(h) = (*r).polls.remove(&id) {
            uv::uv_poll_stop(h);
            uv::uv_close(h, on_close);
        }
    }
}

unsafe extern "C" fn on_poll(handle: *mut Handle, status: c_int, events: c_int) {
    let r = reactor();
    if r.is_null() {
        return;
    }
    // SAFETY: libuv passes back a live handle whose data we set to the watch id.
    let id = unsafe { uv::data::<c_void>(handle) } as usize as u32;
    let ev = if status < 0 {
        REACTOR_ERROR | REACTOR_READABLE | REACTOR_WRITABLE
    } else {
        events
    };
    // SAFETY: `r` is this thread's live reactor; no other borrow is active in a libuv callback.
    unsafe { (*r).pending.push((id, ev)) };
}

unsafe extern "C" fn on_check(_handle: *mut Handle) {
    let r = reactor();
    // SAFETY: `r` is this thread's live reactor. No reference into it is held
    // across the call into JS, which may call back into `watch`/`unwatch`.
    unsafe {
        if r.is_null() || (*r).pending.is_empty() || (*r).closing {
            return;
        }
        let env = (*r).env;
        let mut scope = ptr::null_mut();
        if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
            return;
        }
        let mut func = ptr::null_mut();
        let mut recv = ptr::null_mut();
        sys::napi_get_reference_value(env, (*r).dispatch, &mut func);
        sys::napi_get_reference_value(env, (*r).batch_ref, &mut recv);
        // Chunks of at most the batch capacity; events arriving while JS runs wait for the next turn.
        let spare = std::mem::take(&mut (*r).spare);
        let mut events = std::mem::replace(&mut (*r).pending, spare);
        for chunk in events.chunks((*r).batch_cap) {
            for (i, &(id, ev)) in chunk.iter().enumerate() {
                *(*r).batch.add(2 * i) = id as i32;
                *(*r).batch.add(2 * i + 1) = ev;
            }
            let mut argv = [ptr::null_mut()];
            sys::napi_create_uint32(env, chunk.len() as u32, &mut argv[0]);
            let mut result = ptr::null_mut();
            // A fresh callback scope per flush: it runs nextTicks and resolved
            // promises when it closes, as Node does after any I/O callback.
            let status = sys::napi_make_callback(
                env,
                (*r).async_ctx,
                recv,
                func,
                1,
                argv.as_ptr(),
                &mut result,
            );
            if status == sys::Status::napi_pending_exception {
                let mut err = ptr::null_mut();
                sys::napi_get_and_clear_last_exception(env, &mut err);
                sys::napi_fatal_exception(env, err);
            }
            if (*r).closing {
                break;
            }
        }
        events.clear();
        (*r).spare = events;
        sys::napi_close_handle_scope(env, scope);
    }
}

unsafe extern "C" fn on_close(handle: *mut Handle) {
    // SAFETY: libuv is done with the handle once its close callback runs.
    unsafe { uv::free_handle(handle) };
    let r = reactor();
    if r.is_null() {
        return;
    }
    // SAFETY: `r` is this thread's live reactor.
    unsafe {
        (*r).open -= 1;
        if (*r).closing && (*r).open == 0 {
            finish_teardown(r);
        }
    }
}

/// The env is going away (worker exit, process exit): close every handle; the
/// hook is removed, and the reactor freed, after the last close callback.
unsafe extern "C" fn on_env_teardown(
    _handle: sys::napi_async_cleanup_hook_handle,
    arg: *mut c_void,
) {
    let r: *mut Reactor = arg.cast();
    // SAFETY: `arg` is the reactor registered with this hook; it is still live.
    unsafe {
        (*r).closing = true;
        #[cfg(windows)]
        (*r).socks.clear();
        #[cfg(windows)]
        (*r).watched.clear();
        for (_, h) in (*r).polls.drain() {
            uv::uv_poll_stop(h);
            uv::uv_close(h, on_close);
        }
        uv::uv_close((*r).check, on_close);
    }
}

/// # Safety
/// `r` is the live reactor with no handles left open.
unsafe fn finish_teardown(r: *mut Reactor) {
    REACTOR.with(|c| c.set(ptr::null_mut()));
    // SAFETY: per the contract; the refs and context belong to this env.
    unsafe {
        let env = (*r).env;
        sys::napi_delete_reference(env, (*r).dispatch);
        sys::napi_delete_reference(env, (*r).batch_ref);
        sys::napi_async_destroy(env, (*r).async_ctx);
        let hook = (*r).cleanup;
        drop(Box::from_raw(r));
        sys::napi_remove_async_cleanup_hook(hook);
    }
}

/// Pauses the watch `id` whose JS owner is gone (its events would otherwise
/// repeat every turn until the GC finalizes the socket and closes the watch).
#[napi(catch_unwind)]
pub fn reactor_pause(id: u32) {
    let r = reactor();
    if r.is_null() {
        return;
    }
    // SAFETY: `r` is this thread's live reactor; handles in `polls` are live.
    unsafe {
        if let Some(&h) = (*r).polls.get(&id) {
            uv::uv_poll_stop(h);
        }
    }
}

/// Watches a caller-owned `fd` under `id` (Poller.watch): as `NativeSocket.watch`.
/// The caller unwatches before closing the fd, as with epoll.
#[napi(catch_unwind)]
pub fn reactor_watch_fd(id: u32, fd: i32, events: i32) -> Result<()> {
    watch(id, crate::fd::from_js(fd), events)
}

/// Stops and closes the watch `id` (Poller.unregister).
#[napi(catch_unwind)]
pub fn reactor_unwatch(id: u32) {
    unwatch(id)
}
