//! `inetPton` / `inetNtop`: conversion only (core's `inet`).

use napi_derive::napi;

use crate::copied::Copied;
use crate::error::{IntoJs, Result};

/// The packed address, or `null` when `text` is not an address of `family`.
#[napi(catch_unwind, ts_return_type = "Buffer | null")]
pub fn inet_pton(family: i32, text: String) -> Result<Option<Copied>> {
    bsd_sockets_core::inet_pton(family, &text)
        .js()
        .map(|packed| packed.map(Copied))
}

/// The text of a packed address, or `null` when its length does not fit `family`.
#[napi(catch_unwind)]
pub fn inet_ntop(family: i32, packed: &[u8]) -> Result<Option<String>> {
    bsd_sockets_core::inet_ntop(family, packed).js()
}
