// Socket: Python's socket object over the native handle.
import { inspect } from 'node:util'
import type { AddressArgs, AddressInput, SocketAddress } from './address.js'
import { type NativeSocket, native } from './binding.js'
import { AF_INET, AF_UNIX, SOCK_STREAM, SOMAXCONN } from './constants.js'
import { toSocketError } from './errors.js'
import * as v from './validate.js'

/** Set while wrapping an existing native handle (accept, dup, fromfd). */
let adopting: NativeSocket | undefined

/**
 * A BSD socket, with Python's `socket.socket` methods and semantics.
 *
 * Calls block by default (use them in worker threads and scripts); `setblocking(false)` makes
 * them throw `BlockingIOError` (`code` `'EAGAIN'`) instead of waiting, and `settimeout(s)`
 * makes them wait at most `s` seconds, then throw `TimeoutError` (`code` `'ETIMEDOUT'`).
 * A closed socket never touches its old fd number again: every call throws `EBADF`.
 */
export class Socket {
  #h: NativeSocket
  /** Address family (`AF_INET`, ...). */
  readonly family: number
  /** Socket type (`SOCK_STREAM`, ...). */
  readonly type: number
  /** Protocol number (0 = the type's default). */
  readonly proto: number

  /**
   * Creates a socket, like Python's `socket.socket(family, type, proto)`. The fd is CLOEXEC.
   * @throws {SocketError} `EAFNOSUPPORT`, `EPROTONOSUPPORT`, `EINVAL`, `EMFILE`.
   */
  constructor(family: number = AF_INET, type: number = SOCK_STREAM, proto = 0) {
    if (adopting) {
      this.#h = adopting
      adopting = undefined
    } else {
      v.cint(family, 'family')
      v.cint(type, 'type')
      v.cint(proto, 'proto')
      try {
        this.#h = new native.NativeSocket(family, type, proto)
      } catch (e) {
        throw toSocketError(e, 'socket')
      }
    }
    const [f, t, p] = this.#h.info()
    this.family = f
    this.type = t
    this.proto = p
  }

