//! The few libuv calls the event-loop hook needs. Node exports libuv's symbols
//! to addons, and no maintained crate declares them without linking a second
//! libuv, so they are declared here by hand. Handles are opaque byte blocks
//! sized with `uv_handle_size`; only `data`, the first field of every handle
//! (`UV_HANDLE_FIELDS`), is touched.

use std::ffi::{c_int, c_void};

use rustix::fd::RawFd;

pub use napi::sys::uv_loop_s as Loop;

/// An opaque libuv handle (`uv_handle_t`, `uv_poll_t`, `uv_check_t`).
pub type Handle = c_void;

/// `uv_handle_type` values (uv.h's UV_HANDLE_TYPE_MAP, numbered from 1).
pub const UV_CHECK: c_int = 2;
pub const UV_POLL: c_int = 8;

/// `uv_poll_event` bits.
pub const UV_READABLE: c_int = 1;
pub const UV_WRITABLE: c_int = 2;
pub const UV_DISCONNECT: c_int = 4;

pub type PollCb = unsafe extern "C" fn(handle: *mut Handle, status: c_int, events: c_int);
pub type CheckCb = unsafe extern "C" fn(handle: *mut Handle);
pub type CloseCb = unsafe extern "C" fn(handle: *mut Handle);

extern "C" {
    pub fn uv_handle_size(kind: c_int) -> usize;
    #[cfg(unix)]
    fn uv_poll_init(lp: *mut Loop, handle: *mut Handle, fd: c_int) -> c_int;
    /// `uv_os_sock_t` is the `SOCKET` handle there: libuv polls sockets only.
    #[cfg(windows)]
    fn uv_poll_init_socket(lp: *mut Loop, handle: *mut Handle, socket: RawFd) -> c_int;
    pub fn uv_poll_start(handle: *mut Handle, events: c_int, cb: PollCb) -> c_int;
    pub fn uv_poll_stop(handle: *mut Handle) -> c_int;
    pub fn uv_check_init(lp: *mut Loop, handle: *mut Handle) -> c_int;
    pub fn uv_check_start(handle: *mut Handle, cb: CheckCb) -> c_int;
    pub fn uv_close(handle: *mut Handle, cb: CloseCb);
    pub fn uv_ref(handle: *mut Handle);
    pub fn uv_unref(handle: *mut Handle);
}

/// Initializes a poll handle watching `fd`.
///
/// # Safety
/// `lp` is the live loop and `handle` memory from [`alloc_handle`] for `UV_POLL`.
pub unsafe fn poll_init(lp: *mut Loop, handle: *mut Handle, fd: RawFd) -> c_int {
    // SAFETY: per the contract above.
    #[cfg(unix)]
    return unsafe { uv_poll_init(lp, handle, fd) };
    // SAFETY: as above.
    #[cfg(windows)]
    return unsafe { uv_poll_init_socket(lp, handle, fd) };
}

/// Allocates zeroed memory for a handle of `kind`; freed with [`free_handle`].
pub fn alloc_handle(kind: c_int) -> *mut Handle {
    // SAFETY: uv_handle_size is a pure lookup of a struct size.
    let size = unsafe { uv_handle_size(kind) };
    // SAFETY: calloc with a non-zero size; a null result is checked by callers.
    unsafe { libc::calloc(1, size) }
}

/// Frees memory from [`alloc_handle`], once libuv's close callback has run.
///
/// # Safety
/// `handle` came from `alloc_handle` and libuv no longer references it.
pub unsafe fn free_handle(handle: *mut Handle) {
    // SAFETY: per the contract above.
    unsafe { libc::free(handle) }
}

/// Reads the handle's `data` pointer (first field of every libuv handle).
///
/// # Safety
/// `handle` is a live handle from `alloc_handle`.
pub unsafe fn data<T>(handle: *mut Handle) -> *mut T {
    // SAFETY: `void* data` is the first field of UV_HANDLE_FIELDS.
    unsafe { *(handle as *mut *mut T) }
}

/// Sets the handle's `data` pointer.
///
/// # Safety
/// `handle` is a live handle from `alloc_handle`.
pub unsafe fn set_data<T>(handle: *mut Handle, value: *mut T) {
    // SAFETY: as in `data`.
    unsafe { *(handle as *mut *mut T) = value }
}
