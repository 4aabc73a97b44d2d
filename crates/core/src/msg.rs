//! sendmsg(2) / recvmsg(2): vectored I/O and ancillary data (SCM_RIGHTS fds,
//! any `(level, type, data)` control message), under the modes of [`crate::io`].
//!
//! Neither socket2 (its `MsgHdrMut` does not report the sender's address
//! length) nor rustix (no raw `(level, type, bytes)` messages) covers this, so
//! the `msghdr` is filled here with libc's `CMSG_*` functions.
//!
//! Windows has no descriptor passing and no recvmsg(2) with arbitrary control
//! messages (Python has no `sendmsg`/`recvmsg` there): the types are the same,
//! and each call fails with `EOPNOTSUPP` (platform cfg outside sys.rs: the
//! calls are this module's whole body).

use std::io::{IoSlice, IoSliceMut};
use std::time::Duration;
#[cfg(unix)]
use std::{mem, os::fd::FromRawFd, ptr};

#[cfg(unix)]
use rustix::fd::{AsRawFd, RawFd};
use rustix::fd::{BorrowedFd, OwnedFd};
#[cfg(unix)]
use socket2::{SockAddr, SockAddrStorage};

#[cfg(unix)]
use crate::io::{call, deadline};
use crate::sys;
#[cfg(unix)]
use crate::sys::{cvt, SEND_FLAGS};
use crate::{Address, Errno};

// Defined in sys, which fills it, so that sys needs nothing above it.
pub use crate::sys::PeerCredentials;

/// One control message to send: `(level, type, data)`, Python's ancdata item.
/// SCM_RIGHTS data is an array of native-endian C ints (the fds).
#[derive(Clone, Copy, Debug)]
pub struct Cmsg<'a> {
    /// `cmsg_level` (`SOL_SOCKET`, ...).
    pub level: i32,
    /// `cmsg_type` (`SCM_RIGHTS`, ...).
    pub kind: i32,
    /// The payload, copied after the header.
    pub data: &'a [u8],
}

#[cfg(unix)]
impl<'a> Cmsg<'a> {
    /// A `SOL_SOCKET`/`SCM_RIGHTS` message passing descriptors: `data` holds them as
    /// native-endian C ints, as [`rights_data`] lays them out.
    pub fn rights(data: &'a [u8]) -> Cmsg<'a> {
        Cmsg {
            level: libc::SOL_SOCKET,
            kind: libc::SCM_RIGHTS,
            data,
        }
    }
}

/// The payload of an SCM_RIGHTS message carrying `fds`: each as a native-endian C int.
#[cfg(unix)]
pub fn rights_data(fds: impl IntoIterator<Item = RawFd>) -> Vec<u8> {
    fds.into_iter().flat_map(RawFd::to_ne_bytes).collect()
}

/// One control message received.
#[derive(Debug)]
pub enum Ancillary {
    /// `SOL_SOCKET`/`SCM_RIGHTS`: descriptors now open in this process, CLOEXEC,
    /// owned so that dropping them closes them. Unix only: Windows has no SCM_RIGHTS.
    #[cfg(unix)]
    Fds(Vec<OwnedFd>),
    /// Any other message, its payload as the kernel wrote it (cut short if the
    /// buffer was too small: then [`Received::flags`] has `MSG_CTRUNC`).
    Data {
        /// `cmsg_level`.
        level: i32,
        /// `cmsg_type`.
        kind: i32,
        /// The payload.
        data: Vec<u8>,
    },
}

/// What [`recvmsg`] returns.
#[derive(Debug)]
pub struct Received {
    /// Bytes scattered into the buffers; 0 at end of stream.
    pub nbytes: usize,
    /// The control messages, in the order the kernel wrote them.
    pub ancillary: Vec<Ancillary>,
    /// `msg_flags`: `MSG_TRUNC` (datagram longer than the buffers),
    /// `MSG_CTRUNC` (control data cut: descriptors that did not fit were closed by the kernel), `MSG_EOR`.
    /// Never `MSG_CMSG_CLOEXEC`: every call asks for it and Linux echoes it back, so it says
    /// nothing. What is left is in `0..FLAGS_LIMIT`.
    pub flags: i32,
    /// The sender, when the kernel gave one (unconnected datagram sockets).
    pub address: Option<Address>,
}

/// [`Received::flags`] and [`ReceivedFds::flags`] are below this, 2^21, on every
/// platform: the flags recvmsg(2) reports are small bits, and `MSG_CMSG_CLOEXEC` (2^30 on
/// Linux) is taken out. So a count below 2^32 and the flags pack into one exact double
/// (`nbytes + 2^32 * flags` < 2^53), as the Node binding's fast calls return them.
pub const FLAGS_LIMIT: i32 = 1 << 21;

/// `CMSG_LEN(len)`: a header plus `len` bytes, no trailing padding; `None` when it
/// overflows, and always on Windows (no control messages to size).
#[cfg(unix)]
pub fn cmsg_len(len: usize) -> Option<usize> {
    let len = libc::c_uint::try_from(len).ok()?;
    // SAFETY: CMSG_LEN is arithmetic on its argument only.
    let n = unsafe { libc::CMSG_LEN(len) };
    (n >= len).then_some(n as usize)
}

/// `CMSG_SPACE(len)`: a header plus `len` bytes, padded for the next message; `None` when
/// it overflows, and always on Windows (no control messages to size).
#[cfg(unix)]
pub fn cmsg_space(len: usize) -> Option<usize> {
    let len = libc::c_uint::try_from(len).ok()?;
    // SAFETY: CMSG_SPACE is arithmetic on its argument only.
    let n = unsafe { libc::CMSG_SPACE(len) };
    (n >= len).then_some(n as usize)
}

/// A zeroed control buffer of `len` bytes, aligned for `cmsghdr` as the CMSG_* functions require.
#[cfg(unix)]
struct Control {
    buf: Vec<libc::cmsghdr>,
    len: usize,
}

#[cfg(unix)]
impl Control {
    fn new(len: usize) -> Control {
        let n = len.div_ceil(mem::size_of::<libc::cmsghdr>());
        // SAFETY: cmsghdr is plain old data; all-zero is a valid value.
        let zero: libc::cmsghdr = unsafe { mem::zeroed() };
        Control {
            buf: vec![zero; n],
            len,
        }
    }

