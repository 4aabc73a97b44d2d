//! The hot no-throw calls as plain N-API callbacks taking an fd.
//!
//! Measured 2026-11-24 (benchmark/README.md): a `#[napi]` class method costs ~350 ns
//! a call and a `#[napi]` free function ~130 ns, while a hand-registered N-API
//! callback costs ~25 ns, so the per-call cost of `tryRecvInto` on EAGAIN would
//! be dominated by the wrapper. These take the fd ts/socket.ts keeps (-1 once
//! closed: EBADF without a syscall) and return bytes or `-errno`.

use rustix::fd::{BorrowedFd, IntoRawFd};
use std::ffi::CStr;
use std::io::{IoSlice, IoSliceMut};
use std::ptr;

use std::time::Duration;

use bsd_sockets_core::{io, msg, Errno};
use napi::sys;
use napi_derive::napi;

use crate::socket::neg;

// The packed results of these calls, exported to JS so that ts/ reads each value from
// here instead of keeping a copy of it.

/// `recvKeptFd`'s answer when `fd` has no buffer kept under the caller's token (another
/// Socket kept the last one): below every `-errno`, so never mistaken for one.
#[napi]
pub const NOT_KEPT: i32 = -0x4000_0000;

/// `sendallFd` fails with `-(errno + SENDALL_SENT_RADIX * sent)`: the errno and the bytes
/// that went out before it in one exact double (every errno is below the radix, 2^16,
/// Winsock's included; exact while `sent` is below 2^37 bytes).
#[napi]
pub const SENDALL_SENT_RADIX: u32 = Errno::BOUND as u32;

/// `recvmsgIntoFd` and `recvFdsFd` return `nbytes + RECVMSG_FLAGS_RADIX * msgFlags`: a
/// count below 2^32 and flags below core's `msg::FLAGS_LIMIT`, one exact double.
#[napi]
pub const RECVMSG_FLAGS_RADIX: f64 = 4_294_967_296.0;

// Exact: the flags take at most the 53 - 32 bits of a double's mantissa the count leaves.
const _: () = assert!((msg::FLAGS_LIMIT as u64) << 32 <= 1 << f64::MANTISSA_DIGITS);

/// `sendStrFd` returns `sent + SEND_STR_RADIX * encodedLength` (both below the radix).
#[napi]
pub const SEND_STR_RADIX: u32 = 65536;

/// Longest UTF-8 `sendStrFd` encodes on the stack, with the NUL N-API adds.
const STR_BUF: usize = 16384;

/// The longest string `sendStrFd` takes, in UTF-16 units: each is 3 UTF-8 bytes at
/// most, so the encoding always fits STR_BUF and is never cut short.
#[napi]
pub const SEND_STR_MAX: u32 = ((STR_BUF - 1) / 3) as u32;

type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// Declares the N-API callback `$name`, running `$body` with a panic caught at
/// the boundary: a panic becomes a thrown JS error, never an abort.
macro_rules! guarded {
    ($($name:ident => $body:ident),* $(,)?) => {$(
        unsafe extern "C" fn $name(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
            // SAFETY: N-API calls this with the live env and info of this call.
            let run = std::panic::AssertUnwindSafe(|| unsafe { $body(env, info) });
            std::panic::catch_unwind(run).unwrap_or_else(|_| {
                // SAFETY: the env of the running callback; both strings are NUL-terminated.
                unsafe { sys::napi_throw_error(env, c"ERR_BSD_SOCKETS_PANIC".as_ptr(), c"bsd-sockets: internal error (a Rust panic)".as_ptr()) };
                ptr::null_mut()
            })
        }
    )*};
}

guarded! {
    recv_into_fd => recv_into_fd_impl,
    recv_at_fd => recv_at_fd_impl,
    recv_keep_fd => recv_keep_fd_impl,
    recv_kept_fd => recv_kept_fd_impl,
    send_fd => send_fd_impl,
    send_str_fd => send_str_fd_impl,
    sendall_fd => sendall_fd_impl,
    sendmsg_fd => sendmsg_fd_impl,
    recvmsg_into_fd => recvmsg_into_fd_impl,
    recv_fds_fd => recv_fds_fd_impl,
    reactor_set_ref => reactor_set_ref_impl,
    panic_for_test => panic_for_test_impl,
}

