//! `NativeSocket`: the JS handle of a core `Socket`. Conversion and ownership only.

use bsd_sockets_core::{io, Address, Errno, Socket};
use napi::bindgen_prelude::{Either, External, Int32ArraySlice, Uint8ArraySlice};
use napi_derive::napi;
use rustix::fd::AsRawFd;

use crate::address::{resolve, JsAddress};
use crate::copied::Copied;
use crate::error::{errno_error, IntoJs, Result};
use crate::reactor;

/// A socket owned by a JS object. `None` once closed or detached: every call
/// then fails with EBADF from this state, never touching the old fd number
/// (which may already belong to someone else). Dropped by the GC = closed.
///
/// JS holds it as an `External` and calls free functions on it (`sockBind(h,
/// ...)`): ~150 ns a call against ~370 ns for a `#[napi]` class method, and
/// ~0.6 µs to create where a class instance costs ~1.2 µs more (2026-11-25, benchmark/README.md).
/// `#[napi]` only names the type for the generated TypeScript.
#[napi]
pub struct NativeSocket {
    sock: Option<Socket>,
    /// The event-loop watch on this fd, stopped before the fd is closed.
    watch_id: Option<u32>,
    /// An accepted socket's peer when it is not IPv4, until `acceptedAddress()` takes it.
    peer: Option<Address>,
}

impl NativeSocket {
    /// The socket, `None` once closed or detached.
    pub(crate) fn sock(&self) -> Option<&Socket> {
        self.sock.as_ref()
    }

    pub(crate) fn get(&self) -> Result<&Socket> {
        self.sock.as_ref().ok_or_else(|| errno_error(Errno::EBADF))
    }

    fn wrap(sock: Socket) -> External<NativeSocket> {
        External::new(NativeSocket {
            sock: Some(sock),
            watch_id: None,
            peer: None,
        })
    }

    /// Gives up the socket: the watch goes first, as libuv must stop polling an
    /// fd before it is closed or handed to someone else.
    fn release(&mut self) -> Option<Socket> {
        if let Some(id) = self.watch_id.take() {
            reactor::unwatch(id);
        }
        self.sock.take()
    }
}

impl Drop for NativeSocket {
    fn drop(&mut self) {
        drop(self.release());
    }
}

/// `-errno` for the no-throw calls.
pub(crate) fn neg(e: Errno) -> i32 {
    -e.raw()
}

#[napi(catch_unwind)]
pub fn sock_new(family: i32, socktype: i32, protocol: i32) -> Result<External<NativeSocket>> {
    Socket::new(family, socktype, protocol)
        .js()
        .map(NativeSocket::wrap)
}

/// Adopts `fd` (validated: EBADF / ENOTSOCK, never an abort).
#[napi(catch_unwind)]
pub fn sock_from_fd(fd: i32) -> Result<External<NativeSocket>> {
    // SAFETY: the JS caller hands us `fd`; fromfd() documents that the fd now belongs to the socket.
    unsafe { Socket::from_raw_fd_checked(crate::fd::from_js(fd)) }
        .js()
        .map(NativeSocket::wrap)
}

#[napi(catch_unwind)]
pub fn sock_pair(
    family: i32,
    socktype: i32,
    protocol: i32,
) -> Result<(External<NativeSocket>, External<NativeSocket>)> {
    let (a, b) = Socket::pair(family, socktype, protocol).js()?;
    Ok((NativeSocket::wrap(a), NativeSocket::wrap(b)))
}

/// `[fd, family, type, proto, timeout]` in one call (timeout -1 = blocking),
/// what ts/ caches when it wraps a handle.
#[napi(catch_unwind)]
pub fn sock_info(h: &External<NativeSocket>) -> Result<(i32, i32, i32, i32, f64)> {
    let s = h.get()?;
    let fd = crate::fd::to_js(s.as_raw_fd());
    let timeout = s.timeout().map_or(-1.0, |d| d.as_secs_f64());
    Ok((fd, s.family(), s.socktype(), s.protocol(), timeout))
}

#[napi(catch_unwind)]
pub fn sock_detach(h: &mut External<NativeSocket>) -> i32 {
    h.release()
        .map_or(-1, |s| crate::fd::to_js(s.into_raw_fd()))
}

