//! sendmsg/recvmsg and peer credentials on `NativeSocket`: conversion only (core's `msg`).

use rustix::fd::{IntoRawFd, OwnedFd};
use std::io::{IoSlice, IoSliceMut};

use bsd_sockets_core::msg::{self, Ancillary, Cmsg, Received};
use napi::bindgen_prelude::ToNapiValue;
use napi::sys;
use napi_derive::napi;

use crate::address::{resolve, JsAddress};
use crate::copied::Copied;
use crate::error::{IntoJs, Result};
use crate::socket::NativeSocket;
use napi::bindgen_prelude::External;

/// `[level, type, data]`, one control message as JS gets it.
type JsAncillary = (i32, i32, Copied);

/// `[nbytes, ancdata, msgFlags, address]`. SCM_RIGHTS fds become raw ints in
/// `data`; they stay owned (closed on drop) until the whole JS value is built,
/// and only then belong to JS, as in Python: a failed conversion leaks none.
pub struct Recvmsg(Received);

impl ToNapiValue for Recvmsg {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let r = val.0;
        // Nothing is pushed on Windows, which receives no fds.
        #[cfg_attr(windows, allow(unused_mut))]
        let mut owned: Vec<OwnedFd> = Vec::new();
        let ancillary: Vec<JsAncillary> = r
            .ancillary
            .into_iter()
            .map(|a| match a {
                // Windows has no SCM_RIGHTS: core never receives fds there.
                #[cfg(unix)]
                Ancillary::Fds(fds) => {
                    let data = msg::rights_data(fds.iter().map(std::os::fd::AsRawFd::as_raw_fd));
                    owned.extend(fds);
                    // The very message send_fds would send them in.
                    let Cmsg { level, kind, .. } = Cmsg::rights(&data);
                    (level, kind, Copied(data))
                }
                Ancillary::Data { level, kind, data } => (level, kind, Copied(data)),
            })
            .collect();
        // Bounded by the buffers' total, which JS lengths keep under 2^32.
        let js = (
            r.nbytes as u32,
            ancillary,
            r.flags,
            r.address.map(JsAddress),
        );
        // SAFETY: the caller's env, as this function's contract requires.
        let value = unsafe { ToNapiValue::to_napi_value(env, js)? };
        for fd in owned {
            let _ = fd.into_raw_fd();
        }
        Ok(value)
    }
}

/// sendmsg(2): `buffers` in order; control messages as parallel arrays
/// (ts/ checked them); `host` set = send to that address.
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)]
pub fn sock_sendmsg(
    h: &External<NativeSocket>,
    buffers: Vec<&[u8]>,
    levels: Vec<i32>,
    types: Vec<i32>,
    datas: Vec<&[u8]>,
    flags: i32,
    host: Option<String>,
    port: u32,
    flowinfo: u32,
    scope_id: u32,
) -> Result<u32> {
    let s = h.get()?;
    let addr = match host {
        Some(h) => Some(resolve(s.family(), &h, port, flowinfo, scope_id)?),
        None => None,
    };
    let bufs: Vec<IoSlice<'_>> = buffers.iter().map(|b| IoSlice::new(b)).collect();
    let cmsgs: Vec<Cmsg<'_>> = levels
        .iter()
        .zip(&types)
        .zip(&datas)
        .map(|((&level, &kind), data)| Cmsg { level, kind, data })
        .collect();
    // A message's size is bounded by the socket buffer, far under u32::MAX.
    s.sendmsg(&bufs, &cmsgs, flags, addr.as_ref())
        .js()
        .map(|n| n as u32)
}

/// recvmsg(2) into `buffers` (ts/ checked they do not overlap): `[nbytes,
/// [level, type, data][], msgFlags, address]` (see [`Recvmsg`]).
#[napi(
    catch_unwind,
    ts_return_type = "[number, [number, number, Buffer][], number, [string, number] | [string, number, number, number] | string | null]"
)]
pub fn sock_recvmsg_into(
    h: &External<NativeSocket>,
    buffers: Vec<&mut [u8]>,
    ancbufsize: u32,
    flags: i32,
) -> Result<Recvmsg> {
    let mut bufs: Vec<IoSliceMut<'_>> = buffers.into_iter().map(IoSliceMut::new).collect();
    h.get()?
        .recvmsg(&mut bufs, ancbufsize as usize, flags)
        .js()
        .map(Recvmsg)
}

/// `[pid, uid, gid]`; pid `null` where the platform does not tell.
#[napi(catch_unwind)]
pub fn sock_peer_credentials(h: &External<NativeSocket>) -> Result<(Option<i32>, u32, u32)> {
    let c = h.get()?.peer_credentials().js()?;
    Ok((c.pid, c.uid, c.gid))
}

/// `CMSG_LEN(length)`; `null` when it overflows.
#[napi(catch_unwind)]
pub fn cmsg_len(length: u32) -> Option<u32> {
    msg::cmsg_len(length as usize).and_then(|n| u32::try_from(n).ok())
}

/// `CMSG_SPACE(length)`; `null` when it overflows.
#[napi(catch_unwind)]
pub fn cmsg_space(length: u32) -> Option<u32> {
    msg::cmsg_space(length as usize).and_then(|n| u32::try_from(n).ok())
}