const CALLS: &[(&CStr, Callback)] = &[
    (c"recvIntoFd", recv_into_fd),
    (c"recvAtFd", recv_at_fd),
    (c"recvKeepFd", recv_keep_fd),
    (c"recvKeptFd", recv_kept_fd),
    (c"sendFd", send_fd),
    (c"sendStrFd", send_str_fd),
    (c"sendallFd", sendall_fd),
    (c"sendmsgFd", sendmsg_fd),
    (c"recvmsgIntoFd", recvmsg_into_fd),
    (c"recvFdsFd", recv_fds_fd),
    (c"reactorSetRef", reactor_set_ref),
    (c"__panicForTest", panic_for_test),
];

/// Adds the calls to the module's exports.
pub fn register(env: sys::napi_env, exports: sys::napi_value) -> napi::Result<()> {
    for &(name, cb) in CALLS {
        let mut func = ptr::null_mut();
        // SAFETY: the env and exports come from module init; `name` is NUL-terminated.
        unsafe {
            check(sys::napi_create_function(
                env,
                name.as_ptr(),
                -1, /* NAPI_AUTO_LENGTH */
                Some(cb),
                ptr::null_mut(),
                &mut func,
            ))?;
            check(sys::napi_set_named_property(
                env,
                exports,
                name.as_ptr(),
                func,
            ))?;
        }
    }
    Ok(())
}

fn check(status: sys::napi_status) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason("registering the fd calls failed"))
    }
}

/// The call's arguments, or a thrown TypeError (`None`).
struct Args<const N: usize> {
    env: sys::napi_env,
    argv: [sys::napi_value; N],
}

