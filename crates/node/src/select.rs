//! `select()` and `getaddrinfo()`: module functions.

use std::time::Duration;

use bsd_sockets_core::{AddrInfoHints, Errno};
use napi_derive::napi;

use crate::address::JsAddress;
use crate::error::{IntoJs, Result};

/// Python's select on poll(2): the indices of the ready entries of each list
/// (ts/ maps them back to the objects it was given).
#[napi(catch_unwind)]
pub fn select(
    read: Vec<i32>,
    write: Vec<i32>,
    except: Vec<i32>,
    timeout: Option<f64>,
) -> Result<(Vec<u32>, Vec<u32>, Vec<u32>)> {
    let ready =
        bsd_sockets_core::select(&read, &write, &except, timeout.map(Duration::from_secs_f64))
            .js()?;
    let idx = |v: Vec<usize>| v.into_iter().map(|i| i as u32).collect();
    Ok((idx(ready.read), idx(ready.write), idx(ready.except)))
}

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

/// The C name of an errno number, from the platform's constants (`'EAGAIN'`).
#[napi(catch_unwind)]
pub fn errno_name(errno: i32) -> Option<&'static str> {
    Errno::from_raw(errno).name()
}
