//! The one conversion from core errors to JS errors.
//!
//! napi-rs would turn a `std::io::Error` into `code: 'GenericFailure'` and lose
//! the errno, so errors are built here: `code` is the C name (`'EAGAIN'`,
//! `'EAI_NONAME'`) and the message is the raw number, which ts/errors.ts turns
//! into a `SocketError` with `errno`, `syscall` and a Node-style message.

use std::collections::HashMap;

use bsd_sockets_core::{Errno, GaiError};
use napi_derive::napi;

/// The JS error's `code`.
pub struct Code(pub &'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

/// What every binding function returns.
pub type Result<T> = napi::Result<T, Code>;

/// The JS error for an errno: `code` its name, the message its number.
pub fn errno_error(errno: Errno) -> napi::Error<Code> {
    napi::Error::new(
        Code(errno.name().unwrap_or("UNKNOWN")),
        errno.raw().to_string(),
    )
}

/// `.js()?` turns a core result into a binding result.
pub trait IntoJs<T> {
    /// Converts the error side.
    fn js(self) -> Result<T>;
}

impl<T> IntoJs<T> for std::result::Result<T, Errno> {
    fn js(self) -> Result<T> {
        self.map_err(errno_error)
    }
}

impl<T> IntoJs<T> for std::result::Result<T, GaiError> {
    fn js(self) -> Result<T> {
        self.map_err(|e| {
            napi::Error::new(Code(e.name().unwrap_or("EAI_UNKNOWN")), e.raw().to_string())
        })
    }
}

/// The C name of an errno number, from the platform's constants (`'EAGAIN'`).
#[napi(catch_unwind)]
pub fn errno_name(errno: i32) -> Option<&'static str> {
    Errno::from_raw(errno).name()
}

/// The errno numbers the calls fail with, by their POSIX names: on Windows
/// Winsock's (`EAGAIN` is 10035, named `WSAEWOULDBLOCK`), where Node's
/// `os.constants.errno.EAGAIN` is the C runtime's 11, which no socket call gives.
#[napi(catch_unwind)]
pub fn errnos() -> HashMap<&'static str, i32> {
    Errno::consts().map(|(name, e)| (name, e.raw())).collect()
}

/// `__panicForTestNapi()`: panics, so a test can check that `#[napi(catch_unwind)]`
/// turns a panic into a thrown JS error. Internal and undocumented (no typings);
/// harmless, as the panic never leaves napi-rs's `catch_unwind`.
#[napi(catch_unwind, js_name = "__panicForTestNapi", skip_typescript)]
pub fn panic_for_test() -> Result<()> {
    panic!("bsd-sockets: forced panic (#[napi] function)")
}