#[napi(catch_unwind)]
pub fn sock_dup(h: &External<NativeSocket>) -> Result<External<NativeSocket>> {
    h.get()?.try_clone().js().map(NativeSocket::wrap)
}

/// Idempotent: closing a closed socket does nothing.
#[napi(catch_unwind)]
pub fn sock_close(h: &mut External<NativeSocket>) -> Result<()> {
    h.release().map_or(Ok(()), Socket::close).js()
}

#[napi(catch_unwind)]
pub fn sock_bind(
    h: &External<NativeSocket>,
    host: String,
    port: u32,
    flowinfo: u32,
    scope_id: u32,
) -> Result<()> {
    let s = h.get()?;
    s.bind(&resolve(s.family(), &host, port, flowinfo, scope_id)?)
        .js()
}

#[napi(catch_unwind)]
pub fn sock_listen(h: &External<NativeSocket>, backlog: i32) -> Result<()> {
    h.get()?.listen(backlog).js()
}

/// Accepts a connection: the new socket (blocking, of the listener's family,
/// type and protocol); see [`accepted`] for what goes into `out`.
#[napi(catch_unwind)]
pub fn sock_accept(
    h: &External<NativeSocket>,
    mut out: Int32ArraySlice,
) -> Result<External<NativeSocket>> {
    let out = slots(&mut out).ok_or_else(|| errno_error(Errno::EINVAL))?;
    Ok(accepted(h.get()?.accept().js()?, out))
}

/// Takes the peer address of an accepted socket whose peer is not IPv4.
#[napi(
    catch_unwind,
    ts_return_type = "[string, number, number, number] | string | null"
)]
pub fn sock_accepted_address(h: &mut External<NativeSocket>) -> JsAddress {
    JsAddress(h.peer.take().unwrap_or(Address::Other(0)))
}

#[napi(catch_unwind)]
pub fn sock_connect(
    h: &External<NativeSocket>,
    host: String,
    port: u32,
    flowinfo: u32,
    scope_id: u32,
) -> Result<()> {
    let s = h.get()?;
    s.connect(&resolve(s.family(), &host, port, flowinfo, scope_id)?)
        .js()
}

/// Python's `connect_ex`: the errno as a number (0 on success); name
/// resolution failures still throw, as in Python.
#[napi(catch_unwind)]
pub fn sock_connect_ex(
    h: &External<NativeSocket>,
    host: String,
    port: u32,
    flowinfo: u32,
    scope_id: u32,
) -> Result<i32> {
    let s = h.get()?;
    Ok(s.connect_ex(&resolve(s.family(), &host, port, flowinfo, scope_id)?))
}

#[napi(catch_unwind)]
pub fn sock_sendto(
    h: &External<NativeSocket>,
    data: &[u8],
    flags: i32,
    host: String,
    port: u32,
    flowinfo: u32,
    scope_id: u32,
) -> Result<u32> {
    let s = h.get()?;
    let addr = resolve(s.family(), &host, port, flowinfo, scope_id)?;
    s.send_to(clamp(data), flags, &addr).js().map(len)
}

#[napi(
    catch_unwind,
    ts_return_type = "[number, [string, number] | [string, number, number, number] | string | null]"
)]
pub fn sock_recvfrom_into(
    h: &External<NativeSocket>,
    mut buf: Uint8ArraySlice,
    nbytes: u32,
    flags: i32,
) -> Result<(u32, JsAddress)> {
    let buf = writable(&mut buf);
    let n = (nbytes as usize).min(buf.len());
    let (got, addr) = h.get()?.recv_from_into(&mut buf[..n], flags).js()?;
    Ok((len(got), JsAddress(addr)))
}

#[napi(catch_unwind)]
pub fn sock_shutdown(h: &External<NativeSocket>, how: i32) -> Result<()> {
    h.get()?.shutdown(how).js()
}

/// Seconds as in Python: `null` blocking, 0 non-blocking (ts/ checked finite, >= 0).
#[napi(catch_unwind)]
pub fn sock_settimeout(h: &mut External<NativeSocket>, seconds: Option<f64>) -> Result<()> {
    let sock = h.sock.as_mut().ok_or_else(|| errno_error(Errno::EBADF))?;
    sock.set_timeout(seconds.map(io::timeout_from_secs)).js()
}

