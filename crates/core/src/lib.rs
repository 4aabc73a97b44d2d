//! BSD sockets with Python's semantics, for the bsd-sockets Node addon.
//!
//! Pure Rust, no Node: an owned-fd [`Socket`] with blocking, timed and
//! non-blocking modes, [`Address`] in Python's shapes, [`getaddrinfo`],
//! a poll(2)-based [`select`], sendmsg/recvmsg with descriptor passing
//! ([`msg`]), batched datagrams ([`batch`]), [`TcpInfo`], and [`Errno`] so
//! every error keeps its OS number.
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
