//! Raw syscalls shared by `bench-server` and `bench-client`: loopback TCP
//! sockets, epoll, poll, CPU time. Thin on purpose: the baseline must cost
//! exactly the syscalls it names and nothing else.
//!
//! The hot calls (`recv`, `send`) return the byte count or `-errno`, the
//! shape our own `try*` API has; setup calls return `io::Result`.

// Each binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// Turns a C `-1` into the thread's `errno` as an `io::Error`.
fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// The thread's current `errno`.
pub fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn loopback(port: u16) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
    let mut sa: libc::sockaddr_in = unsafe { mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = port.to_be();
    sa.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
    sa
}

const SOCKADDR_IN_LEN: libc::socklen_t = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;

/// A new non-blocking, close-on-exec TCP socket.
pub fn tcp_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes no pointers.
    let fd = cvt(unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    })?;
    // SAFETY: `fd` was just returned by socket(2) and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the option value points at a live c_int of the length given.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// TCP_NODELAY on: every message leaves at once.
pub fn set_nodelay(fd: RawFd) -> io::Result<()> {
    setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1)
}

/// SO_LINGER {on, 0}: `close()` sends RST, so no TIME_WAIT piles up in a
/// connect/close loop.
pub fn set_linger_zero(fd: RawFd) -> io::Result<()> {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the option value points at a live `linger` of the length given.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// A non-blocking listener on 127.0.0.1:`port` (0 = any free port), with
/// SO_REUSEADDR; returns it with the port actually bound.
pub fn listen_loopback(port: u16, backlog: i32) -> io::Result<(OwnedFd, u16)> {
    let fd = tcp_socket()?;
    setsockopt_int(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    let port = bind_loopback(&fd, port)?;
    // SAFETY: listen(2) takes no pointers.
    cvt(unsafe { libc::listen(fd.as_raw_fd(), backlog) })?;
    Ok((fd, port))
}

/// Binds `fd` to 127.0.0.1:`port` (0 = any free port); returns the port bound.
fn bind_loopback(fd: &OwnedFd, port: u16) -> io::Result<u16> {
    let sa = loopback(port);
    // SAFETY: `sa` is a valid sockaddr_in of the length given.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_in).cast(),
            SOCKADDR_IN_LEN,
        )
    })?;
    // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
    let mut bound: libc::sockaddr_in = unsafe { mem::zeroed() };
    let mut len = SOCKADDR_IN_LEN;
    // SAFETY: `bound` and `len` are live and describe a buffer of `len` bytes.
    cvt(unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut bound as *mut libc::sockaddr_in).cast(),
            &mut len,
        )
    })?;
    Ok(u16::from_be(bound.sin_port))
}

/// accept4(2) a non-blocking, close-on-exec connection: the fd, or `-errno`.
pub fn accept(listener: RawFd) -> Result<OwnedFd, i32> {
    // SAFETY: null address pointers are allowed: the peer address is not wanted.
    let fd = unsafe {
        libc::accept4(
            listener,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )
    };
    if fd < 0 {
        Err(errno())
    } else {
        // SAFETY: `fd` was just returned by accept4(2) and is owned by no one else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// Starts a non-blocking connect to 127.0.0.1:`port`: `Ok(true)` when already
/// connected, `Ok(false)` when in progress (wait for POLLOUT, then
/// [`take_error`]).
pub fn connect_start(fd: RawFd, port: u16) -> io::Result<bool> {
    let sa = loopback(port);
    // SAFETY: `sa` is a valid sockaddr_in of the length given.
    match cvt(unsafe {
        libc::connect(
            fd,
            (&sa as *const libc::sockaddr_in).cast(),
            SOCKADDR_IN_LEN,
        )
    }) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(false),
        Err(e) => Err(e),
    }
}

/// SO_ERROR: the outcome of a non-blocking connect.
pub fn take_error(fd: RawFd) -> io::Result<()> {
    let mut err: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `err` and `len` are live and describe a buffer of `len` bytes.
    cvt(unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut err as *mut libc::c_int).cast(),
            &mut len,
        )
    })?;
    if err == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(err))
    }
}

/// Connects to 127.0.0.1:`port` and waits (poll) until connected or `deadline`.
/// The socket stays non-blocking, with TCP_NODELAY.
pub fn connect_loopback(port: u16, deadline: Instant) -> io::Result<OwnedFd> {
    let fd = tcp_socket()?;
    set_nodelay(fd.as_raw_fd())?;
    if !connect_start(fd.as_raw_fd(), port)? {
        if !wait_fd(fd.as_raw_fd(), libc::POLLOUT, deadline)? {
            return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT));
        }
        take_error(fd.as_raw_fd())?;
    }
    Ok(fd)
}

/// One recv(2): the byte count (0 = end of stream) or `-errno`.
#[inline]
pub fn recv(fd: RawFd, buf: &mut [u8]) -> isize {
    // SAFETY: `buf` is a live, writable buffer of `buf.len()` bytes.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        -(errno() as isize)
    } else {
        n
    }
}

