//! Batched datagrams: many sends or receives per call, with sendmmsg(2) /
//! recvmmsg(2) on Linux and a loop of sendmsg(2) / recvmsg(2) elsewhere
//! (forceable with [`BatchPath::Loop`], so tests run both everywhere).
//!
//! Both paths follow the same contract under Python's modes (see [`crate::io`]):
//! the first datagram is waited for as the mode says (block, time out with
//! `ETIMEDOUT`, or `EAGAIN` at once); once one has gone through, the call
//! never waits again and returns the count, so a partial batch is normal.
//! (One exception: sendmmsg(2) on a blocking socket may also wait for room
//! between datagrams, which a UDP socket seldom needs.)
//! An error after the first datagram ends the batch and is not reported
//! (sendmmsg(2) drops it too; recvmmsg(2) leaves it for the next call).
//!
//! Windows has neither path: Winsock has no recvmmsg, and no per-call
//! `MSG_DONTWAIT` for the loop's "never wait after the first", so a batch
//! fails with `EOPNOTSUPP` there after the argument checks (platform cfg
//! outside sys.rs: the paths are this module's whole body).

use std::mem;
#[cfg(unix)]
use std::os::fd::AsRawFd;
#[cfg(unix)]
use std::ptr;
use std::time::Duration;

use rustix::fd::BorrowedFd;
use socket2::{socklen_t, SockAddr, SockAddrStorage};

#[cfg(unix)]
use crate::io::{call, deadline};
use crate::sys;
#[cfg(unix)]
use crate::sys::{cvt, SEND_FLAGS};
use crate::{Address, Errno};

/// Most datagrams one call takes: Linux caps sendmmsg(2)'s `vlen` at
/// `UIO_MAXIOV` (1024) and the scratch arrays stay small.
pub const MAX_BATCH: usize = 1024;

/// How a batch reaches the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchPath {
    /// One recvmmsg(2) / sendmmsg(2) per batch (Linux, Android).
    Mmsg,
    /// One recvmsg(2) / sendmsg(2) per datagram: every Unix.
    Loop,
}

impl BatchPath {
    /// The platform's best: [`BatchPath::Mmsg`] where it exists.
    pub const fn best() -> BatchPath {
        if HAS_MMSG {
            BatchPath::Mmsg
        } else {
            BatchPath::Loop
        }
    }
}

const HAS_MMSG: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// What arrived in one slot of a receive batch. Holds the sender's address
/// in place (no allocation); [`RecvMeta::address`] decodes it when wanted.
pub struct RecvMeta {
    len: usize,
    flags: i32,
    addr: SockAddrStorage,
    addr_len: socklen_t,
}

impl Default for RecvMeta {
    fn default() -> RecvMeta {
        RecvMeta {
            len: 0,
            flags: 0,
            addr: SockAddrStorage::zeroed(),
            addr_len: 0,
        }
    }
}

impl std::fmt::Debug for RecvMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvMeta")
            .field("len", &self.len)
            .field("flags", &self.flags)
            .field("address", &self.address())
            .finish()
    }
}

impl RecvMeta {
    /// Bytes written into the slot's buffer (the datagram's full length when
    /// `MSG_TRUNC` was among the call's flags, on Linux).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the slot received nothing (an empty datagram, or not filled).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The message flags the kernel returned (`MSG_TRUNC` when the datagram
    /// did not fit the buffer).
    pub fn flags(&self) -> i32 {
        self.flags
    }

    /// Whether the datagram was cut to fit the buffer.
    pub fn truncated(&self) -> bool {
        self.flags & sys::MSG_TRUNC != 0
    }

    /// The sender's address; `Address::Other(AF_UNSPEC)` when the kernel gave
    /// none (an unbound AF_UNIX sender), as `recv_from_into` returns.
    pub fn address(&self) -> Address {
        // The slot's storage still holds the previous datagram's sender (slots
        // are reused from call to call): with no address, its family is stale.
        if self.addr_len == 0 {
            return Address::Other(sys::AF_UNSPEC);
        }
        let mut storage = SockAddrStorage::zeroed();
        // SAFETY: both are sockaddr_storage; the kernel wrote `addr_len` bytes
        // of a sockaddr of the family it set (zeroes, family 0, if none).
        unsafe {
            *storage.view_as::<sys::sockaddr_storage>() =
                *(&self.addr as *const SockAddrStorage).cast::<sys::sockaddr_storage>();
            Address::from_sockaddr(&SockAddr::new(storage, self.addr_len))
        }
    }

    /// Whether `other` came from the same address (compared as the kernel
    /// wrote it, without decoding): lets a caller reuse a decoded address.
    pub fn same_sender(&self, other: &RecvMeta) -> bool {
        self.addr_len == other.addr_len && self.addr_bytes() == other.addr_bytes()
    }

    fn addr_bytes(&self) -> &[u8] {
        let len = (self.addr_len as usize).min(mem::size_of::<SockAddrStorage>());
        // SAFETY: `addr` is plain old data of at least `len` bytes, all initialized (zeroed first).
        unsafe { std::slice::from_raw_parts((&self.addr as *const SockAddrStorage).cast(), len) }
    }

