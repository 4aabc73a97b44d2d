//! `Errno`: the OS error number of a failed call, with its C name.

use std::fmt;

/// An OS error number (`errno`), as the failed call left it.
///
/// A `Copy` newtype over the C int: any value is accepted, and the common
/// ones have consts and a name read from the platform's own `libc` constants.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct Errno(i32);

/// Declares one const per name and the number -> name table, both from the
/// platform's own constants, so no number is ever typed by hand. Where two names
/// share a number on a platform (EAGAIN/EWOULDBLOCK on Linux) the first listed
/// wins in `name()`. A name may carry `#[cfg(...)]`: it then exists only where the
/// platform has it. `NAME = WSANAME` (Windows) takes the value and the name from
/// Winsock's constant: the const keeps the POSIX name the code tests against.
macro_rules! errnos {
    (@name $name:ident) => { stringify!($name) };
    (@name $name:ident $os:ident) => { stringify!($os) };
    (@value $name:ident) => { libc::$name };
    (@value $name:ident $os:ident) => { windows_sys::Win32::Networking::WinSock::$os };
    ($($(#[$cfg:meta])* $name:ident $(= $os:ident)?),* $(,)?) => {
        impl Errno {
            $(
                $(#[$cfg])*
                #[doc = concat!("`", errnos!(@name $name $($os)?), "`")]
                pub const $name: Errno = Errno(errnos!(@value $name $($os)?));
            )*
        }
        const NAMES: &[(i32, &str)] = &[
            $($(#[$cfg])* (errnos!(@value $name $($os)?), errnos!(@name $name $($os)?))),*
        ];
        const CONSTS: &[(&str, Errno)] = &[
            $($(#[$cfg])* (stringify!($name), Errno::$name)),*
        ];
    };
}

#[cfg(unix)]
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

// Windows: a socket call fails with a Winsock code (WSAEWOULDBLOCK, 10035), so each
// name Winsock has is its WSAE* value and name, as Python's errno module has them
// there (errno.EWOULDBLOCK == 10035, errorcode[10035] == 'WSAEWOULDBLOCK'). Python's
// OSError maps them to the same classes as on Unix (BlockingIOError, ...), except
// that WSAEINTR, WSAEBADF, WSAEACCES, WSAEFAULT, WSAEINVAL and WSAEMFILE become the
// C runtime's EINTR... (winerror_to_errno, PC/errmap.h). The rest are the C
// runtime's numbers, which only this crate's own checks give (EEXIST, ENOENT of the
// Poller's contract); Winsock never returns them.
#[cfg(windows)]
errnos! {
    EAGAIN = WSAEWOULDBLOCK, EWOULDBLOCK = WSAEWOULDBLOCK, EINPROGRESS = WSAEINPROGRESS,
    EALREADY = WSAEALREADY, EINTR = WSAEINTR, EBADF = WSAEBADF, ENOTSOCK = WSAENOTSOCK,
    ECONNREFUSED = WSAECONNREFUSED, ECONNRESET = WSAECONNRESET,
    ECONNABORTED = WSAECONNABORTED, EPIPE, ETIMEDOUT = WSAETIMEDOUT,
    ENOTCONN = WSAENOTCONN, EISCONN = WSAEISCONN, EADDRINUSE = WSAEADDRINUSE,
    EADDRNOTAVAIL = WSAEADDRNOTAVAIL, EAFNOSUPPORT = WSAEAFNOSUPPORT,
    EPROTONOSUPPORT = WSAEPROTONOSUPPORT, EPROTOTYPE = WSAEPROTOTYPE,
    EOPNOTSUPP = WSAEOPNOTSUPP, ENOTSUP = WSAEOPNOTSUPP, ENOPROTOOPT = WSAENOPROTOOPT,
    EDESTADDRREQ = WSAEDESTADDRREQ, EMSGSIZE = WSAEMSGSIZE, ENETDOWN = WSAENETDOWN,
    ENETUNREACH = WSAENETUNREACH, ENETRESET = WSAENETRESET, EHOSTDOWN = WSAEHOSTDOWN,
    EHOSTUNREACH = WSAEHOSTUNREACH, ESHUTDOWN = WSAESHUTDOWN, ENOBUFS = WSAENOBUFS,
    EPERM, ENOENT, ESRCH, EIO, ENXIO, E2BIG, ENOEXEC, ECHILD, ENOMEM, EACCES = WSAEACCES,
    EFAULT = WSAEFAULT, EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR, EISDIR, EINVAL = WSAEINVAL,
    ENFILE, EMFILE = WSAEMFILE, ENOTTY, ETXTBSY, EFBIG, ENOSPC, ESPIPE, EROFS, EMLINK,
    EDOM, ERANGE, EDEADLK, ENAMETOOLONG = WSAENAMETOOLONG, ENOLCK, ENOSYS,
    ENOTEMPTY = WSAENOTEMPTY, ELOOP = WSAELOOP, ENOMSG, EIDRM, ENOSTR, ENODATA, ETIME,
    ENOSR, ENOLINK, EPROTO, EBADMSG, EOVERFLOW, EILSEQ, EUSERS = WSAEUSERS,
    ESOCKTNOSUPPORT = WSAESOCKTNOSUPPORT, EPFNOSUPPORT = WSAEPFNOSUPPORT,
    ETOOMANYREFS = WSAETOOMANYREFS, ESTALE = WSAESTALE, EDQUOT = WSAEDQUOT,
    ECANCELED = WSAECANCELLED, EOWNERDEAD, ENOTRECOVERABLE,
}

impl Errno {
    /// Every errno is below this, 2^16: POSIX's are under 200, Winsock's under
    /// 11100 and Win32's error codes under 16000. So a caller may pack a count
    /// above an errno in one number (the Node binding's `sendallFd` does).
    pub const BOUND: i32 = 1 << 16;

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
        #[cfg(unix)]
        return Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
        // Winsock's own accessor, as socket2 and std read it (the same slot as GetLastError).
        #[cfg(windows)]
        // SAFETY: WSAGetLastError takes nothing and only reads the thread's error slot.
        return Errno(unsafe { windows_sys::Win32::Networking::WinSock::WSAGetLastError() });
    }

    /// The C name (`"EAGAIN"`), or `None` for a number this platform does not name.
    pub fn name(self) -> Option<&'static str> {
        NAMES.iter().find(|(n, _)| *n == self.0).map(|(_, s)| *s)
    }

    /// Every errno this crate has a const for, by the const's (POSIX) name, with
    /// this platform's value: `("EAGAIN", 10035)` on Windows, where [`Errno::name`]
    /// says `WSAEWOULDBLOCK`.
    pub fn consts() -> impl Iterator<Item = (&'static str, Errno)> {
        CONSTS.iter().copied()
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
        Errno(err.raw_os_error().unwrap_or(Errno::EINVAL.0))
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
        // Windows: below Winsock's base are the C runtime's numbers (EEXIST, 17), which
        // std would read as Win32 codes and describe as another error: the name alone.
        #[cfg(windows)]
        if self.0 < windows_sys::Win32::Networking::WinSock::WSABASEERR {
            return write!(f, "{self:?}");
        }
        let text = std::io::Error::from_raw_os_error(self.0);
        write!(f, "{:?}: {text}", self)
    }
}

impl std::error::Error for Errno {}