#[napi(catch_unwind)]
pub fn sock_gettimeout(h: &External<NativeSocket>) -> Result<Option<f64>> {
    Ok(h.get()?.timeout().map(|d| d.as_secs_f64()))
}

#[napi(
    catch_unwind,
    ts_return_type = "[string, number] | [string, number, number, number] | string | null"
)]
pub fn sock_getsockname(h: &External<NativeSocket>) -> Result<JsAddress> {
    h.get()?.local_addr().js().map(JsAddress)
}

#[napi(
    catch_unwind,
    ts_return_type = "[string, number] | [string, number, number, number] | string | null"
)]
pub fn sock_getpeername(h: &External<NativeSocket>) -> Result<JsAddress> {
    h.get()?.peer_addr().js().map(JsAddress)
}

#[napi(catch_unwind)]
pub fn sock_setsockopt_int(
    h: &External<NativeSocket>,
    level: i32,
    name: i32,
    value: i32,
) -> Result<()> {
    h.get()?.setsockopt_int(level, name, value).js()
}

#[napi(catch_unwind)]
pub fn sock_setsockopt_bytes(
    h: &External<NativeSocket>,
    level: i32,
    name: i32,
    value: &[u8],
) -> Result<()> {
    h.get()?.setsockopt_bytes(level, name, value).js()
}

#[napi(catch_unwind)]
pub fn sock_getsockopt_int(h: &External<NativeSocket>, level: i32, name: i32) -> Result<i32> {
    h.get()?.getsockopt_int(level, name).js()
}

/// Up to `buflen` bytes of the option (ts/ bounds `buflen` to 1024, as Python does).
#[napi(catch_unwind, ts_return_type = "Buffer")]
pub fn sock_getsockopt_bytes(
    h: &External<NativeSocket>,
    level: i32,
    name: i32,
    buflen: u32,
) -> Result<Copied> {
    let mut buf = vec![0u8; buflen as usize];
    let n = h.get()?.getsockopt_into(level, name, &mut buf).js()?;
    buf.truncate(n);
    Ok(Copied(buf))
}

/// Watches the fd on Node's event loop under the JS-chosen `id` for
/// `events` (UV_READABLE | UV_WRITABLE; 0 pauses). See reactor.rs.
#[napi(catch_unwind)]
pub fn sock_watch(h: &mut External<NativeSocket>, id: u32, events: i32) -> Result<()> {
    let fd = h.get()?.as_raw_fd();
    if let Some(old) = h.watch_id.filter(|&old| old != id) {
        reactor::unwatch(old);
    }
    h.watch_id = Some(id);
    reactor::watch(id, fd, events)
}

/// sendto under the socket's mode with the caller's flags (ts/ adds MSG_DONTWAIT; see
/// lib.rs): bytes or `-errno`; name resolution errors still throw.
#[napi(catch_unwind)]
pub fn sock_try_sendto(
    h: &External<NativeSocket>,
    data: &[u8],
    flags: i32,
    host: String,
    port: u32,
    flowinfo: u32,
    scope_id: u32,
) -> Result<i32> {
    let Some(s) = h.sock.as_ref() else {
        return Ok(neg(Errno::EBADF));
    };
    let addr = resolve(s.family(), &host, port, flowinfo, scope_id)?;
    let data = &data[..data.len().min(i32::MAX as usize)];
    Ok(s.send_to(data, flags, &addr).map_or_else(neg, |n| n as i32))
}

/// recvfrom under the socket's mode with the caller's flags (ts/ adds MSG_DONTWAIT; see
/// lib.rs): `[bytes, address]` or `-errno`.
#[napi(
    catch_unwind,
    ts_return_type = "[number, [string, number] | [string, number, number, number] | string | null] | number"
)]
pub fn sock_try_recvfrom_into(
    h: &External<NativeSocket>,
    mut buf: Uint8ArraySlice,
    nbytes: u32,
    flags: i32,
) -> Either<(u32, JsAddress), i32> {
    let Some(s) = h.sock.as_ref() else {
        return Either::B(neg(Errno::EBADF));
    };
    let buf = writable(&mut buf);
    let n = (nbytes as usize).min(buf.len());
    match s.recv_from_into(&mut buf[..n], flags) {
        Ok((got, addr)) => Either::A((len(got), JsAddress(addr))),
        Err(e) => Either::B(neg(e)),
    }
}