/// One send(2) without SIGPIPE: the byte count or `-errno`.
#[inline]
pub fn send(fd: RawFd, buf: &[u8]) -> isize {
    // SAFETY: `buf` is a live buffer of `buf.len()` bytes.
    let n = unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
    if n < 0 {
        -(errno() as isize)
    } else {
        n
    }
}

/// One read(2) (for non-sockets such as a stdin pipe): the byte count or `-errno`.
pub fn read(fd: RawFd, buf: &mut [u8]) -> isize {
    // SAFETY: `buf` is a live, writable buffer of `buf.len()` bytes.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        -(errno() as isize)
    } else {
        n
    }
}

/// shutdown(SHUT_WR): the peer reads end of stream.
pub fn shutdown_write(fd: RawFd) -> io::Result<()> {
    // SAFETY: shutdown(2) takes no pointers.
    cvt(unsafe { libc::shutdown(fd, libc::SHUT_WR) }).map(drop)
}

/// Polls one fd for `events` until `deadline`: `Ok(false)` on timeout.
pub fn wait_fd(fd: RawFd, events: libc::c_short, deadline: Instant) -> io::Result<bool> {
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        let ms = millis_until(deadline);
        // SAFETY: `pfd` is one live pollfd.
        match cvt(unsafe { libc::poll(&mut pfd, 1, ms) }) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
            Ok(0) if Instant::now() < deadline => continue,
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
        }
    }
}

/// Milliseconds from now until `deadline`, rounded up, for a poll timeout.
pub fn millis_until(deadline: Instant) -> libc::c_int {
    let left = deadline.saturating_duration_since(Instant::now());
    left.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int
}

/// An epoll instance; events carry a caller-chosen `u64` token.
pub struct Epoll {
    fd: OwnedFd,
}

impl Epoll {
    pub fn new() -> io::Result<Self> {
        // SAFETY: epoll_create1(2) takes no pointers.
        let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `fd` was just returned by epoll_create1(2) and is owned by no one else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self { fd })
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: `ev` is a live epoll_event.
        cvt(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut ev) }).map(drop)
    }

    pub fn add(&self, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, events, token)
    }

    pub fn modify(&self, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, events, token)
    }

    /// One epoll_wait: the number of events written to `events`; EINTR is 0.
    pub fn wait(
        &self,
        events: &mut [libc::epoll_event],
        timeout_ms: libc::c_int,
    ) -> io::Result<usize> {
        let max = events.len().min(i32::MAX as usize) as libc::c_int;
        // SAFETY: `events` is a live, writable array of at least `max` entries.
        match cvt(unsafe {
            libc::epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), max, timeout_ms)
        }) {
            Ok(n) => Ok(n as usize),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }
}

/// A zeroed event array for [`Epoll::wait`].
pub fn event_buffer(len: usize) -> Vec<libc::epoll_event> {
    vec![libc::epoll_event { events: 0, u64: 0 }; len]
}

/// Whether stdin is a pipe or a socket (a parent holding the other end).
pub fn stdin_is_pipe() -> bool {
    // SAFETY: `struct stat` is plain old data; all-zero is a valid value.
    let mut st: libc::stat = unsafe { mem::zeroed() };
    // SAFETY: `st` is a live, writable `struct stat`.
    if unsafe { libc::fstat(0, &mut st) } != 0 {
        return false;
    }
    let kind = st.st_mode & libc::S_IFMT;
    kind == libc::S_IFIFO || kind == libc::S_IFSOCK
}

/// Raises the soft RLIMIT_NOFILE to the hard limit (thousands of connections).
pub fn raise_nofile_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a live rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 && lim.rlim_cur < lim.rlim_max
    {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a live rlimit. Failure leaves the old limit: harmless.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
}

fn timeval_secs(tv: libc::timeval) -> f64 {
    tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6
}

/// This process's CPU time so far (user + system), in seconds.
pub fn own_cpu_seconds() -> f64 {
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut ru: libc::rusage = unsafe { mem::zeroed() };
    // SAFETY: `ru` is a live rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    timeval_secs(ru.ru_utime) + timeval_secs(ru.ru_stime)
}

/// Another process's CPU time so far (user + system, all its threads), in
/// seconds, from /proc/PID/stat; `None` if it cannot be read.
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_ascii_whitespace();
    // utime and stime are fields 14 and 15 of the whole line; `rest` starts at field 3.
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    // SAFETY: sysconf(3) takes no pointers.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then(|| (utime + stime) / ticks as f64)
}

/// Seconds as a `Duration`, rejecting negative or non-finite values.
pub fn secs(value: f64) -> Option<Duration> {
    (value.is_finite() && value >= 0.0).then(|| Duration::from_secs_f64(value))
}

/// A new blocking-or-not, close-on-exec UDP socket bound to 127.0.0.1:`port`
/// (0 = any free port); returns it with the port bound.
pub fn udp_bind_loopback(port: u16, nonblocking: bool) -> io::Result<(OwnedFd, u16)> {
    let nb = if nonblocking { libc::SOCK_NONBLOCK } else { 0 };
    // SAFETY: socket(2) takes no pointers.
    let fd =
        cvt(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | nb, 0) })?;
    // SAFETY: `fd` was just returned by socket(2) and is owned by no one else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let port = bind_loopback(&fd, port)?;
    Ok((fd, port))
}

