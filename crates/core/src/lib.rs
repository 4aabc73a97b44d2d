//! BSD sockets with Python's semantics, for the bsd-sockets Node addon.
//!
//! Pure Rust, no Node: an owned-fd [`Socket`] with blocking, timed and
//! non-blocking modes, [`Address`] in Python's shapes, [`getaddrinfo`],
//! a poll(2)-based [`select`], sendmsg/recvmsg with descriptor passing
//! ([`msg`]), batched datagrams ([`batch`]), [`TcpInfo`], and [`Errno`] so
//! every error keeps its OS number.
//!
//! # Platforms
//!
//! Unix (Linux, macOS, the BSDs, Android) and Windows, where a socket is a
//! Winsock `SOCKET` (the `RawFd` of the API is `rustix::fd::RawFd`, i.e.
//! `RawSocket` there) and an [`Errno`] is Winsock's code (`WSAEWOULDBLOCK`).
//! What Windows lacks fails with `EOPNOTSUPP` (`WSAEOPNOTSUPP`) rather than
//! being absent: descriptor passing and control messages ([`msg`]), batched
//! datagrams ([`batch`]), abstract Unix names, peer credentials, [`TcpInfo`].
//! [`Socket::pair`] is Python's loopback emulation there; [`select`] and the
//! poll [`Backend`] run on `WSAPoll`.
//!
//! # Layers
//!
//! `a -> b`: `b` is built on `a` and may use it; `a` never uses `b`, nor anything
//! after it. So each module reads with only what is below it in mind, and there
//! is no cycle.
//!
//! ```text
//! errno                                under everything: every call returns Errno
//! sys                                  the one -1 -> Errno, the platform seam (sys/unix.rs,
//!                                      sys/windows.rs: constants, the few raw calls); all
//!                                      below may use it
//! sys -> io -> {msg, batch} -> socket  Python's three modes; sendmsg/recvmsg and
//!                                      recvmmsg/sendmmsg on a borrowed fd; Socket, one
//!                                      method per syscall
//! sys -> {select, poller, tcp_info}    beside io; socket also uses tcp_info
//! addr -> resolve                      Address <-> sockaddr (msg, batch and socket use
//!                                      it too); getaddrinfo, getnameinfo, Address::resolve
//! inet                                 inet_pton/inet_ntop, over errno and sys's AF_*
//! ```
//!
//! A method of [`Socket`] that wraps a lower module's call lives in socket.rs,
//! never as an `impl Socket` in the lower module: that would point upwards.
#![deny(missing_docs)]

mod addr;
pub mod batch;
mod errno;
mod inet;
pub mod io;
pub mod msg;
mod poller;
mod resolve;
mod select;
mod socket;
mod sys;
mod tcp_info;

pub use addr::Address;
pub use errno::Errno;
pub use inet::{inet_ntop, inet_pton};
pub use poller::{Backend, Event, Events, Interest, Poller, Readiness};
pub use resolve::{getaddrinfo, getnameinfo, AddrInfo, AddrInfoHints, GaiError};
pub use select::{select, Selected};
pub use socket::Socket;
pub use tcp_info::{tcp_info, TcpInfo};
