//! `Address` <-> JS: `[host, port]`, `[host, port, flowinfo, scopeId]`, or a path string.

use bsd_sockets_core::Address;
use napi::bindgen_prelude::{Null, ToNapiValue, TypeName};
use napi::sys;

/// An address on its way to JS, in Python's shape for its family.
pub struct JsAddress(pub Address);

impl TypeName for JsAddress {
    fn type_name() -> &'static str {
        "Address"
    }

    fn value_type() -> napi::ValueType {
        napi::ValueType::Unknown
    }
}

impl ToNapiValue for JsAddress {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: `env` is the live env napi-rs passed to this very call.
        unsafe {
            match val.0 {
                Address::V4(a) => {
                    ToNapiValue::to_napi_value(env, (a.ip().to_string(), u32::from(a.port())))
                }
                Address::V6(a) => ToNapiValue::to_napi_value(
                    env,
                    (
                        a.ip().to_string(),
                        u32::from(a.port()),
                        a.flowinfo(),
                        a.scope_id(),
                    ),
                ),
                Address::Unix(path) => {
                    ToNapiValue::to_napi_value(env, String::from_utf8_lossy(&path).into_owned())
                }
                Address::Other(_) => ToNapiValue::to_napi_value(env, Null),
            }
        }
    }
}

/// Resolves the JS pieces for the socket's family (host is the path for AF_UNIX).
pub fn resolve(
    family: i32,
    host: &str,
    port: u32,
    flowinfo: u32,
    scope_id: u32,
) -> crate::error::Result<Address> {
    use crate::error::IntoJs;
    // ts/validate.ts has checked the port range; the cast cannot truncate.
    Address::resolve(family, host, port as u16, flowinfo, scope_id).js()
}
