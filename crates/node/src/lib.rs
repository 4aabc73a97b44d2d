//! napi-rs binding of bsd-sockets-core: JS values <-> core types, errors with
//! the errno's name, fd ownership across the JS boundary. No socket logic.
//!
//! Flags pass through untouched: no call here adds `MSG_DONTWAIT` (or any flag).
//! Whether a call may wait is the caller's to say, in one place: ts/ adds
//! `MSG_DONTWAIT` to the flags of every `try*` call and every async attempt.
//! (Core's batch calls add it after the first datagram: that is what a batch
//! means, only its first datagram is waited for, not a mode chosen here.)
// The public docs are the TSDoc in ts/.
#![allow(missing_docs)]
// napi-derive registers exports only outside `cfg(test)`, so the test build sees them unused.
#![cfg_attr(test, allow(dead_code))]

mod address;
mod constants;
mod copied;
mod datagrams;
mod error;
mod fast;
mod fd;
mod inet;
mod msg;
mod poller;
mod reactor;
mod resolve;
mod select;
mod socket;
mod tcp_info;
mod uv;

/// Module init: the `#[napi]` items register themselves; the fd calls are added by hand.
#[napi_derive::napi(module_exports)]
pub fn init(exports: napi::bindgen_prelude::Object, env: napi::Env) -> napi::Result<()> {
    use napi::JsValue;
    fast::register(env.raw(), exports.value().value)
}