/// accept under the socket's mode (ts/ makes it non-blocking first): `[socket, address]` or `-errno`.
/// `accept` without raising: the new socket, or `null` with `-errno` in `out[0]`.
#[napi(catch_unwind)]
pub fn sock_try_accept(
    h: &External<NativeSocket>,
    mut out: Int32ArraySlice,
) -> Option<External<NativeSocket>> {
    let out = slots(&mut out)?;
    let Some(s) = h.sock.as_ref() else {
        out[ACCEPTED_FD as usize] = neg(Errno::EBADF);
        return None;
    };
    match s.accept() {
        Ok(conn) => Some(accepted(conn, out)),
        Err(e) => {
            out[ACCEPTED_FD as usize] = neg(e);
            None
        }
    }
}

// `sockAccept` and `sockTryAccept` report into an Int32Array of the caller's rather than
// return a tuple: per connection this saves ts/ an `info()` call and the two JS arrays of
// a returned tuple (~0.7 µs in all, 2026-11-25). Its layout, exported so that ts/ reads it from here:

/// The length of the Int32Array `sockAccept` and `sockTryAccept` report into.
#[napi]
pub const ACCEPTED_LEN: u32 = 4;

/// Slot of the accepted socket's fd; `-errno` instead when `sockTryAccept` returns null.
#[napi]
pub const ACCEPTED_FD: u32 = 0;

/// Slot of an IPv4 peer's port (0 for any other peer).
#[napi]
pub const ACCEPTED_PORT: u32 = 1;

/// Slot of an IPv4 peer's address as its 32 bits (`a.b.c.d` is `a << 24 | ...`, read as a
/// signed int); 0 for any other peer.
#[napi]
pub const ACCEPTED_IPV4: u32 = 2;

/// Slot holding 1 for an IPv4 peer (in the two slots above), 0 for any other: then
/// `sockAcceptedAddress(conn)` gives that peer's address.
#[napi]
pub const ACCEPTED_IS_IPV4: u32 = 3;

/// An accepted connection as JS gets it: the socket, with the peer in `out` when it is
/// IPv4, else kept for `acceptedAddress()`.
fn accepted(
    (sock, addr): (Socket, Address),
    out: &mut [i32; ACCEPTED_LEN as usize],
) -> External<NativeSocket> {
    out[ACCEPTED_FD as usize] = crate::fd::to_js(sock.as_raw_fd());
    let mut conn = NativeSocket::wrap(sock);
    let (port, ip, is_ipv4) = match addr {
        Address::V4(a) => (i32::from(a.port()), u32::from(*a.ip()) as i32, 1),
        other => {
            conn.peer = Some(other);
            (0, 0, 0)
        }
    };
    out[ACCEPTED_PORT as usize] = port;
    out[ACCEPTED_IPV4 as usize] = ip;
    out[ACCEPTED_IS_IPV4 as usize] = is_ipv4;
    conn
}

/// The slots `accept` reports into, or `None` when ts/ passed fewer.
fn slots<'a>(out: &'a mut Int32ArraySlice) -> Option<&'a mut [i32; ACCEPTED_LEN as usize]> {
    // SAFETY: as in `writable`: synchronous on the JS thread, for this call only.
    unsafe { out.as_mut() }.first_chunk_mut()
}

/// The caller's bytes, to receive into.
fn writable<'a>(buf: &'a mut Uint8ArraySlice) -> &'a mut [u8] {
    // SAFETY: the call is synchronous on the JS thread, so no JS code can touch
    // the buffer while the kernel writes into it, and the slice does not outlive the call.
    unsafe { buf.as_mut() }
}

/// One send moves at most u32::MAX bytes, so its count fits the JS number we
/// return; a partial send is legal and callers (sendall) loop.
fn clamp(data: &[u8]) -> &[u8] {
    &data[..data.len().min(u32::MAX as usize)]
}

/// Counts are bounded by `clamp` or by the u32 `nbytes`, so this never truncates.
fn len(n: usize) -> u32 {
    n as u32
}