impl<const N: usize> Args<N> {
    /// # Safety
    /// `env` and `info` are the ones N-API passed to the running callback.
    unsafe fn new(env: sys::napi_env, info: sys::napi_callback_info) -> Option<Args<N>> {
        let mut argc = N;
        let mut argv = [ptr::null_mut(); N];
        // SAFETY: per the contract; `argv` has room for `argc` values.
        let status = unsafe {
            sys::napi_get_cb_info(
                env,
                info,
                &mut argc,
                argv.as_mut_ptr(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        let args = Args { env, argv };
        if status == sys::Status::napi_ok && argc >= N {
            Some(args)
        } else {
            args.type_error(c"missing arguments")
        }
    }

    fn int(&self, i: usize) -> Option<i32> {
        let mut v = 0;
        // SAFETY: a value of this callback's frame, a valid out-pointer.
        let status = unsafe { sys::napi_get_value_int32(self.env, self.argv[i], &mut v) };
        self.checked(status, v, c"expected a number")
    }

    fn number(&self, i: usize) -> Option<f64> {
        let mut v = 0.0;
        // SAFETY: a value of this callback's frame, a valid out-pointer.
        let status = unsafe { sys::napi_get_value_double(self.env, self.argv[i], &mut v) };
        self.checked(status, v, c"expected a number")
    }

    /// Python's timeout as the JS side passes it: seconds, negative = blocking.
    fn timeout(&self, i: usize) -> Option<Option<Duration>> {
        let v = self.number(i)?;
        Some((v >= 0.0).then(|| io::timeout_from_secs(v)))
    }

    fn bool(&self, i: usize) -> Option<bool> {
        let mut v = false;
        // SAFETY: a value of this callback's frame, a valid out-pointer.
        let status = unsafe { sys::napi_get_value_bool(self.env, self.argv[i], &mut v) };
        self.checked(status, v, c"expected a boolean")
    }

    /// `v` when N-API read it (`status` ok), else a thrown TypeError saying `msg`.
    fn checked<T>(&self, status: sys::napi_status, v: T, msg: &CStr) -> Option<T> {
        if status == sys::Status::napi_ok {
            Some(v)
        } else {
            self.type_error(msg)
        }
    }

    /// The bytes of a Uint8Array argument.
    ///
    /// # Safety
    /// The slice must not outlive the running callback: `'a` is the caller's
    /// to choose, and only the synchronous call keeps JS off the buffer.
    unsafe fn bytes<'a>(&self, i: usize) -> Option<&'a mut [u8]> {
        let (data, len) = self.raw_bytes(self.argv[i])?;
        // SAFETY: N-API reports `len` bytes at `data`. The call is synchronous on
        // the JS thread, so no JS code touches the buffer while the slice lives.
        Some(unsafe { slice_mut(data, len) })
    }

    /// The Uint8Arrays of an array argument, as `(data, len)`: callers make
    /// shared slices to send from, or (when ts/ checked that none overlap) mutable ones.
    fn byte_list(&self, i: usize) -> Option<Vec<(*mut u8, usize)>> {
        let mut len = 0;
        // SAFETY: a value of this callback's frame, a valid out-pointer.
        let status = unsafe { sys::napi_get_array_length(self.env, self.argv[i], &mut len) };
        self.checked(status, (), c"expected an array")?;
        let mut out = Vec::with_capacity(len as usize);
        for k in 0..len {
            let mut item = ptr::null_mut();
            // SAFETY: as above; `k` is below the array's length.
            let status = unsafe { sys::napi_get_element(self.env, self.argv[i], k, &mut item) };
            self.checked(status, (), c"expected an array")?;
            out.push(self.raw_bytes(item)?);
        }
        Some(out)
    }

    /// A Uint8Array argument's `(data, len)`, or `None` inside for `null`.
    fn optional_bytes(&self, i: usize) -> Option<Option<(*mut u8, usize)>> {
        let mut kind = 0;
        // SAFETY: a value of this callback's frame, a valid out-pointer.
        let status = unsafe { sys::napi_typeof(self.env, self.argv[i], &mut kind) };
        self.checked(status, (), c"expected a Uint8Array or null")?;
        if kind == sys::ValueType::napi_null {
            return Some(None);
        }
        self.raw_bytes(self.argv[i]).map(Some)
    }

    /// The ints of an Int32Array argument, writable for the call.
    ///
    /// # Safety
    /// As [`Args::bytes`]: the slice must not outlive the running callback.
    unsafe fn int32s<'a>(&self, i: usize) -> Option<&'a mut [i32]> {
        let (mut kind, mut len, mut data, mut ab, mut off) =
            (0, 0, ptr::null_mut(), ptr::null_mut(), 0);
        // SAFETY: a value of this callback's frame, valid out-pointers.
        let status = unsafe {
            sys::napi_get_typedarray_info(
                self.env,
                self.argv[i],
                &mut kind,
                &mut len,
                &mut data,
                &mut ab,
                &mut off,
            )
        };
        if status != sys::Status::napi_ok || kind != sys::TypedarrayType::int32_array {
            return self.type_error(c"expected an Int32Array");
        }
        if len == 0 {
            return Some(&mut []);
        }
        // SAFETY: N-API reports `len` aligned ints at `data`; the call is synchronous,
        // so nothing else touches them while the slice lives.
        Some(unsafe { std::slice::from_raw_parts_mut(data.cast(), len) })
    }

    /// Where a Uint8Array's bytes are and how many (null and 0 when empty).
    fn raw_bytes(&self, value: sys::napi_value) -> Option<(*mut u8, usize)> {
        let (mut data, mut len) = (ptr::null_mut(), 0);
        // SAFETY: a value of this callback's frame, valid out-pointers. N-API's
        // buffer info takes any ArrayBufferView and reports its byte length; it
        // skips the typed-array kind dispatch (ts/ passes only Uint8Arrays).
        let status = unsafe { sys::napi_get_buffer_info(self.env, value, &mut data, &mut len) };
        self.checked(status, (data.cast(), len), c"expected a Uint8Array")
    }

    fn type_error<T>(&self, msg: &CStr) -> Option<T> {
        // SAFETY: the env of the running callback; both strings are NUL-terminated.
        unsafe {
            sys::napi_throw_type_error(self.env, c"ERR_INVALID_ARG_TYPE".as_ptr(), msg.as_ptr())
        };
        None
    }

    fn ret(&self, result: Result<usize, Errno>) -> sys::napi_value {
        self.ret_raw(result.map_or_else(neg, |n| n.min(i32::MAX as usize) as i32))
    }

    fn ret_raw(&self, v: i32) -> sys::napi_value {
        let mut out = ptr::null_mut();
        // SAFETY: the env of the running callback, a valid out-pointer.
        unsafe { sys::napi_create_int32(self.env, v, &mut out) };
        out
    }

    fn ret_f64(&self, v: f64) -> sys::napi_value {
        let mut out = ptr::null_mut();
        // SAFETY: the env of the running callback, a valid out-pointer.
        unsafe { sys::napi_create_double(self.env, v, &mut out) };
        out
    }

    /// A recvmsg's `nbytes + RECVMSG_FLAGS_RADIX * msgFlags`, or `-errno`.
    fn ret_received(&self, result: Result<(usize, i32), Errno>) -> sys::napi_value {
        self.ret_f64(match result {
            Ok((n, flags)) => {
                (n.min(u32::MAX as usize) as f64) + RECVMSG_FLAGS_RADIX * f64::from(flags)
            }
            Err(e) => f64::from(neg(e)),
        })
    }
}

/// # Safety
/// `data` holds `len` bytes that nothing else reads or writes while the slice lives.
unsafe fn slice_mut<'a>(data: *mut u8, len: usize) -> &'a mut [u8] {
    if len == 0 {
        return &mut [];
    }
    // SAFETY: per the contract.
    unsafe { std::slice::from_raw_parts_mut(data, len) }
}

/// # Safety
/// `data` holds `len` bytes that nothing writes while the slice lives.
unsafe fn slice<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: per the contract.
    unsafe { std::slice::from_raw_parts(data, len) }
}

fn borrow(fd: i32) -> Result<BorrowedFd<'static>, Errno> {
    if fd < 0 {
        return Err(Errno::EBADF);
    }
    // SAFETY: ts/socket.ts passes only the fd of a Socket it holds open (its
    // cached number turns -1 on close or detach), and the borrow ends with this call.
    Ok(unsafe { BorrowedFd::borrow_raw(crate::fd::from_js(fd)) })
}

/// `recvIntoFd(fd, buf, nbytes, flags, timeout)`: recv into `buf[..nbytes]`.
unsafe fn recv_into_fd_impl(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: N-API passes this callback's own env and info.
    let Some(a) = (unsafe { Args::<5>::new(env, info) }) else {
        return ptr::null_mut();
    };
    // SAFETY: `buf` is used only within this callback.
    let (Some(fd), Some(buf), Some(n), Some(flags), Some(timeout)) = (
        a.int(0),
        unsafe { a.bytes(1) },
        a.int(2),
        a.int(3),
        a.timeout(4),
    ) else {
        return ptr::null_mut();
    };
    let n = usize::try_from(n).unwrap_or(0).min(buf.len());
    a.ret(borrow(fd).and_then(|fd| io::recv(fd, &mut buf[..n], flags, timeout)))
}

/// `recvAtFd(fd, buf, offset, nbytes, flags)`: recv into `buf[offset..offset + nbytes]`
/// (cut to the buffer's end), so a slab shared by many reads needs no view per read.
unsafe fn recv_at_fd_impl(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: N-API passes this callback's own env and info.
    let Some(a) = (unsafe { Args::<5>::new(env, info) }) else {
        return ptr::null_mut();
    };
    // SAFETY: `buf` is used only within this callback.
    let (Some(fd), Some(buf), Some(offset), Some(n), Some(flags)) = (
        a.int(0),
        unsafe { a.bytes(1) },
        a.int(2),
        a.int(3),
        a.int(4),
    ) else {
        return ptr::null_mut();
    };
    let start = usize::try_from(offset).unwrap_or(0).min(buf.len());
    let end = start + usize::try_from(n).unwrap_or(0).min(buf.len() - start);
    a.ret(borrow(fd).and_then(|fd| io::recv(fd, &mut buf[start..end], flags, None)))
}

/// A receive buffer kept for an fd: `(token, data, len)`.
type Kept = (f64, usize, usize);

thread_local! {
    /// Per fd, the buffer its Socket keeps for receiving (`recvKeepFd`), so the
    /// hot `recvKeptFd` passes no buffer at all. Indexed by fd for speed (a few
    /// ns a call; 24 bytes per fd number up to the highest one used).
    static KEPT: std::cell::RefCell<Vec<Option<Kept>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `recvKeepFd(fd, token, buf, flags)`: recv into all of `buf`, without waiting,
/// and keep `buf` as `fd`'s receive buffer under `token` for `recvKeptFd`.
unsafe fn recv_keep_fd_impl(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: N-API passes this callback's own env and info.
    let Some(a) = (unsafe { Args::<4>::new(env, info) }) else {
        return ptr::null_mut();
    };
    let (Some(fd), Some(token), Some((data, len)), Some(flags)) =
        (a.int(0), a.number(1), a.raw_bytes(a.argv[2]), a.int(3))
    else {
        return ptr::null_mut();
    };
    let Some(slot) = crate::fd::slot(fd) else {
        return a.ret(Err(Errno::EBADF));
    };
    KEPT.with_borrow_mut(|kept| {
        if kept.len() <= slot {
            kept.resize(slot + 1, None);
        }
        kept[slot] = Some((token, data as usize, len));
    });
    // SAFETY: N-API reports `len` bytes at `data`, untouched by JS during the call.
    let buf = unsafe { slice_mut(data, len) };
    a.ret(borrow(fd).and_then(|fd| io::recv(fd, buf, flags, None)))
}

/// `recvKeptFd(fd, token, flags)`: recv into the buffer kept for `fd` under
/// `token`, or `NOT_KEPT` when another token (another Socket) kept the last one.
///
/// ts/socket.ts gives each Socket its own token and calls this only while that
/// Socket holds the buffer it kept and has checked it is not detached (its
/// length is unchanged), in the same synchronous turn: the memory is live.
unsafe fn recv_kept_fd_impl(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: N-API passes this callback's own env and info.
    let Some(a) = (unsafe { Args::<3>::new(env, info) }) else {
        return ptr::null_mut();
    };
    let (Some(fd), Some(token), Some(flags)) = (a.int(0), a.number(1), a.int(2)) else {
        return ptr::null_mut();
    };
    let kept = crate::fd::slot(fd)
        .and_then(|slot| KEPT.with_borrow(|kept| kept.get(slot).copied().flatten()));
    let Some((_, data, len)) = kept.filter(|k| k.0 == token) else {
        return a.ret_raw(NOT_KEPT);
    };
    // SAFETY: see above; the kept buffer is alive and attached for this call.
    let buf = unsafe { slice_mut(data as *mut u8, len) };
    a.ret(borrow(fd).and_then(|fd| io::recv(fd, buf, flags, None)))
}

/// `sendFd(fd, buf, flags, timeout)`: one send, never SIGPIPE.
unsafe fn send_fd_impl(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: N-API passes this callback's own env and info.
    let Some(a) = (unsafe { Args::<4>::new(env, info) }) else {
        return ptr::null_mut();
    };
    // SAFETY: `buf` is used only within this callback.
    let (Some(fd), Some(buf), Some(flags), Some(timeout)) =
        (a.int(0), unsafe { a.bytes(1) }, a.int(2), a.timeout(3))
    else {
        return ptr::null_mut();
    };
    let len = buf.len().min(i32::MAX as usize);
    a.ret(borrow(fd).and_then(|fd| io::send(fd, &buf[..len], flags, timeout)))
}

/// `sendStrFd(fd, str, flags)`: one send of `str` as UTF-8, without a Buffer made of it
/// first: `sent + SEND_STR_RADIX * encodedLength`, or `-errno`. ts/ checked the string is
/// well formed (N-API would turn a lone surrogate into U+FFFD) and at most SEND_STR_MAX long.
unsafe fn send_str_fd_impl(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: N-API passes this callback's own env and info.
    let Some(a) = (unsafe { Args::<3>::new(env, info) }) else {
        return ptr::null_mut();
    };
    let (Some(fd), Some(flags)) = (a.int(0), a.int(2)) else {
        return ptr::null_mut();
    };
    // Not zeroed: a 16 KiB memset would cost more than the send's encoding saves.
    let mut buf = std::mem::MaybeUninit::<[u8; STR_BUF]>::uninit();
    let data = buf.as_mut_ptr().cast::<u8>();
    let mut len = 0;
    // SAFETY: a value of this callback's frame; `data` has room for STR_BUF bytes with the NUL.
    let status =
        unsafe { sys::napi_get_value_string_utf8(env, a.argv[1], data.cast(), STR_BUF, &mut len) };
    if a.checked(status, (), c"expected a string").is_none() {
        return ptr::null_mut();
    }
    // SAFETY: N-API wrote `len` bytes at `data` (len < STR_BUF).
    let bytes = unsafe { std::slice::from_raw_parts(data, len) };
    match borrow(fd).and_then(|fd| io::send(fd, bytes, flags, None)) {
        Ok(sent) => a.ret_f64(sent as f64 + f64::from(SEND_STR_RADIX) * len as f64),
        Err(e) => a.ret(Err(e)),
    }
}

/// `sendallFd(fd, buf, flags, timeout)`: the byte count on success; on error
/// `-(errno + SENDALL_SENT_RADIX * sent)`, so the bytes that went out are not lost.
unsafe fn sendall_fd_impl(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: N-API passes this callback's own env and info.
    let Some(a) = (unsafe { Args::<4>::new(env, info) }) else {
        return ptr::null_mut();
    };
    // SAFETY: `buf` is used only within this callback.
    let (Some(fd), Some(buf), Some(flags), Some(timeout)) =
        (a.int(0), unsafe { a.bytes(1) }, a.int(2), a.timeout(3))
    else {
        return ptr::null_mut();
    };
    let mut sent = 0;
    a.ret_f64(
        match borrow(fd).and_then(|fd| io::sendall(fd, buf, flags, timeout, &mut sent)) {
            Ok(()) => sent as f64,
            Err(e) => f64::from(neg(e)) - f64::from(SENDALL_SENT_RADIX) * sent as f64,
        },
    )
}

/// `sendmsgFd(fd, buffers, rights, flags, timeout)`: the buffers as one message,
/// no address, and with `rights` (a Uint8Array of C ints, or null for none) as one
/// SCM_RIGHTS message: the framing case and fd passing, without the general path.
unsafe fn sendmsg_fd_impl(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: N-API passes this callback's own env and info.
    let Some(a) = (unsafe { Args::<5>::new(env, info) }) else {
        return ptr::null_mut();
    };
    let (Some(fd), Some(bufs), Some(rights), Some(flags), Some(timeout)) = (
        a.int(0),
        a.byte_list(1),
        a.optional_bytes(2),
        a.int(3),
        a.timeout(4),
    ) else {
        return ptr::null_mut();
    };
    // SAFETY: N-API reported each buffer; the call is synchronous, so JS cannot
    // write to them while the kernel reads (the same buffer twice is fine: shared).
    let iov: Vec<IoSlice<'_>> = bufs
        .iter()
        .map(|&(p, n)| IoSlice::new(unsafe { slice(p, n) }))
        .collect();
    // SAFETY: as above.
    let data = rights.map(|(p, n)| unsafe { slice(p, n) });
    #[cfg(unix)]
    let cmsg = data.map(msg::Cmsg::rights);
    // No SCM_RIGHTS there: core's sendmsg fails with EOPNOTSUPP before it looks.
    #[cfg(windows)]
    let cmsg = data.and(None::<msg::Cmsg<'_>>);
    let cmsgs = cmsg.as_slice();
    // Linux caps one call at INT_MAX bytes less a page, so the count fits `ret`'s i32.
    a.ret(borrow(fd).and_then(|fd| msg::sendmsg(fd, &iov, cmsgs, flags, None, timeout)))
}

/// `recvmsgIntoFd(fd, buffers, flags, timeout)`: recvmsg into `buffers` (ts/ checked
/// that none overlap) with no control buffer, for stream sockets (which report no
/// address): `nbytes + RECVMSG_FLAGS_RADIX * msgFlags`, or `-errno`.
unsafe fn recvmsg_into_fd_impl(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: N-API passes this callback's own env and info.
    let Some(a) = (unsafe { Args::<4>::new(env, info) }) else {
        return ptr::null_mut();
    };
    let (Some(fd), Some(bufs), Some(flags), Some(timeout)) =
        (a.int(0), a.byte_list(1), a.int(2), a.timeout(3))
    else {
        return ptr::null_mut();
    };
    // SAFETY: ts/ checked that no two buffers overlap, and the call is synchronous:
    // each slice is the only access to its bytes while it lives.
    let mut iov: Vec<IoSliceMut<'_>> = bufs
        .iter()
        .map(|&(p, n)| IoSliceMut::new(unsafe { slice_mut(p, n) }))
        .collect();
    a.ret_received(
        borrow(fd)
            .and_then(|fd| msg::recvmsg(fd, &mut iov, 0, flags, timeout))
            .map(|r| (r.nbytes, r.flags)),
    )
}

/// `recvFdsFd(fd, buf, fds, flags, timeout)`: core's `msg::recv_fds` into `buf` with
/// room for `fds.length - 1` descriptors, written to `fds[1..]` with their count in
/// `fds[0]`. Returns `nbytes + RECVMSG_FLAGS_RADIX * msgFlags` or `-errno`, as
/// `recvmsgIntoFd`; ts/
/// calls it on stream sockets only, which report no address.
unsafe fn recv_fds_fd_impl(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: N-API passes this callback's own env and info.
    let Some(a) = (unsafe { Args::<5>::new(env, info) }) else {
        return ptr::null_mut();
    };
    // SAFETY: `buf` and `out` are used only within this callback; ts/msg.ts passes
    // a new Buffer and its own Int32Array, which never share memory.
    let (Some(fd), Some(buf), Some(out), Some(flags), Some(timeout)) = (
        a.int(0),
        unsafe { a.bytes(1) },
        unsafe { a.int32s(2) },
        a.int(3),
        a.timeout(4),
    ) else {
        return ptr::null_mut();
    };
    let Some((count, slots)) = out.split_first_mut() else {
        a.type_error::<()>(c"expected room for the count");
        return ptr::null_mut();
    };
    let received = borrow(fd).and_then(|fd| msg::recv_fds(fd, buf, slots.len(), flags, timeout));
    a.ret_received(received.map(|r| {
        // recv_fds returns at most `slots.len()` descriptors: none is dropped here.
        *count = r.fds.len() as i32;
        for (slot, owned) in slots.iter_mut().zip(r.fds) {
            *slot = crate::fd::to_js(owned.into_raw_fd());
        }
        (r.nbytes, r.flags)
    }))
}

/// `reactorSetRef(id, keepAlive)`: uv_ref / uv_unref of a watch, toggled as ops come and go.
unsafe fn reactor_set_ref_impl(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: N-API passes this callback's own env and info.
    let Some(a) = (unsafe { Args::<2>::new(env, info) }) else {
        return ptr::null_mut();
    };
    let (Some(id), Some(keep)) = (a.int(0), a.bool(1)) else {
        return ptr::null_mut();
    };
    crate::reactor::set_ref(id as u32, keep);
    ptr::null_mut()
}

/// `__panicForTest()`: panics, so a test can check that `guarded!` turns a
/// panic into a thrown JS error. Internal and undocumented; harmless, as the
/// panic never leaves the guard.
unsafe fn panic_for_test_impl(_: sys::napi_env, _: sys::napi_callback_info) -> sys::napi_value {
    panic!("bsd-sockets: forced panic (fast call)")
}
