//! napi-rs binding of bsd-sockets-core: JS values <-> core types, errors with
//! the errno's name, fd ownership across the JS boundary. No socket logic.
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
