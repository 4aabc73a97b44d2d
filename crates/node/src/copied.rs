//! Small byte results (ancillary data, option values) as Buffers copied into
//! V8's heap. napi-rs's `Buffer` from a `Vec` makes an external buffer with a
//! finalizer: a boxed Vec, a finalizer to run and external memory to account,
//! which cost far more than copying a few bytes (0.9 µs of an fd round trip,
//! measured 2026-11-25).

use std::ptr;

use napi::bindgen_prelude::ToNapiValue;
use napi::sys;

/// Bytes handed to JS as a new Buffer holding a copy.
pub struct Copied(pub Vec<u8>);

impl ToNapiValue for Copied {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let mut data = ptr::null_mut();
        let mut out = ptr::null_mut();
        // SAFETY: the caller's env; `val.0` holds `len` readable bytes (N-API
        // reads none when the length is 0); valid out-pointers.
        let status = unsafe {
            sys::napi_create_buffer_copy(
                env,
                val.0.len(),
                val.0.as_ptr().cast(),
                &mut data,
                &mut out,
            )
        };
        if status == sys::Status::napi_ok {
            Ok(out)
        } else {
            Err(napi::Error::from_reason("creating a Buffer failed"))
        }
    }
}
