// The module functions that make Sockets (Python's socket.socket, socketpair, fromfd) and
// the default timeout they start with.
import { defaults } from './adoption.js'
import { native } from './binding.js'
import { AF_INET, AF_UNIX, SOCK_STREAM } from './constants.js'
import { toSocketError } from './errors.js'
import { Socket, wrap } from './socket.js'
import * as v from './validate.js'

/**
 * Sets the timeout (seconds; `null` blocking, `0` non-blocking) every Socket created from now
 * on starts with: by `socket()`, `socketpair()`, `fromfd()`, `accept()` and the rest. Python's
 * `socket.setdefaulttimeout`. Per thread: a worker has its own.
 * @throws {RangeError} for a negative or too large timeout.
 */
export function setdefaulttimeout(timeout: number | null): void {
  defaults.timeout = v.timeout(timeout, 'timeout')
}

/** The timeout new Sockets start with, `null` (blocking) unless `setdefaulttimeout` changed it. */
export function getdefaulttimeout(): number | null {
  return defaults.timeout
}

/**
 * Creates a socket: `socket(AF_INET, SOCK_STREAM)`, Python's `socket.socket()`. socket(2);
 * the fd is CLOEXEC.
 * @throws {SocketError} `EAFNOSUPPORT`, `EPROTONOSUPPORT`, `EINVAL`, `EMFILE`.
 */
export function socket(family: number = AF_INET, type: number = SOCK_STREAM, proto = 0): Socket {
  return new Socket(family, type, proto)
}

/**
 * A connected pair of sockets (default `AF_UNIX`, `SOCK_STREAM`), both CLOEXEC. socketpair(2);
 * Python's `socket.socketpair`. On Windows, which has no socketpair(2), a TCP connection over
 * loopback made as Python makes it there (default `AF_INET`; `AF_INET6` too).
 * @throws {SocketError} `EAFNOSUPPORT` outside AF_UNIX (Windows: outside AF_INET/AF_INET6),
 *   `EOPNOTSUPP`, `EMFILE`.
 */
export function socketpair(
  family: number = process.platform === 'win32' ? AF_INET : AF_UNIX,
  type: number = SOCK_STREAM,
  proto = 0,
): [Socket, Socket] {
  v.cint(family, 'family')
  v.cint(type, 'type')
  v.cint(proto, 'proto')
  try {
    const [a, b] = native.sockPair(family, type, proto)
    return [wrap(a, undefined, proto), wrap(b, undefined, proto)]
  } catch (e) {
    throw toSocketError(e, 'socketpair')
  }
}

/**
 * Makes a Socket of an existing socket fd, taking ownership of it: the Socket closes it.
 * Family, type and protocol are read from the kernel (getsockopt(2)); the fd gets CLOEXEC,
 * and the socket is non-blocking if the fd had O_NONBLOCK. Unlike Python's `fromfd`, the fd is not
 * duplicated, so `detach()` in one thread and `fromfd(fd)` in another moves a socket.
 * @throws {SocketError} `EBADF` (not an open fd), `ENOTSOCK` (not a socket; the fd stays the caller's).
 */
export function fromfd(fd: number): Socket {
  v.fd(fd)
  try {
    return wrap(native.sockFromFd(fd))
  } catch (e) {
    throw toSocketError(e, 'fromfd')
  }
}