  #addr(address: unknown, name = 'address'): AddressArgs {
    return v.address(address, this.family, name)
  }

  #fail(e: unknown, syscall: string, a?: AddressArgs): unknown {
    if (!a) return toSocketError(e, syscall)
    return this.family === AF_UNIX
      ? toSocketError(e, syscall, a[0])
      : toSocketError(e, syscall, a[0], a[1])
  }

  /**
   * Binds to `address` (`['', 0]` = any address, ephemeral port). bind(2).
   * @throws {SocketError} `EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`, `EINVAL` (already bound).
   */
  bind(address: AddressInput): void {
    const a = this.#addr(address)
    try {
      this.#h.bind(a[0], a[1], a[2], a[3])
    } catch (e) {
      throw this.#fail(e, 'bind', a)
    }
  }

  /**
   * Listens with a queue of `backlog` connections (default `min(SOMAXCONN, 128)`, as Python). listen(2).
   * @throws {SocketError} `EOPNOTSUPP` on a datagram socket.
   */
  listen(backlog?: number): void {
    const n =
      backlog === undefined ? Math.min(SOMAXCONN, 128) : Math.max(0, v.cint(backlog, 'backlog'))
    try {
      this.#h.listen(n)
    } catch (e) {
      throw this.#fail(e, 'listen')
    }
  }

  /**
   * Accepts a connection: `[socket, address]`; the new socket is blocking and CLOEXEC. accept4(2).
   * @throws {SocketError} `EAGAIN` (non-blocking), `ETIMEDOUT` (timeout), `EINVAL` (not listening).
   */
  accept(): [Socket, SocketAddress] {
    let r: ReturnType<NativeSocket['accept']>
    try {
      r = this.#h.accept()
    } catch (e) {
      throw this.#fail(e, 'accept')
    }
    return [wrap(r[0]), r[1] as SocketAddress]
  }

  /**
   * Connects to `address`; host names resolve through getaddrinfo. connect(2).
   * @throws {SocketError} `ECONNREFUSED`, `ETIMEDOUT`, `EINPROGRESS` (non-blocking), `EISCONN`,
   * `ENOENT` (Unix path); {@link GaiError} when the name does not resolve.
   */
  connect(address: AddressInput): void {
    const a = this.#addr(address)
    try {
      this.#h.connect(a[0], a[1], a[2], a[3])
    } catch (e) {
      throw this.#fail(e, 'connect', a)
    }
  }

  /**
   * Like `connect`, but returns the errno instead of throwing: 0 on success, e.g.
   * `errno.EINPROGRESS` on a non-blocking socket (Python's `connect_ex`).
   * @throws {GaiError} when the name does not resolve, as in Python.
   */
  connectEx(address: AddressInput): number {
    const a = this.#addr(address)
    try {
      return this.#h.connectEx(a[0], a[1], a[2], a[3])
    } catch (e) {
      throw this.#fail(e, 'connect', a)
    }
  }

  /**
   * Sends `data` (Buffer, TypedArray, DataView, ArrayBuffer, or string as UTF-8); returns the
   * bytes sent, which may be fewer than given. send(2), never raising SIGPIPE.
   * @throws {SocketError} `EAGAIN`, `ETIMEDOUT`, `EPIPE`, `ECONNRESET`, `ENOTCONN`, `EMSGSIZE`.
   */
  send(data: string | ArrayBufferView | ArrayBuffer, flags = 0): number {
    const b = v.bytes(data)
    v.cint(flags, 'flags')
    try {
      return this.#h.send(b, flags)
    } catch (e) {
      throw this.#fail(e, 'send')
    }
  }

  /**
   * Sends all of `data`, looping over partial sends. With a timeout, it covers the whole call.
   * On error, `err.bytesSent` says how much went out (on a non-blocking socket, `EAGAIN` once
   * the kernel buffer is full).
   * @throws {SocketError} as `send`.
   */
  sendall(data: string | ArrayBufferView | ArrayBuffer, flags = 0): void {
    const b = v.bytes(data)
    v.cint(flags, 'flags')
    try {
      this.#h.sendall(b, flags)
    } catch (e) {
      throw this.#fail(e, 'send')
    }
  }

  /**
   * Sends a datagram to `address`: `sendto(data, address)` or `sendto(data, flags, address)`. sendto(2).
   * @throws {SocketError} as `send`, plus `EACCES` (broadcast without SO_BROADCAST), `EISCONN`.
   */
  sendto(data: string | ArrayBufferView | ArrayBuffer, address: AddressInput): number
  sendto(data: string | ArrayBufferView | ArrayBuffer, flags: number, address: AddressInput): number
  sendto(
    data: string | ArrayBufferView | ArrayBuffer,
    flagsOrAddress: number | AddressInput,
    address?: AddressInput,
  ): number {
    const b = v.bytes(data)
    const threeArgs = address !== undefined
    const flags = threeArgs ? v.cint(flagsOrAddress, 'flags') : 0
    const a = this.#addr(threeArgs ? address : flagsOrAddress)
    try {
      return this.#h.sendto(b, flags, a[0], a[1], a[2], a[3])
    } catch (e) {
      throw this.#fail(e, 'sendto', a)
    }
  }

  /**
   * Receives up to `bufsize` bytes; an empty Buffer means the peer closed. recv(2).
   * One call allocates at most 16 MiB, whatever `bufsize` says.
   * @throws {SocketError} `EAGAIN`, `ETIMEDOUT`, `ECONNRESET`, `ENOTCONN`.
   */
  recv(bufsize: number, flags = 0): Buffer {
    const n = Math.min(v.size(bufsize, 'bufsize'), v.MAX_RECV_ALLOC)
    v.cint(flags, 'flags')
    const buf = Buffer.allocUnsafe(n)
    let got: number
    try {
      got = this.#h.recvInto(buf, n, flags)
    } catch (e) {
      throw this.#fail(e, 'recv')
    }
    return shrink(buf, got)
  }

  /**
   * Receives into `buffer` (any TypedArray/DataView, no copy), at most `nbytes` (0 = its
   * whole length); returns the byte count, 0 at end of stream. recv(2).
   * @throws {SocketError} as `recv`; RangeError if `nbytes` exceeds the buffer.
   */
  recvInto(buffer: ArrayBufferView | ArrayBuffer, nbytes = 0, flags = 0): number {
    const buf = v.writable(buffer)
    const n = this.#nbytes(buf, nbytes)
    v.cint(flags, 'flags')
    try {
      return this.#h.recvInto(buf, n, flags)
    } catch (e) {
      throw this.#fail(e, 'recv')
    }
  }

  /**
   * Receives a datagram (or stream data) and its sender: `[data, address]`. recvfrom(2).
   * @throws {SocketError} as `recv`.
   */
  recvfrom(bufsize: number, flags = 0): [Buffer, SocketAddress] {
    const n = Math.min(v.size(bufsize, 'bufsize'), v.MAX_RECV_ALLOC)
    v.cint(flags, 'flags')
    const buf = Buffer.allocUnsafe(n)
    let r: [number, unknown]
    try {
      r = this.#h.recvfromInto(buf, n, flags)
    } catch (e) {
      throw this.#fail(e, 'recvfrom')
    }
    return [shrink(buf, r[0]), r[1] as SocketAddress]
  }

  /**
   * Receives into `buffer` and says who sent it: `[nbytes, address]`. recvfrom(2).
   * @throws {SocketError} as `recv`.
   */
  recvfromInto(
    buffer: ArrayBufferView | ArrayBuffer,
    nbytes = 0,
    flags = 0,
  ): [number, SocketAddress] {
    const buf = v.writable(buffer)
    const n = this.#nbytes(buf, nbytes)
    v.cint(flags, 'flags')
    try {
      return this.#h.recvfromInto(buf, n, flags) as [number, SocketAddress]
    } catch (e) {
      throw this.#fail(e, 'recvfrom')
    }
  }

  #nbytes(buf: Uint8Array, nbytes: unknown): number {
    const n = v.int(nbytes, 'nbytes', 0, Number.MAX_SAFE_INTEGER)
    if (n > buf.byteLength) {
      throw new RangeError(
        `The value of "nbytes" (${n}) is larger than the buffer (${buf.byteLength} bytes)`,
      )
    }
    return n === 0 ? buf.byteLength : n
  }

  /**
   * Shuts down reading (`SHUT_RD`), writing (`SHUT_WR`) or both (`SHUT_RDWR`). shutdown(2).
   * @throws {SocketError} `ENOTCONN`, `EINVAL` for another `how`.
   */
  shutdown(how: number): void {
    v.cint(how, 'how')
    try {
      this.#h.shutdown(how)
    } catch (e) {
      throw this.#fail(e, 'shutdown')
    }
  }

  /** Closes the socket. Calling it again does nothing. close(2). */
  close(): void {
    try {
      this.#h.close()
    } catch (e) {
      throw this.#fail(e, 'close')
    }
  }

  /** Closes the socket (`using sock = socket(...)`). */
  [Symbol.dispose](): void {
    this.close()
  }

  /**
   * Gives up the fd without closing it and returns it (-1 if already closed); the socket
   * acts as closed afterwards. Pair with `fromfd(fd)` in another thread, or hand it to
   * `net.Socket({ fd })`.
   */
  detach(): number {
    return this.#h.detach()
  }

  /** A new Socket on a duplicate (CLOEXEC) fd of the same connection, in the same mode. */
  dup(): Socket {
    try {
      return wrap(this.#h.dup())
    } catch (e) {
      throw this.#fail(e, 'dup')
    }
  }

  /** The fd number, -1 once closed or detached. */
  fileno(): number {
    return this.#h.fileno()
  }

  /** `setblocking(false)` = `settimeout(0)`, `setblocking(true)` = `settimeout(null)`. */
  setblocking(flag: boolean): void {
    if (typeof flag !== 'boolean') throw new TypeError('The "flag" argument must be a boolean')
    this.settimeout(flag ? null : 0)
  }

  /** False when non-blocking (timeout 0), true otherwise (timed sockets too, as in Python). */
  getblocking(): boolean {
    return this.gettimeout() !== 0
  }

  /**
   * Python's timeout: `null` blocks, `0` is non-blocking, `s > 0` waits up to `s` seconds
   * per call (rounded up to whole milliseconds) then throws `TimeoutError`.
   */
  settimeout(value: number | null): void {
    const t = v.timeout(value, 'value')
    try {
      this.#h.settimeout(t)
    } catch (e) {
      throw this.#fail(e, 'settimeout')
    }
  }

  /** The timeout in seconds, `null` when blocking. */
  gettimeout(): number | null {
    try {
      return this.#h.gettimeout()
    } catch (e) {
      throw this.#fail(e, 'gettimeout')
    }
  }

  /** Same as `gettimeout()` (Python's `sock.timeout`). */
  get timeout(): number | null {
    return this.gettimeout()
  }

  /** The local address. getsockname(2). */
  getsockname(): SocketAddress {
    try {
      return this.#h.getsockname() as SocketAddress
    } catch (e) {
      throw this.#fail(e, 'getsockname')
    }
  }

  /**
   * The peer's address. getpeername(2).
   * @throws {SocketError} `ENOTCONN`.
   */
  getpeername(): SocketAddress {
    try {
      return this.#h.getpeername() as SocketAddress
    } catch (e) {
      throw this.#fail(e, 'getpeername')
    }
  }

  /**
   * Sets an option: an integer (booleans as 0/1) or raw bytes for a C struct (SO_LINGER's
   * `struct linger`, say). setsockopt(2).
   * @throws {SocketError} `ENOPROTOOPT` (unknown option), `EINVAL` (bad value), `EPERM`.
   */
  setsockopt(
    level: number,
    optname: number,
    value: number | boolean | ArrayBufferView | ArrayBuffer,
  ): void {
    v.cint(level, 'level')
    v.cint(optname, 'optname')
    try {
      if (typeof value === 'number' || typeof value === 'boolean') {
        this.#h.setsockoptInt(
          level,
          optname,
          typeof value === 'boolean' ? Number(value) : v.cint(value, 'value'),
        )
      } else {
        this.#h.setsockoptBytes(level, optname, v.bytes(value, 'value'))
      }
    } catch (e) {
      if (e instanceof TypeError || e instanceof RangeError) throw e
      throw this.#fail(e, 'setsockopt')
    }
  }

  /**
   * Reads an option: an integer, or with `buflen` (1 to 1024) its raw bytes. getsockopt(2).
   * @throws {SocketError} `ENOPROTOOPT`.
   */
  getsockopt(level: number, optname: number): number
  getsockopt(level: number, optname: number, buflen: number): Buffer
  getsockopt(level: number, optname: number, buflen?: number): number | Buffer {
    v.cint(level, 'level')
    v.cint(optname, 'optname')
    if (buflen !== undefined) v.int(buflen, 'buflen', 1, 1024)
    try {
      return buflen === undefined
        ? this.#h.getsockoptInt(level, optname)
        : this.#h.getsockoptBytes(level, optname, buflen)
    } catch (e) {
      throw this.#fail(e, 'getsockopt')
    }
  }

  [inspect.custom](): string {
    const fd = this.fileno()
    if (fd < 0)
      return `<Socket [closed] family=${this.family} type=${this.type} proto=${this.proto}>`
    let laddr = ''
    try {
      laddr = `, laddr=${inspect(this.getsockname())}`
    } catch {}
    return `<Socket fd=${fd}, family=${this.family}, type=${this.type}, proto=${this.proto}${laddr}>`
  }
}

