//! `Socket`: an owned socket fd with Python's blocking / timeout / non-blocking modes.

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Type};

use crate::batch::{self, BatchPath, RecvMeta};
use crate::io;
use crate::msg::{self, Cmsg, PeerCredentials, Received};
use crate::sys::{self, wait_fd};
use crate::{Address, Errno, TcpInfo};

/// An owned socket. Dropping it closes the fd, exactly once.
///
/// Like a Python socket it is in one of three modes, set by [`Socket::set_timeout`]:
/// blocking (`None`), non-blocking (`Some(ZERO)`: calls fail with `EAGAIN`),
/// or timed (`Some(d)`: the fd is non-blocking and each call waits with poll(2)
/// until a deadline, then fails with `ETIMEDOUT`). EINTR is retried (PEP 475).
#[derive(Debug)]
pub struct Socket {
    inner: socket2::Socket,
    timeout: Option<Duration>,
    family: i32,
    socktype: i32,
    protocol: i32,
}

impl Socket {
    /// Creates a socket, CLOEXEC, blocking (non-blocking if `socktype` has `SOCK_NONBLOCK`).
    ///
    /// Corresponds to [`socket(2)`](https://man7.org/linux/man-pages/man2/socket.2.html).
    ///
    /// # Errors
    /// `EAFNOSUPPORT`, `EPROTONOSUPPORT`, `EINVAL` for an unknown type, `EMFILE`.
    pub fn new(family: i32, socktype: i32, protocol: i32) -> Result<Socket, Errno> {
        let inner =
            socket2::Socket::new(Domain::from(family), Type::from(socktype), proto(protocol))?;
        Socket::wrap(inner, sys::initial_timeout(socktype))
    }

    /// Creates a connected pair, both CLOEXEC, in the mode [`Socket::new`] would give.
    ///
    /// Corresponds to [`socketpair(2)`](https://man7.org/linux/man-pages/man2/socketpair.2.html).
    ///
    /// # Errors
    /// `EAFNOSUPPORT` outside `AF_UNIX`, `EOPNOTSUPP`, `EMFILE`.
    #[cfg(unix)]
    pub fn pair(family: i32, socktype: i32, protocol: i32) -> Result<(Socket, Socket), Errno> {
        let (a, b) =
            socket2::Socket::pair(Domain::from(family), Type::from(socktype), proto(protocol))?;
        let timeout = sys::initial_timeout(socktype);
        Ok((Socket::wrap(a, timeout)?, Socket::wrap(b, timeout)?))
    }

