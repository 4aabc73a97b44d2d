//! `Errno`: the OS error number of a failed call, with its C name.

use std::fmt;

/// An OS error number (`errno`), as the failed call left it.
///
/// A `Copy` newtype over the C int: any value is accepted, and the common
/// ones have consts and a name read from the platform's own `libc` constants.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct Errno(i32);

/// Declares one const per name and the number -> name table, both from `libc`,
/// so no number is ever typed by hand. Where two names share a number on a
/// platform (EAGAIN/EWOULDBLOCK on Linux) the first listed wins in `name()`.
/// A name may carry `#[cfg(...)]`: it then exists only where the platform has it.
macro_rules! errnos {
    ($($(#[$cfg:meta])* $name:ident),* $(,)?) => {
        impl Errno {
            $(
                $(#[$cfg])*
                #[doc = concat!("`", stringify!($name), "`")]
                pub const $name: Errno = Errno(libc::$name);
            )*
        }
        const NAMES: &[(i32, &str)] = &[$($(#[$cfg])* (libc::$name, stringify!($name))),*];
    };
}

errnos! {
    EAGAIN, EWOULDBLOCK, EINPROGRESS, EALREADY, EINTR, EBADF, ENOTSOCK,
    ECONNREFUSED, ECONNRESET, ECONNABORTED, EPIPE, ETIMEDOUT, ENOTCONN, EISCONN,
    EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EPROTONOSUPPORT, EPROTOTYPE,
    EOPNOTSUPP, ENOTSUP, ENOPROTOOPT, EDESTADDRREQ, EMSGSIZE, ENETDOWN,
    ENETUNREACH, ENETRESET, EHOSTDOWN, EHOSTUNREACH, ESHUTDOWN, ENOBUFS,
    EPERM, ENOENT, ESRCH, EIO, ENXIO, E2BIG, ENOEXEC, ECHILD, ENOMEM, EACCES,
    EFAULT, EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR, EISDIR, EINVAL, ENFILE,
    EMFILE, ENOTTY, ETXTBSY, EFBIG, ENOSPC, ESPIPE, EROFS, EMLINK, EDOM, ERANGE,
    EDEADLK, ENAMETOOLONG, ENOLCK, ENOSYS, ENOTEMPTY, ELOOP, ENOMSG, EIDRM,
    // The XSI STREAMS errnos: FreeBSD never had STREAMS and its errno.h does
    // not define them, so neither does the libc crate there.
    #[cfg(not(target_os = "freebsd"))] ENOSTR,
    #[cfg(not(target_os = "freebsd"))] ENODATA,
    #[cfg(not(target_os = "freebsd"))] ETIME,
    #[cfg(not(target_os = "freebsd"))] ENOSR,
    ENOLINK, EPROTO, EBADMSG, EOVERFLOW, EILSEQ,
    EUSERS, ESOCKTNOSUPPORT, EPFNOSUPPORT, ETOOMANYREFS, ESTALE, EDQUOT,
    ECANCELED, EOWNERDEAD, ENOTRECOVERABLE, EMULTIHOP, ENOTBLK,
}

impl Errno {
    /// Wraps a raw OS error number.
    pub const fn from_raw(errno: i32) -> Errno {
        Errno(errno)
    }

    /// The raw OS error number.
    pub const fn raw(self) -> i32 {
        self.0
    }

    /// The calling thread's current `errno`, read right after a failed call.
    pub fn last() -> Errno {
        Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }

    /// The C name (`"EAGAIN"`), or `None` for a number this platform does not name.
    pub fn name(self) -> Option<&'static str> {
        NAMES.iter().find(|(n, _)| *n == self.0).map(|(_, s)| *s)
    }

    /// True for the "try again later" errors of a non-blocking call.
    pub fn is_would_block(self) -> bool {
        self == Errno::EAGAIN || self == Errno::EWOULDBLOCK
    }
}

impl From<std::io::Error> for Errno {
    /// Keeps the OS number; an error with none (a library's own `InvalidInput`)
    /// becomes `EINVAL`, the nearest errno for a rejected argument.
    fn from(err: std::io::Error) -> Errno {
        Errno(err.raw_os_error().unwrap_or(libc::EINVAL))
    }
}

impl From<rustix::io::Errno> for Errno {
    fn from(e: rustix::io::Errno) -> Errno {
        Errno::from_raw(e.raw_os_error())
    }
}

impl From<Errno> for std::io::Error {
    fn from(errno: Errno) -> std::io::Error {
        std::io::Error::from_raw_os_error(errno.0)
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}"),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = std::io::Error::from_raw_os_error(self.0);
        write!(f, "{:?}: {text}", self)
    }
}

impl std::error::Error for Errno {}
