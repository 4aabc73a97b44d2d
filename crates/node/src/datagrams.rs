//! Batched datagrams on a `NativeSocket`: `recvmanyInto` / `sendmany`.
//! Conversion only; the batch logic is core's `batch` module.
//!
//! Both return the count or `-errno` (ts/ throws for the plain calls, the
//! `try*` calls pass it on): one shape for the hot path, no exception when
//! the socket is dry. Address resolution errors still throw.

use std::cell::RefCell;

use bsd_sockets_core::batch::RecvMeta;
use bsd_sockets_core::Address;
use napi::bindgen_prelude::{Array, Int32ArraySlice, ToNapiValue, Uint8ArraySlice};
use napi::{sys, JsValue};
use napi_derive::napi;

use crate::address::{resolve, JsAddress};
use crate::error::{Code, Result};
use crate::socket::{neg, NativeSocket};
use napi::bindgen_prelude::External;

thread_local! {
    /// Per-datagram results, reused from call to call: the hot path allocates
    /// no metadata (each JS thread has its own).
    static META: RefCell<Vec<RecvMeta>> = const { RefCell::new(Vec::new()) };
}

/// `out[i]` = the sender of datagram i. A run of datagrams from one sender
/// shares one JS array: one decode and one allocation per sender, and ts/
/// sees at a glance (`===`) that a reply batch has one destination.
fn fill_addresses(out: &Array, meta: &[RecvMeta]) -> napi::Result<()> {
    let env = out.value().env;
    let array = out.value().value;
    let mut prev: Option<(&RecvMeta, sys::napi_value)> = None;
    for (i, m) in meta.iter().enumerate() {
        let value = match prev {
            Some((p, v)) if p.same_sender(m) => v,
            // SAFETY: `env` is the live env of this call.
            _ => unsafe { ToNapiValue::to_napi_value(env, JsAddress(m.address()))? },
        };
        prev = Some((m, value));
        // SAFETY: `array` is the caller's array, `value` a value of this call's scope.
        let status = unsafe { sys::napi_set_element(env, array, i as u32, value) };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::from_reason("could not fill options.addresses"));
        }
    }
    Ok(())
}

/// recvmmsg(2) into `buffers`: `lengths[i]` (and `msgFlags[i]`,
/// `addresses[i]` when given) describe datagram i. ts/ checked the sizes
/// (at most MAX_BATCH buffers, arrays at least as long).
#[napi(catch_unwind)]
pub fn sock_recvmany_into(
    h: &External<NativeSocket>,
    mut buffers: Vec<Uint8ArraySlice>,
    mut lengths: Int32ArraySlice,
    msg_flags: Option<Int32ArraySlice>,
    addresses: Option<Array>,
    flags: i32,
) -> Result<i32> {
    let Some(s) = h.sock() else {
        return Ok(-libc::EBADF);
    };
    let mut bufs: Vec<&mut [u8]> = buffers
        .iter_mut()
        // SAFETY: the call is synchronous on the JS thread, so no JS code touches the
        // buffers while the kernel writes into them; the slices die with the call, and
        // the TS layer rejects overlapping views, so no two slices alias.
        .map(|b| unsafe { b.as_mut() })
        .collect();
    META.with_borrow_mut(|meta| {
        if meta.len() < bufs.len() {
            meta.resize_with(bufs.len(), RecvMeta::default);
        }
        let meta = &mut meta[..bufs.len()];
        let n = match s.recv_many(&mut bufs, meta, flags) {
            Ok(n) => n,
            Err(e) => return Ok(neg(e)),
        };
        // SAFETY: as above, for the caller's Int32Arrays.
        let lens = unsafe { lengths.as_mut() };
        for (slot, m) in lens.iter_mut().zip(&meta[..n]) {
            *slot = m.len().min(i32::MAX as usize) as i32;
        }
        if let Some(mut out) = msg_flags {
            // SAFETY: as above.
            for (slot, m) in unsafe { out.as_mut() }.iter_mut().zip(&meta[..n]) {
                *slot = m.flags();
            }
        }
        if let Some(out) = addresses {
            fill_addresses(&out, &meta[..n])
                .map_err(|e| napi::Error::new(Code("ERR_BSD_SOCKETS_ADDRESSES"), e.reason))?;
        }
        Ok(n as i32)
    })
}

/// sendmmsg(2) of `buffers`, one datagram each, to no address (`hosts`
/// empty: connected), one, or one per buffer; `nums` holds
/// `[port, flowinfo, scopeId]` per host.
#[napi(catch_unwind)]
pub fn sock_sendmany(
    h: &External<NativeSocket>,
    buffers: Vec<Uint8ArraySlice>,
    hosts: Vec<String>,
    nums: Vec<u32>,
    flags: i32,
) -> Result<i32> {
    let Some(s) = h.sock() else {
        return Ok(-libc::EBADF);
    };
    let addrs = hosts
        .iter()
        .zip(nums.chunks_exact(3))
        .map(|(h, n)| resolve(s.family(), h, n[0], n[1], n[2]))
        .collect::<Result<Vec<Address>>>()?;
    let bufs: Vec<&[u8]> = buffers.iter().map(|b| &b[..]).collect();
    Ok(s.send_many(&bufs, &addrs, flags)
        .map_or_else(neg, |n| n as i32))
}
