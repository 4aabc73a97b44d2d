//! The floor of any design on Node's event loop, for `benchmark/servers/uv-floor.mjs`: each
//! socket gets a `uv_poll` on the env's loop (as the real addon's reactor does), and its
//! callback echoes with `recv`/`send` right there, never calling into JS. Whatever a Node
//! server does per message costs at least this loop turn; the rows above it in the table show
//! what JS, promises and N-API add on top.

use std::ffi::c_int;
use std::ptr;

use napi::{sys, Env, Error, Result, Status};
use napi_derive::napi;

// The real addon's libuv declarations, the same file rather than a copy.
#[path = "../../node/src/uv.rs"]
#[allow(dead_code)]
mod uv;

const BUF: usize = 65536;

/// Echoes everything `fd` receives until end of stream or an error, then closes `fd`. Takes
/// ownership of `fd`; the caller must not close it.
#[napi]
pub fn echo_in_loop(env: Env, fd: i32) -> Result<()> {
    let mut lp = ptr::null_mut();
    // SAFETY: the live env of this call and a valid out-pointer.
    if unsafe { sys::napi_get_uv_event_loop(env.raw(), &mut lp) } != sys::Status::napi_ok {
        return Err(Error::new(Status::GenericFailure, "no event loop"));
    }
    let h = uv::alloc_handle(uv::UV_POLL);
    if h.is_null() {
        return Err(Error::new(Status::GenericFailure, "out of memory"));
    }
    // SAFETY: `h` is a fresh zeroed handle of the poll size, `fd` an open socket; the
    // handle is started only once initialised.
    let rc = unsafe {
        match uv::poll_init(lp, h, fd) {
            0 => uv::uv_poll_start(h, uv::UV_READABLE, on_readable),
            rc => rc,
        }
    };
    if rc != 0 {
        return Err(Error::new(Status::GenericFailure, format!("uv_poll: {rc}")));
    }
    Ok(())
}

unsafe extern "C" fn on_readable(h: *mut uv::Handle, status: c_int, _events: c_int) {
    // One buffer for every socket: the loop is single-threaded and each echo completes here.
    static mut BUFFER: [u8; BUF] = [0; BUF];
    let buf = &raw mut BUFFER;
    // SAFETY: libuv hands back the live poll handle; its fd is open until we close it below.
    unsafe {
        let mut fd = -1;
        uv_fileno(h, &mut fd);
        let n = if status < 0 {
            -1
        } else {
            libc::recv(fd, buf.cast(), BUF, libc::MSG_DONTWAIT)
        };
        if n > 0 {
            // Loopback ping-pong: 64 bytes always fit in the send buffer.
            libc::send(
                fd,
                buf.cast(),
                n as usize,
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            );
        } else if n == 0 || *libc::__errno_location() != libc::EAGAIN {
            uv::uv_poll_stop(h);
            libc::close(fd);
            uv::uv_close(h, on_close);
        }
    }
}

unsafe extern "C" fn on_close(h: *mut uv::Handle) {
    // SAFETY: libuv is done with the handle once its close callback runs.
    unsafe { uv::free_handle(h) }
}

extern "C" {
    fn uv_fileno(handle: *const uv::Handle, fd: *mut c_int) -> c_int;
}