    #[cfg(unix)]
    fn name_ptr(&mut self) -> *mut libc::c_void {
        (&mut self.addr as *mut SockAddrStorage).cast()
    }
}

/// Room for any sender's address.
#[cfg(unix)]
const NAME_LEN: libc::socklen_t = mem::size_of::<SockAddrStorage>() as libc::socklen_t;

/// A msghdr over one iovec and an optional address.
#[cfg(unix)]
fn msghdr(
    name: *mut libc::c_void,
    name_len: libc::socklen_t,
    iov: *mut libc::iovec,
) -> libc::msghdr {
    let mut h = sys::zeroed_msghdr();
    h.msg_name = name;
    h.msg_namelen = name_len;
    h.msg_iov = iov;
    h.msg_iovlen = 1;
    h
}

/// Receives up to `bufs.len()` datagrams (at most `meta.len()`), one per
/// buffer; `meta[i]` says what arrived in `bufs[i]`. Returns how many
/// arrived; an empty batch returns 0 without a syscall.
///
/// Corresponds to [`recvmmsg(2)`](https://man7.org/linux/man-pages/man2/recvmmsg.2.html)
/// with `MSG_WAITFORONE` (see the module docs for the modes).
///
/// # Errors
/// `EAGAIN` (non-blocking, nothing there), `ETIMEDOUT` (timed), `EINVAL` for
/// more than [`MAX_BATCH`] buffers, `ECONNREFUSED` (a connected UDP peer's
/// ICMP), `EBADF`, `ENOTSOCK`; `EOPNOTSUPP` on Windows.
pub fn recv_many(
    fd: BorrowedFd<'_>,
    bufs: &mut [&mut [u8]],
    meta: &mut [RecvMeta],
    flags: i32,
    timeout: Option<Duration>,
    path: BatchPath,
) -> Result<usize, Errno> {
    let n = bufs.len().min(meta.len());
    if n == 0 {
        return Ok(0);
    }
    if n > MAX_BATCH {
        return Err(Errno::EINVAL);
    }
    recv_batch(fd, &mut bufs[..n], &mut meta[..n], flags, timeout, path)
}