    /// Points `msg` at the buffer (null when empty, as the kernel expects).
    fn attach(&mut self, msg: &mut libc::msghdr) {
        if self.len > 0 {
            msg.msg_control = self.buf.as_mut_ptr().cast();
            msg.msg_controllen = self.len as _;
        }
    }
}

/// Sends the bytes of `bufs` in order as one message, with control messages
/// `cmsgs`, to `addr` when given (unconnected datagram sockets). Never raises SIGPIPE.
///
/// Corresponds to [`sendmsg(2)`](https://man7.org/linux/man-pages/man2/sendmsg.2.html).
///
/// # Errors
/// `EAGAIN`, `ETIMEDOUT`, `EPIPE`, `ENOTCONN`, `EDESTADDRREQ` (no peer, no address),
/// `EISCONN`, `EMSGSIZE` (datagram too long, too many buffers), `EBADF` (an
/// SCM_RIGHTS entry that is not an open fd), `EINVAL` (malformed control message),
/// `ETOOMANYREFS`, `ENOBUFS`; `EOPNOTSUPP` on Windows.
#[cfg(unix)]
pub fn sendmsg(
    fd: BorrowedFd<'_>,
    bufs: &[IoSlice<'_>],
    cmsgs: &[Cmsg<'_>],
    flags: i32,
    addr: Option<&Address>,
    timeout: Option<Duration>,
) -> Result<usize, Errno> {
    let sa = addr.map(Address::to_sockaddr).transpose()?;
    let mut msg = sys::zeroed_msghdr();
    if let Some(sa) = &sa {
        msg.msg_name = sa.as_ptr() as *mut libc::c_void;
        msg.msg_namelen = sa.len();
    }
    // IoSlice is ABI-compatible with iovec on Unix; the kernel only reads through it.
    msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = bufs.len() as _;
    let space = cmsgs.iter().try_fold(0usize, |sum, c| {
        cmsg_space(c.data.len()).and_then(|n| sum.checked_add(n))
    });
    let mut control = Control::new(space.ok_or(Errno::EINVAL)?);
    control.attach(&mut msg);
    // SAFETY: `msg` points at `control`, which is sized CMSG_SPACE for every message.
    let mut cur = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    for c in cmsgs {
        if cur.is_null() {
            return Err(Errno::EINVAL);
        }
        // SAFETY: `cur` is a header inside `control` with CMSG_SPACE(data.len()) bytes
        // from it on (sized above); the data copy stays within that space.
        unsafe {
            (*cur).cmsg_level = c.level;
            (*cur).cmsg_type = c.kind;
            (*cur).cmsg_len = libc::CMSG_LEN(c.data.len() as libc::c_uint) as _;
            ptr::copy_nonoverlapping(c.data.as_ptr(), libc::CMSG_DATA(cur), c.data.len());
            cur = libc::CMSG_NXTHDR(&msg, cur);
        }
    }
    let raw = fd.as_raw_fd();
    call(
        raw,
        libc::POLLOUT,
        timeout,
        deadline(timeout),
        flags,
        || {
            // SAFETY: every pointer in `msg` (name, iovecs, control) is live for the call.
            cvt(unsafe { libc::sendmsg(raw, &msg, flags | SEND_FLAGS) }).map(|n| n as usize)
        },
    )
}

/// Sends `bufs` with the descriptors `fds` as one SCM_RIGHTS message (Python's `send_fds`).
///
/// # Errors
/// As [`sendmsg`].
#[cfg(unix)]
pub fn send_fds(
    fd: BorrowedFd<'_>,
    bufs: &[IoSlice<'_>],
    fds: &[BorrowedFd<'_>],
    flags: i32,
    timeout: Option<Duration>,
) -> Result<usize, Errno> {
    let data = rights_data(fds.iter().map(AsRawFd::as_raw_fd));
    sendmsg(fd, bufs, &[Cmsg::rights(&data)], flags, None, timeout)
}

/// Receives one message, scattered over `bufs` in order, with up to
/// `ancbufsize` bytes of control data. Received descriptors are CLOEXEC and
/// owned by the result.
///
/// Corresponds to [`recvmsg(2)`](https://man7.org/linux/man-pages/man2/recvmsg.2.html).
///
/// # Errors
/// `EAGAIN` (non-blocking), `ETIMEDOUT` (timed), `ENOTCONN`, `ECONNRESET`, `EMSGSIZE`
/// (too many buffers), `EBADF`; `EOPNOTSUPP` on Windows.
#[cfg(unix)]
pub fn recvmsg(
    fd: BorrowedFd<'_>,
    bufs: &mut [IoSliceMut<'_>],
    ancbufsize: usize,
    flags: i32,
    timeout: Option<Duration>,
) -> Result<Received, Errno> {
    let raw = fd.as_raw_fd();
    let mut control = Control::new(ancbufsize);
    call(raw, libc::POLLIN, timeout, deadline(timeout), flags, || {
        let mut storage = SockAddrStorage::zeroed();
        let mut msg = sys::zeroed_msghdr();
        msg.msg_name = (&mut storage as *mut SockAddrStorage).cast();
        msg.msg_namelen = storage.size_of();
        // IoSliceMut is ABI-compatible with iovec on Unix.
        msg.msg_iov = bufs.as_mut_ptr().cast();
        msg.msg_iovlen = bufs.len() as _;
        control.attach(&mut msg);
        // SAFETY: every pointer in `msg` is live and writable for its length.
        let n = cvt(unsafe { libc::recvmsg(raw, &mut msg, flags | sys::RECV_CMSG_FLAGS) })?;
        // Take ownership of the fds first, so nothing below can leak them.
        // SAFETY: the kernel wrote `msg_controllen` bytes of messages into `control`.
        let ancillary = unsafe { parse_control(&msg) };
        let address = (msg.msg_namelen > 0).then(|| {
            // SAFETY: the kernel initialized `msg_namelen` bytes of `storage`.
            Address::from_sockaddr(&unsafe { SockAddr::new(storage, msg.msg_namelen) })
        });
        Ok(Received {
            nbytes: n as usize,
            ancillary: ancillary?,
            flags: msg.msg_flags & !sys::RECV_CMSG_FLAGS,
            address,
        })
    })
}

/// What [`recv_fds`] returns: Python's `recv_fds` result.
#[derive(Debug)]
pub struct ReceivedFds {
    /// Bytes received into the buffer; 0 at end of stream.
    pub nbytes: usize,
    /// The descriptors received, CLOEXEC and owned: at most the `maxfds` asked for.
    pub fds: Vec<OwnedFd>,
    /// As [`Received::flags`]: `MSG_CTRUNC` says more descriptors came than fit (closed).
    pub flags: i32,
    /// The sender, when the kernel gave one (unconnected datagram sockets).
    pub address: Option<Address>,
}

/// Receives into `buf` with room for `maxfds` descriptors: Python's `socket.recv_fds`.
/// Other control messages are dropped, as Python drops them. Descriptors that do not
/// fit are closed, never left open: the kernel does so for those past the control
/// buffer (and sets `MSG_CTRUNC`), and any a platform installed beyond `maxfds` anyway
/// are closed here.
///
/// # Errors
/// As [`recvmsg`]; `EINVAL` when room for `maxfds` descriptors overflows.
#[cfg(unix)]
pub fn recv_fds(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    maxfds: usize,
    flags: i32,
    timeout: Option<Duration>,
) -> Result<ReceivedFds, Errno> {
    // CMSG_LEN, as Python sizes it: CMSG_SPACE's padding could hold one more int.
    let ancbufsize = maxfds
        .checked_mul(mem::size_of::<RawFd>())
        .and_then(cmsg_len)
        .ok_or(Errno::EINVAL)?;
    let r = recvmsg(fd, &mut [IoSliceMut::new(buf)], ancbufsize, flags, timeout)?;
    let mut fds: Vec<OwnedFd> = r
        .ancillary
        .into_iter()
        .filter_map(|a| match a {
            Ancillary::Fds(fds) => Some(fds),
            Ancillary::Data { .. } => None,
        })
        .flatten()
        .collect();
    fds.truncate(maxfds);
    Ok(ReceivedFds {
        nbytes: r.nbytes,
        fds,
        flags: r.flags,
        address: r.address,
    })
}

/// Decodes the control messages `msg` holds, owning every SCM_RIGHTS fd.
///
/// # Safety
/// `msg.msg_control` must hold `msg.msg_controllen` bytes written by recvmsg(2).
// The length fields are size_t on glibc, socklen_t (u32) on musl and the BSDs: the casts are not no-ops everywhere.
#[allow(clippy::unnecessary_cast)]
#[cfg(unix)]
unsafe fn parse_control(msg: &libc::msghdr) -> Result<Vec<Ancillary>, Errno> {
    let mut out = Vec::new();
    if msg.msg_control.is_null() {
        return Ok(out);
    }
    let start = msg.msg_control as usize;
    let end = start + msg.msg_controllen as usize;
    let header = cmsg_len(0).unwrap_or(usize::MAX);
    let mut pending_error = None;
    // SAFETY: the caller guarantees `msg` describes a filled control buffer.
    let mut cur = unsafe { libc::CMSG_FIRSTHDR(msg) };
    while !cur.is_null() {
        // SAFETY: CMSG_FIRSTHDR/CMSG_NXTHDR only return headers inside the buffer.
        let (level, kind, len) = unsafe { ((*cur).cmsg_level, (*cur).cmsg_type, (*cur).cmsg_len) };
        // SAFETY: as above; CMSG_DATA points just past the header.
        let data = unsafe { libc::CMSG_DATA(cur) } as usize;
        // A message cut short by MSG_CTRUNC may claim more than the buffer holds.
        let data_len = (len as usize)
            .saturating_sub(header)
            .min(end.saturating_sub(data));
        // SAFETY: `data..data + data_len` lies within the control buffer (clamped to `end`).
        let bytes = unsafe { std::slice::from_raw_parts(data as *const u8, data_len) };
        if level == libc::SOL_SOCKET && kind == libc::SCM_RIGHTS {
            let fds: Vec<OwnedFd> = bytes
                .chunks_exact(mem::size_of::<RawFd>())
                .map(|c| {
                    let fd = RawFd::from_ne_bytes(c.try_into().expect("chunk of an int's size"));
                    // SAFETY: the kernel just installed `fd` in our table for us alone.
                    unsafe { OwnedFd::from_raw_fd(fd) }
                })
                .collect();
            if let Err(e) = sys::set_received_cloexec(&fds) {
                pending_error.get_or_insert(e);
            }
            out.push(Ancillary::Fds(fds));
        } else {
            out.push(Ancillary::Data {
                level,
                kind,
                data: bytes.to_vec(),
            });
        }
        // SAFETY: `cur` is a valid header of `msg`'s buffer.
        cur = unsafe { libc::CMSG_NXTHDR(msg, cur) };
    }
    // Every message was read (and every fd owned) before giving up: dropping `out` closes them.
    match pending_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

// The Windows side of each call: always `EOPNOTSUPP` (see the module docs).
#[cfg(windows)]
sys::unsupported! {
    /// [`sendmsg`]: no sendmsg with control messages on Windows.
    pub fn sendmsg(BorrowedFd<'_>, &[IoSlice<'_>], &[Cmsg<'_>], i32, Option<&Address>, Option<Duration>)
        -> Result<usize, Errno>;
    /// [`send_fds`]: no descriptor passing on Windows.
    pub fn send_fds(BorrowedFd<'_>, &[IoSlice<'_>], &[BorrowedFd<'_>], i32, Option<Duration>)
        -> Result<usize, Errno>;
    /// [`recvmsg`]: no recvmsg with control messages on Windows.
    pub fn recvmsg(BorrowedFd<'_>, &mut [IoSliceMut<'_>], usize, i32, Option<Duration>)
        -> Result<Received, Errno>;
    /// [`recv_fds`]: no descriptor passing on Windows.
    pub fn recv_fds(BorrowedFd<'_>, &mut [u8], usize, i32, Option<Duration>)
        -> Result<ReceivedFds, Errno>;
}

/// [`cmsg_len`]: nothing to size on Windows.
#[cfg(windows)]
pub fn cmsg_len(_: usize) -> Option<usize> {
    None
}

/// [`cmsg_space`]: nothing to size on Windows.
#[cfg(windows)]
pub fn cmsg_space(_: usize) -> Option<usize> {
    None
}