/// SO_RCVBUF/SO_SNDBUF of every socket in the UDP workload (benchmark/README.md):
/// room for the whole window, so no datagram is dropped for want of buffer.
pub const UDP_BUFFER: libc::c_int = 1 << 20;

/// Sets SO_RCVBUF and SO_SNDBUF to [`UDP_BUFFER`] (the kernel caps them at rmem_max/wmem_max).
pub fn set_udp_buffers(fd: RawFd) -> io::Result<()> {
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, UDP_BUFFER)?;
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, UDP_BUFFER)
}

/// connect(2) a UDP socket to 127.0.0.1:`port`: sends need no address and
/// only that peer's datagrams arrive.
pub fn udp_connect_loopback(fd: RawFd, port: u16) -> io::Result<()> {
    let sa = loopback(port);
    // SAFETY: `sa` is a valid sockaddr_in of the length given.
    cvt(unsafe {
        libc::connect(
            fd,
            (&sa as *const libc::sockaddr_in).cast(),
            SOCKADDR_IN_LEN,
        )
    })
    .map(drop)
}

/// Preallocated recvmmsg(2)/sendmmsg(2) headers over `n` buffers of `size`
/// bytes, each with room for a sender's address: a received batch can be
/// sent straight back to its senders (the addresses stay in place).
pub struct Batch {
    bufs: Vec<u8>,
    size: usize,
    iovs: Vec<libc::iovec>,
    names: Vec<libc::sockaddr_storage>,
    hdrs: Vec<libc::mmsghdr>,
    named: bool,
}

impl Batch {
    pub fn new(n: usize, size: usize) -> Batch {
        // Headers point into the Vecs' heap buffers (never resized): moving a Batch moves none.
        let mut b = Batch {
            bufs: vec![0u8; n * size],
            size,
            // SAFETY: iovec, sockaddr_storage and mmsghdr are plain old data; all-zero is valid.
            iovs: vec![unsafe { mem::zeroed() }; n],
            // SAFETY: as above.
            names: vec![unsafe { mem::zeroed() }; n],
            // SAFETY: as above.
            hdrs: (0..n).map(|_| unsafe { mem::zeroed() }).collect(),
            named: true,
        };
        for i in 0..n {
            let base = b.bufs[i * size..].as_mut_ptr();
            b.iovs[i] = libc::iovec {
                iov_base: base.cast(),
                iov_len: size,
            };
            let iov: *mut libc::iovec = &mut b.iovs[i];
            let name: *mut libc::sockaddr_storage = &mut b.names[i];
            let h = &mut b.hdrs[i].msg_hdr;
            h.msg_iov = iov;
            h.msg_iovlen = 1;
            h.msg_name = name.cast();
        }
        b
    }

    /// Drops the address from every header: sends on a connected socket.
    pub fn unnamed(&mut self) {
        self.named = false;
        for h in &mut self.hdrs {
            h.msg_hdr.msg_name = std::ptr::null_mut();
            h.msg_hdr.msg_namelen = 0;
        }
    }

    /// Buffer `i`, to fill before a send.
    pub fn buf(&mut self, i: usize) -> &mut [u8] {
        &mut self.bufs[i * self.size..(i + 1) * self.size]
    }

    /// recvmmsg(2) of up to `n` datagrams with `flags`: the count or `-errno`.
    pub fn recv(&mut self, fd: RawFd, n: usize, flags: libc::c_int) -> isize {
        let n = n.min(self.hdrs.len());
        // Full buffers and address room again (the last receive shrank them).
        for i in 0..n {
            self.iovs[i].iov_len = self.size;
            if self.named {
                self.hdrs[i].msg_hdr.msg_namelen =
                    mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            }
        }
        let n = n as libc::c_uint;
        // SAFETY: `hdrs` holds at least `n` headers over live buffers and address slots.
        let r =
            unsafe { libc::recvmmsg(fd, self.hdrs.as_mut_ptr(), n, flags, std::ptr::null_mut()) };
        if r < 0 {
            -(errno() as isize)
        } else {
            // Each reply is as long as what came in.
            for i in 0..r as usize {
                self.iovs[i].iov_len = self.hdrs[i].msg_len as usize;
            }
            r as isize
        }
    }

    /// sendmmsg(2) of the first `n` buffers (as long as the last receive
    /// left them, or as [`Batch::set_len`] set them): the count or `-errno`.
    pub fn send(&mut self, fd: RawFd, n: usize) -> isize {
        let n = n.min(self.hdrs.len()) as libc::c_uint;
        // SAFETY: `hdrs` holds at least `n` headers over live buffers and addresses.
        let r = unsafe { libc::sendmmsg(fd, self.hdrs.as_mut_ptr(), n, libc::MSG_NOSIGNAL) };
        if r < 0 {
            -(errno() as isize)
        } else {
            r as isize
        }
    }

    /// Sets the send length of every buffer.
    pub fn set_len(&mut self, len: usize) {
        for iov in &mut self.iovs {
            iov.iov_len = len.min(self.size);
        }
    }
}
