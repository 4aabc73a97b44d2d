//! `getaddrinfo()`: name resolution in Python's result shape.

use bsd_sockets_core::{AddrInfoHints, Address};
use napi_derive::napi;

use crate::address::JsAddress;
use crate::error::{IntoJs, Result};

/// One getaddrinfo result: `[family, type, proto, canonname, address]`.
type AddrInfoTuple = (i32, i32, i32, String, JsAddress);

/// Python's getaddrinfo: `[family, type, proto, canonname, address][]`.
#[napi(
    catch_unwind,
    ts_return_type = "Array<[number, number, number, string, [string, number] | [string, number, number, number] | string | null]>"
)]
pub fn getaddrinfo(
    host: Option<String>,
    port: Option<String>,
    family: i32,
    socktype: i32,
    protocol: i32,
    flags: i32,
) -> Result<Vec<AddrInfoTuple>> {
    let hints = AddrInfoHints {
        family,
        socktype,
        protocol,
        flags,
    };
    let list = bsd_sockets_core::getaddrinfo(host.as_deref(), port.as_deref(), hints).js()?;
    Ok(list
        .into_iter()
        .map(|a| {
            (
                a.family,
                a.socktype,
                a.protocol,
                a.canonname,
                JsAddress(a.address),
            )
        })
        .collect())
}

/// Python's getnameinfo of `[host, port, flowinfo, scopeId]`: `[host, service]`.
/// The host must be numeric (core's `Address::numeric`).
#[napi(catch_unwind)]
pub fn getnameinfo(
    host: String,
    port: u32,
    flowinfo: u32,
    scope_id: u32,
    flags: i32,
) -> Result<(String, String)> {
    // ts/ has checked the port range; the cast cannot truncate.
    let addr = Address::numeric(&host, port as u16, flowinfo, scope_id).js()?;
    bsd_sockets_core::getnameinfo(&addr, flags).js()
}