/** Wraps a native handle this module created (accept, dup, fromfd, socketpair). */
function wrap(h: NativeSocket): Socket {
  adopting = h
  return new Socket()
}

/**
 * Creates a socket: `socket(AF_INET, SOCK_STREAM)`, Python's `socket.socket()`.
 * @throws {SocketError} `EAFNOSUPPORT`, `EPROTONOSUPPORT`, `EINVAL`, `EMFILE`.
 */
export function socket(family: number = AF_INET, type: number = SOCK_STREAM, proto = 0): Socket {
  return new Socket(family, type, proto)
}

/**
 * A connected pair of sockets (default `AF_UNIX`, `SOCK_STREAM`), both CLOEXEC. socketpair(2).
 * @throws {SocketError} `EAFNOSUPPORT` outside AF_UNIX, `EOPNOTSUPP`, `EMFILE`.
 */
export function socketpair(
  family: number = AF_UNIX,
  type: number = SOCK_STREAM,
  proto = 0,
): [Socket, Socket] {
  v.cint(family, 'family')
  v.cint(type, 'type')
  v.cint(proto, 'proto')
  try {
    const [a, b] = native.NativeSocket.pair(family, type, proto)
    return [wrap(a), wrap(b)]
  } catch (e) {
    throw toSocketError(e, 'socketpair')
  }
}

/**
 * Makes a Socket of an existing socket fd, taking ownership of it: the Socket closes it.
 * Family, type and protocol are read from the kernel; the fd gets CLOEXEC, and the socket
 * is non-blocking if the fd had O_NONBLOCK. Unlike Python's `fromfd`, the fd is not
 * duplicated, so `detach()` in one thread and `fromfd(fd)` in another moves a socket.
 * @throws {SocketError} `EBADF` (not an open fd), `ENOTSOCK` (not a socket; the fd stays the caller's).
 */
export function fromfd(fd: number): Socket {
  v.fd(fd)
  try {
    return wrap(native.NativeSocket.fromFd(fd))
  } catch (e) {
    throw toSocketError(e, 'fromfd')
  }
}

/** The received bytes; a short read into a large buffer is copied out so it does not pin it. */
function shrink(buf: Buffer, got: number): Buffer {
  if (got === buf.length) return buf
  return got < buf.length / 2 && buf.length > 8192
    ? Buffer.from(buf.subarray(0, got))
    : buf.subarray(0, got)
}