/// [`recv_many`] past its checks: as many `meta` as `bufs`, 1 to [`MAX_BATCH`].
#[cfg(unix)]
fn recv_batch(
    fd: BorrowedFd<'_>,
    bufs: &mut [&mut [u8]],
    meta: &mut [RecvMeta],
    flags: i32,
    timeout: Option<Duration>,
    path: BatchPath,
) -> Result<usize, Errno> {
    let mut iovs: Vec<libc::iovec> = bufs
        .iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: b.len(),
        })
        .collect();
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if path == BatchPath::Mmsg {
        return mmsg::recv(fd, &mut iovs, meta, flags, timeout);
    }
    // Without mmsg calls (or asked for the loop), every batch takes the loop.
    let _ = path;
    let raw = fd.as_raw_fd();
    let deadline = deadline(timeout);
    let mut got = 0;
    for (iov, m) in iovs.iter_mut().zip(meta) {
        let f = if got == 0 {
            flags
        } else {
            flags | libc::MSG_DONTWAIT
        };
        let mut h = msghdr(m.name_ptr(), NAME_LEN, iov);
        let r = call(raw, libc::POLLIN, timeout, deadline, f, || {
            // SAFETY: `h` points at a live iovec over the caller's buffer and at `m.addr`.
            cvt(unsafe { libc::recvmsg(raw, &mut h, f) })
        });
        match r {
            Ok(len) => {
                m.len = len as usize;
                m.flags = h.msg_flags;
                m.addr_len = h.msg_namelen;
                got += 1;
            }
            Err(e) if got == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(got)
}

/// Sends each buffer as one datagram, returning how many went out. `addrs`
/// is empty (a connected socket), one address for all, or one per buffer;
/// an empty batch returns 0 without a syscall. Never raises SIGPIPE.
///
/// Corresponds to [`sendmmsg(2)`](https://man7.org/linux/man-pages/man2/sendmmsg.2.html).
///
/// # Errors
/// `EAGAIN`, `ETIMEDOUT`, `EMSGSIZE` (the first datagram is too large),
/// `EDESTADDRREQ` (no address, not connected), `EISCONN`, `ECONNREFUSED`,
/// `EINVAL` for more than [`MAX_BATCH`] buffers or an `addrs` of another length;
/// `EOPNOTSUPP` on Windows.
pub fn send_many(
    fd: BorrowedFd<'_>,
    bufs: &[&[u8]],
    addrs: &[SockAddr],
    flags: i32,
    timeout: Option<Duration>,
    path: BatchPath,
) -> Result<usize, Errno> {
    let n = bufs.len();
    if n == 0 {
        return Ok(0);
    }
    if n > MAX_BATCH || !(addrs.len() <= 1 || addrs.len() == n) {
        return Err(Errno::EINVAL);
    }
    send_batch(fd, bufs, addrs, flags, timeout, path)
}

/// [`send_many`] past its checks: 1 to [`MAX_BATCH`] buffers, 0, 1 or as many addresses.
#[cfg(unix)]
fn send_batch(
    fd: BorrowedFd<'_>,
    bufs: &[&[u8]],
    addrs: &[SockAddr],
    flags: i32,
    timeout: Option<Duration>,
    path: BatchPath,
) -> Result<usize, Errno> {
    let mut iovs: Vec<libc::iovec> = bufs
        .iter()
        .map(|b| libc::iovec {
            // sendmsg(2) only reads through it.
            iov_base: b.as_ptr().cast_mut().cast(),
            iov_len: b.len(),
        })
        .collect();
    let hdrs: Vec<libc::msghdr> = iovs
        .iter_mut()
        .enumerate()
        .map(|(i, iov)| {
            let (name, len) = match addrs.get(i).or(addrs.first()) {
                // sendmsg(2) only reads the address.
                Some(a) => (a.as_ptr().cast_mut().cast(), a.len()),
                None => (ptr::null_mut(), 0),
            };
            msghdr(name, len, iov)
        })
        .collect();
    let flags = flags | SEND_FLAGS;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if path == BatchPath::Mmsg {
        return mmsg::send(fd, &hdrs, flags, timeout);
    }
    // Without mmsg calls (or asked for the loop), every batch takes the loop.
    let _ = path;
    let raw = fd.as_raw_fd();
    let deadline = deadline(timeout);
    let mut sent = 0;
    for h in &hdrs {
        let f = if sent == 0 {
            flags
        } else {
            flags | libc::MSG_DONTWAIT
        };
        let r = call(raw, libc::POLLOUT, timeout, deadline, f, || {
            // SAFETY: `h` points at a live iovec over the caller's buffer and a live address.
            cvt(unsafe { libc::sendmsg(raw, h, f) })
        });
        match r {
            Ok(_) => sent += 1,
            Err(e) if sent == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(sent)
}

#[cfg(windows)]
sys::unsupported! {
    /// Windows: no batch path (see the module docs).
    fn recv_batch(BorrowedFd<'_>, &mut [&mut [u8]], &mut [RecvMeta], i32, Option<Duration>, BatchPath)
        -> Result<usize, Errno>;
    /// Windows: no batch path (see the module docs).
    fn send_batch(BorrowedFd<'_>, &[&[u8]], &[SockAddr], i32, Option<Duration>, BatchPath)
        -> Result<usize, Errno>;
}

/// The one-syscall path. Platform cfg outside sys.rs: these calls are this module's reason to be.
#[cfg(any(target_os = "linux", target_os = "android"))]
mod mmsg {
    use super::*;

    pub(super) fn recv(
        fd: BorrowedFd<'_>,
        iovs: &mut [libc::iovec],
        meta: &mut [RecvMeta],
        flags: i32,
        timeout: Option<Duration>,
    ) -> Result<usize, Errno> {
        let mut hdrs: Vec<libc::mmsghdr> = iovs
            .iter_mut()
            .zip(meta.iter_mut())
            .map(|(iov, m)| libc::mmsghdr {
                msg_hdr: msghdr(m.name_ptr(), NAME_LEN, iov),
                msg_len: 0,
            })
            .collect();
        let raw = fd.as_raw_fd();
        let vlen = hdrs.len() as libc::c_uint;
        // MSG_WAITFORONE: wait (as the mode says) for the first datagram only.
        let f = flags | libc::MSG_WAITFORONE;
        let got = call(raw, libc::POLLIN, timeout, deadline(timeout), flags, || {
            // SAFETY: `hdrs` holds `vlen` headers pointing at live iovecs and addresses.
            cvt(unsafe { libc::recvmmsg(raw, hdrs.as_mut_ptr(), vlen, f as _, ptr::null_mut()) })
        })? as usize;
        for (h, m) in hdrs[..got].iter().zip(meta.iter_mut()) {
            m.len = h.msg_len as usize;
            m.flags = h.msg_hdr.msg_flags;
            m.addr_len = h.msg_hdr.msg_namelen;
        }
        Ok(got)
    }

    pub(super) fn send(
        fd: BorrowedFd<'_>,
        hdrs: &[libc::msghdr],
        flags: i32,
        timeout: Option<Duration>,
    ) -> Result<usize, Errno> {
        let mut mhdrs: Vec<libc::mmsghdr> = hdrs
            .iter()
            .map(|h| libc::mmsghdr {
                msg_hdr: *h,
                msg_len: 0,
            })
            .collect();
        let raw = fd.as_raw_fd();
        let vlen = mhdrs.len() as libc::c_uint;
        call(
            raw,
            libc::POLLOUT,
            timeout,
            deadline(timeout),
            flags,
            || {
                // SAFETY: `mhdrs` holds `vlen` headers pointing at live iovecs and addresses.
                cvt(unsafe { libc::sendmmsg(raw, mhdrs.as_mut_ptr(), vlen, flags as _) })
            },
        )
        .map(|n| n as usize)
    }
}