    /// Creates a connected pair, both blocking: on Windows, which has no
    /// socketpair(2), a TCP connection over loopback, made as Python's
    /// `socket.socketpair` makes it there (Lib/socket.py): listen on an ephemeral
    /// port, connect, accept, and check that the accepted peer is our own socket.
    /// Platform cfg outside sys: it is built of this type's own calls.
    ///
    /// # Errors
    /// `EAFNOSUPPORT` outside `AF_INET`/`AF_INET6`, `EOPNOTSUPP` for a type other
    /// than `SOCK_STREAM`, `EPROTONOSUPPORT` for a protocol other than 0 (Python's
    /// `ValueError`s), `ECONNABORTED` when another local connection came first, `EMFILE`.
    #[cfg(windows)]
    pub fn pair(family: i32, socktype: i32, protocol: i32) -> Result<(Socket, Socket), Errno> {
        use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

        let loopback = match family {
            sys::AF_INET => Address::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)),
            sys::AF_INET6 => Address::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 0, 0, 0)),
            _ => return Err(Errno::EAFNOSUPPORT),
        };
        if socktype != sys::SOCK_STREAM {
            return Err(Errno::EOPNOTSUPP);
        }
        if protocol != 0 {
            return Err(Errno::EPROTONOSUPPORT);
        }
        let listener = Socket::new(family, socktype, protocol)?;
        listener.bind(&loopback)?;
        listener.listen(1)?;
        let mut client = Socket::new(family, socktype, protocol)?;
        // Non-blocking, so the connect cannot wait on an accept that comes after it.
        client.set_timeout(Some(Duration::ZERO))?;
        match client.connect(&listener.local_addr()?) {
            Err(e) if !sys::connect_in_progress(e) && e != Errno::EINTR => return Err(e),
            _ => {}
        }
        client.set_timeout(None)?;
        let (server, _) = listener.accept()?;
        // Anyone on the machine may connect to the port: only our own client will do.
        if server.local_addr()? != client.peer_addr()?
            || client.local_addr()? != server.peer_addr()?
        {
            return Err(Errno::ECONNABORTED);
        }
        Ok((server, client))
    }

    /// Takes ownership of `fd` after checking that it is an open socket, and
    /// sets CLOEXEC on it. Its mode is read from O_NONBLOCK.
    ///
    /// # Errors
    /// `EBADF` if `fd` is not open, `ENOTSOCK` if it is not a socket. On error
    /// the fd is left open and still belongs to the caller.
    ///
    /// # Safety
    /// The caller must own `fd` and give it up: nothing else may close it or
    /// keep using it as its own afterwards.
    pub unsafe fn from_raw_fd_checked(fd: RawFd) -> Result<Socket, Errno> {
        sys::ensure_socket(fd)?;
        // SAFETY: the caller hands over ownership of an open fd (checked above).
        let inner = unsafe { socket2::Socket::from_raw_fd(fd) };
        match Socket::adopt(&inner).and_then(|timeout| Ok((timeout, Socket::describe(&inner)?))) {
            Ok((timeout, (family, socktype, protocol))) => Ok(Socket {
                inner,
                timeout,
                family,
                socktype,
                protocol,
            }),
            Err(e) => {
                // Give the fd back untouched rather than closing the caller's descriptor.
                let _ = inner.into_raw_fd();
                Err(e)
            }
        }
    }

    /// CLOEXEC on, mode read from O_NONBLOCK, for an fd we did not create.
    #[cfg(unix)]
    fn adopt(inner: &socket2::Socket) -> Result<Option<Duration>, Errno> {
        inner.set_cloexec(true)?;
        #[cfg(any(target_os = "macos", target_os = "ios"))]
        // No MSG_NOSIGNAL there: sockets we create get SO_NOSIGPIPE from socket2, adopted ones here.
        inner.set_nosigpipe(true)?;
        Ok(inner.nonblocking()?.then_some(Duration::ZERO))
    }

    /// Windows: not inherited by child processes (CLOEXEC's counterpart), and in
    /// blocking mode: Winsock cannot tell a socket's mode, so Python assumes
    /// blocking for a socket it adopts there. Non-blocking underneath, as all.
    #[cfg(windows)]
    fn adopt(inner: &socket2::Socket) -> Result<Option<Duration>, Errno> {
        inner.set_no_inherit(true)?;
        inner.set_nonblocking(true)?;
        Ok(None)
    }

    fn wrap(inner: socket2::Socket, timeout: Option<Duration>) -> Result<Socket, Errno> {
        if sys::EMULATES_BLOCKING {
            inner.set_nonblocking(true)?;
        }
        let (family, socktype, protocol) = Socket::describe(&inner)?;
        Ok(Socket {
            inner,
            timeout,
            family,
            socktype,
            protocol,
        })
    }

    /// `(family, type, protocol)` as the kernel reports them.
    fn describe(inner: &socket2::Socket) -> Result<(i32, i32, i32), Errno> {
        let family = sys::socket_family(inner)?;
        let socktype = i32::from(inner.r#type()?);
        Ok((family, socktype, sys::socket_protocol(inner)?))
    }

    /// Address family (`AF_INET`, ...).
    pub fn family(&self) -> i32 {
        self.family
    }

    /// Socket type (`SOCK_STREAM`, ...), without the CLOEXEC/NONBLOCK bits.
    pub fn socktype(&self) -> i32 {
        self.socktype
    }

    /// Protocol (0 where the platform cannot tell).
    pub fn protocol(&self) -> i32 {
        self.protocol
    }

    /// Gives up ownership of the fd without closing it (Python's `detach`).
    pub fn into_raw_fd(self) -> RawFd {
        self.inner.into_raw_fd()
    }

    /// Closes the fd now, reporting close(2)'s error (drop ignores it).
    ///
    /// # Errors
    /// `EIO` and friends from close(2); the fd is released either way.
    pub fn close(self) -> Result<(), Errno> {
        sys::close(self.inner.into_raw_fd())
    }

    /// A new Socket on a duplicate fd (CLOEXEC), in the same mode.
    ///
    /// Corresponds to `fcntl(F_DUPFD_CLOEXEC)`.
    ///
    /// # Errors
    /// `EMFILE`.
    pub fn try_clone(&self) -> Result<Socket, Errno> {
        Ok(Socket {
            inner: self.inner.try_clone()?,
            ..*self
        })
    }

    /// Current timeout: `None` blocking, `Some(ZERO)` non-blocking, else timed.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Sets the mode (see the type's docs): O_NONBLOCK is on for any `Some`.
    ///
    /// # Errors
    /// `EBADF` from fcntl(2) in theory only.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Errno> {
        if !sys::EMULATES_BLOCKING {
            self.inner.set_nonblocking(timeout.is_some())?;
        }
        self.timeout = timeout;
        Ok(())
    }

    /// Runs `f` under the socket's mode (see [`crate::io`]).
    fn io<T>(
        &self,
        events: i16,
        deadline: Option<Instant>,
        flags: i32,
        f: impl FnMut() -> Result<T, Errno>,
    ) -> Result<T, Errno> {
        io::call(self.as_raw_fd(), events, self.timeout, deadline, flags, f)
    }

    fn deadline(&self) -> Option<Instant> {
        io::deadline(self.timeout)
    }

    /// Binds to `addr`.
    ///
    /// Corresponds to [`bind(2)`](https://man7.org/linux/man-pages/man2/bind.2.html).
    ///
    /// # Errors
    /// `EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES` (privileged port), `EINVAL` (already bound).
    pub fn bind(&self, addr: &Address) -> Result<(), Errno> {
        Ok(self.inner.bind(&addr.to_sockaddr()?)?)
    }

    /// Marks the socket as listening with a queue of `backlog` pending connections.
    ///
    /// Corresponds to [`listen(2)`](https://man7.org/linux/man-pages/man2/listen.2.html).
    ///
    /// # Errors
    /// `EOPNOTSUPP` on a datagram socket, `EADDRINUSE`.
    pub fn listen(&self, backlog: i32) -> Result<(), Errno> {
        Ok(self.inner.listen(backlog)?)
    }

    /// Accepts a connection: a new CLOEXEC, blocking socket and the peer's address.
    ///
    /// Corresponds to [`accept4(2)`](https://man7.org/linux/man-pages/man2/accept.2.html).
    ///
    /// # Errors
    /// `EAGAIN` (non-blocking), `ETIMEDOUT` (timed), `EINVAL` (not listening),
    /// `ECONNABORTED`, `EMFILE`.
    pub fn accept(&self) -> Result<(Socket, Address), Errno> {
        let (inner, addr) = self.io(sys::POLLIN, self.deadline(), 0, || {
            Ok(self.inner.accept()?)
        })?;
        if sys::EMULATES_BLOCKING {
            // Winsock's accept copies the listener's mode, but says not so: set it.
            inner.set_nonblocking(true)?;
        } else if sys::ACCEPT_INHERITS_NONBLOCK && self.timeout.is_some() {
            inner.set_nonblocking(false)?;
        }
        let sock = Socket {
            inner,
            timeout: None,
            family: self.family,
            socktype: self.socktype,
            protocol: self.protocol,
        };
        Ok((sock, Address::from_sockaddr(&addr)))
    }

    /// Connects to `addr`; in timed mode waits for the handshake up to the timeout.
    ///
    /// Corresponds to [`connect(2)`](https://man7.org/linux/man-pages/man2/connect.2.html).
    ///
    /// # Errors
    /// `ECONNREFUSED`, `ETIMEDOUT`, `EINPROGRESS` (non-blocking), `EISCONN`,
    /// `ENETUNREACH`, `ENOENT` (Unix path).
    pub fn connect(&self, addr: &Address) -> Result<(), Errno> {
        let sa = addr.to_sockaddr()?;
        let deadline = self.deadline();
        let waits = deadline.is_some() || (self.timeout.is_none() && sys::EMULATES_BLOCKING);
        match self.inner.connect(&sa).map_err(Errno::from) {
            Ok(()) => Ok(()),
            // A blocking connect interrupted by a signal goes on in the kernel:
            // calling it again would say EALREADY, so wait for it instead (PEP 475).
            Err(e) if e == Errno::EINTR && self.timeout.is_none() => self.finish_connect(None),
            Err(e) if (sys::connect_in_progress(e) || e == Errno::EINTR) && waits => {
                self.finish_connect(deadline)
            }
            Err(e) => Err(e),
        }
    }

    /// [`Socket::connect`]'s outcome as an errno value, 0 on success: Python's
    /// `connect_ex`, which a caller driving a non-blocking connect calls again and
    /// again (`EINPROGRESS`, `EALREADY`, then 0 or `EISCONN`).
    ///
    /// # Errors
    /// None as `Err`: each errno [`Socket::connect`] can fail with is the value.
    pub fn connect_ex(&self, addr: &Address) -> i32 {
        self.connect(addr).map_or_else(Errno::raw, |()| 0)
    }

    fn finish_connect(&self, deadline: Option<Instant>) -> Result<(), Errno> {
        if !wait_fd(self.as_raw_fd(), sys::POLLOUT, deadline)? {
            return Err(Errno::ETIMEDOUT);
        }
        match self.inner.take_error()? {
            None => Ok(()),
            Some(err) => Err(Errno::from(err)),
        }
    }

    /// Sends from `buf`, returning how many bytes went out. Never raises SIGPIPE.
    ///
    /// Corresponds to [`send(2)`](https://man7.org/linux/man-pages/man2/send.2.html).
    ///
    /// # Errors
    /// `EAGAIN`, `ETIMEDOUT`, `EPIPE`, `ECONNRESET`, `ENOTCONN`, `EMSGSIZE`.
    pub fn send(&self, buf: &[u8], flags: i32) -> Result<usize, Errno> {
        io::send(self.as_fd(), buf, flags, self.timeout)
    }

    /// Sends all of `buf`, looping over partial sends; in timed mode the
    /// timeout covers the whole call, as in Python.
    ///
    /// `sent` holds the bytes that went out, also when an error stops the loop.
    ///
    /// # Errors
    /// As [`Socket::send`]; on a non-blocking socket `EAGAIN` once the buffer fills.
    pub fn sendall(&self, buf: &[u8], flags: i32, sent: &mut usize) -> Result<(), Errno> {
        io::sendall(self.as_fd(), buf, flags, self.timeout, sent)
    }

    /// Sends a datagram (or stream data) to `addr`.
    ///
    /// Corresponds to [`sendto(2)`](https://man7.org/linux/man-pages/man2/sendto.2.html).
    ///
    /// # Errors
    /// As [`Socket::send`], plus `EISCONN`, `EACCES` (broadcast without SO_BROADCAST).
    pub fn send_to(&self, buf: &[u8], flags: i32, addr: &Address) -> Result<usize, Errno> {
        let sa = addr.to_sockaddr()?;
        self.io(sys::POLLOUT, self.deadline(), flags, || {
            Ok(self
                .inner
                .send_to_with_flags(buf, &sa, sys::os_flags(flags) | sys::SEND_FLAGS)?)
        })
    }

    /// Receives into `buf`, returning the byte count; 0 is end of stream.
    ///
    /// Corresponds to [`recv(2)`](https://man7.org/linux/man-pages/man2/recv.2.html).
    ///
    /// # Errors
    /// `EAGAIN`, `ETIMEDOUT`, `ECONNRESET`, `ENOTCONN`.
    pub fn recv_into(&self, buf: &mut [u8], flags: i32) -> Result<usize, Errno> {
        io::recv(self.as_fd(), buf, flags, self.timeout)
    }

    /// Receives into `buf` and says who sent it.
    ///
    /// Corresponds to [`recvfrom(2)`](https://man7.org/linux/man-pages/man2/recvfrom.2.html).
    ///
    /// # Errors
    /// As [`Socket::recv_into`].
    pub fn recv_from_into(&self, buf: &mut [u8], flags: i32) -> Result<(usize, Address), Errno> {
        let buf = uninit(buf);
        let (n, addr) = self.io(sys::POLLIN, self.deadline(), flags, || {
            Ok(self.inner.recv_from_with_flags(buf, sys::os_flags(flags))?)
        })?;
        Ok((n, Address::from_sockaddr(&addr)))
    }

    /// Receives a batch of datagrams, one per buffer, under the socket's mode;
    /// `meta[i]` says what arrived in `bufs[i]`. See [`batch::recv_many`].
    ///
    /// # Errors
    /// As [`batch::recv_many`].
    pub fn recv_many(
        &self,
        bufs: &mut [&mut [u8]],
        meta: &mut [RecvMeta],
        flags: i32,
    ) -> Result<usize, Errno> {
        batch::recv_many(
            self.as_fd(),
            bufs,
            meta,
            flags,
            self.timeout,
            BatchPath::best(),
        )
    }

    /// Sends each buffer as one datagram under the socket's mode, to no
    /// address (connected), one address, or one per buffer. See [`batch::send_many`].
    ///
    /// # Errors
    /// As [`batch::send_many`]; `ENAMETOOLONG`/`EINVAL` for a bad Unix path.
    pub fn send_many(&self, bufs: &[&[u8]], addrs: &[Address], flags: i32) -> Result<usize, Errno> {
        let addrs = addrs
            .iter()
            .map(Address::to_sockaddr)
            .collect::<Result<Vec<_>, Errno>>()?;
        batch::send_many(
            self.as_fd(),
            bufs,
            &addrs,
            flags,
            self.timeout,
            BatchPath::best(),
        )
    }

    /// [`msg::sendmsg`] under the socket's mode.
    ///
    /// # Errors
    /// As [`msg::sendmsg`].
    pub fn sendmsg(
        &self,
        bufs: &[IoSlice<'_>],
        cmsgs: &[Cmsg<'_>],
        flags: i32,
        addr: Option<&Address>,
    ) -> Result<usize, Errno> {
        msg::sendmsg(self.as_fd(), bufs, cmsgs, flags, addr, self.timeout)
    }

    /// [`msg::recvmsg`] under the socket's mode.
    ///
    /// # Errors
    /// As [`msg::recvmsg`].
    pub fn recvmsg(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        ancbufsize: usize,
        flags: i32,
    ) -> Result<Received, Errno> {
        msg::recvmsg(self.as_fd(), bufs, ancbufsize, flags, self.timeout)
    }

    /// The TCP connection's state and counters. See [`crate::tcp_info`].
    ///
    /// # Errors
    /// `EOPNOTSUPP` on a socket that is not TCP (checked first: kernels answer
    /// `ENOPROTOOPT` or `EOPNOTSUPP` depending on the family and protocol).
    pub fn tcp_info(&self) -> Result<TcpInfo, Errno> {
        let inet = matches!(self.family(), sys::AF_INET | sys::AF_INET6);
        let tcp = matches!(self.protocol(), 0 | sys::IPPROTO_TCP);
        if !inet || !tcp || self.socktype() != sys::SOCK_STREAM {
            return Err(Errno::EOPNOTSUPP);
        }
        crate::tcp_info(self.as_fd())
    }

    /// The peer's pid (where known), uid and gid, as the kernel recorded them at connect time.
    ///
    /// Corresponds to `getsockopt(SO_PEERCRED)` on Linux, getpeereid(3) (and
    /// `LOCAL_PEERPID` on macOS) on the BSDs.
    ///
    /// # Errors
    /// `EOPNOTSUPP` if the socket is not AF_UNIX, `ENOTCONN` if it has no peer: checked
    /// first, because Linux answers SO_PEERCRED there too, with a pid of 0 (or, on a
    /// listening socket, its own credentials).
    pub fn peer_credentials(&self) -> Result<PeerCredentials, Errno> {
        if self.family() != sys::AF_UNIX {
            return Err(Errno::EOPNOTSUPP);
        }
        self.peer_addr()?;
        sys::peer_credentials(self.as_raw_fd())
    }

    /// Shuts down reading (`SHUT_RD`), writing (`SHUT_WR`) or both (`SHUT_RDWR`).
    ///
    /// Corresponds to [`shutdown(2)`](https://man7.org/linux/man-pages/man2/shutdown.2.html).
    ///
    /// # Errors
    /// `ENOTCONN`, `EINVAL` for an unknown `how`.
    pub fn shutdown(&self, how: i32) -> Result<(), Errno> {
        sys::shutdown(self.as_raw_fd(), how)
    }

    /// The address the socket is bound to.
    ///
    /// Corresponds to [`getsockname(2)`](https://man7.org/linux/man-pages/man2/getsockname.2.html).
    ///
    /// # Errors
    /// `ENOBUFS` in theory only.
    pub fn local_addr(&self) -> Result<Address, Errno> {
        Ok(Address::from_sockaddr(&self.inner.local_addr()?))
    }

    /// The address of the connected peer.
    ///
    /// Corresponds to [`getpeername(2)`](https://man7.org/linux/man-pages/man2/getpeername.2.html).
    ///
    /// # Errors
    /// `ENOTCONN`.
    pub fn peer_addr(&self) -> Result<Address, Errno> {
        Ok(Address::from_sockaddr(&self.inner.peer_addr()?))
    }
}

/// Generic options: neither socket2 nor rustix exposes setsockopt with a raw
/// level/name/bytes, so these call the platform's own (sys).
impl Socket {
    /// Sets an integer option.
    ///
    /// Corresponds to [`setsockopt(2)`](https://man7.org/linux/man-pages/man2/setsockopt.2.html).
    ///
    /// # Errors
    /// `ENOPROTOOPT` for an unknown option, `EINVAL` for a bad value, `EPERM`.
    pub fn setsockopt_int(&self, level: i32, name: i32, value: i32) -> Result<(), Errno> {
        self.setsockopt_bytes(level, name, &value.to_ne_bytes())
    }

    /// Sets an option from raw bytes (a C struct such as `linger`).
    ///
    /// # Errors
    /// As [`Socket::setsockopt_int`].
    pub fn setsockopt_bytes(&self, level: i32, name: i32, value: &[u8]) -> Result<(), Errno> {
        sys::setsockopt(self.as_raw_fd(), level, name, value)
    }

    /// Reads an integer option.
    ///
    /// Corresponds to [`getsockopt(2)`](https://man7.org/linux/man-pages/man2/getsockopt.2.html).
    ///
    /// # Errors
    /// `ENOPROTOOPT` for an unknown option.
    pub fn getsockopt_int(&self, level: i32, name: i32) -> Result<i32, Errno> {
        let mut buf = [0u8; 4];
        let n = self.getsockopt_into(level, name, &mut buf)?;
        // Some options (SO_* booleans on old BSDs, IP_TTL-like chars) answer with fewer bytes.
        Ok(match n {
            1 => i32::from(buf[0]),
            _ => i32::from_ne_bytes(buf),
        })
    }

    /// Reads an option's raw bytes into `buf`, returning the length the kernel wrote.
    ///
    /// # Errors
    /// As [`Socket::getsockopt_int`].
    pub fn getsockopt_into(&self, level: i32, name: i32, buf: &mut [u8]) -> Result<usize, Errno> {
        sys::getsockopt(self.as_raw_fd(), level, name, buf)
    }
}

fn proto(protocol: i32) -> Option<Protocol> {
    (protocol != 0).then(|| Protocol::from(protocol))
}

/// Views initialized bytes as `MaybeUninit` for socket2's recv.
fn uninit(buf: &mut [u8]) -> &mut [MaybeUninit<u8>] {
    // SAFETY: same layout; recv only ever writes initialized bytes into it, so
    // the caller's `&mut [u8]` stays fully initialized.
    unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) }
}

// Platform cfg outside sys: the std traits a socket type implements are named
// per platform (rustix::fd's AsFd and AsRawFd come with them on Windows).
#[cfg(unix)]
impl std::os::fd::AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsRawSocket for Socket {
    fn as_raw_socket(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsSocket for Socket {
    fn as_socket(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl From<Socket> for OwnedFd {
    fn from(sock: Socket) -> OwnedFd {
        sock.inner.into()
    }
}
