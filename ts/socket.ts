// Socket: Python's socket object over the native handle.
import { closeSync } from 'node:fs'
import { Socket as NetSocket } from 'node:net'
import { inspect } from 'node:util'
import { acceptErrorKind, fdClosed, fdsFreed } from './accept-errors.js'
import type { AddressArgs, AddressInput, SocketAddress } from './address.js'
import { adoption, defaults, type HandleInfo } from './adoption.js'
import type { RecvManyOptions } from './batch.js'
import * as batch from './batch.js'
import { type NativeSocket, native } from './binding.js'
import { runCloseHooks } from './close-hooks.js'
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  errno,
  MSG_DONTWAIT,
  SCM_RIGHTS,
  SO_ACCEPTCONN,
  SO_ERROR,
  SOCK_STREAM,
  SOL_SOCKET,
  SOMAXCONN,
} from './constants.js'
import { cancel, Deadline, start } from './deadlines.js'
import { AbortError, errnoError, SocketError, toSocketError } from './errors.js'
import type {
  Ancillary,
  AncillaryInput,
  PeerCredentials,
  RecvmsgIntoResult,
  RecvmsgResult,
} from './msg.js'
import { type Op, READABLE, Watcher, WRITABLE as WRITABLE_DIR } from './reactor.js'
import { TCP_INFO_NULLS, type TcpInfo } from './tcp-info.js'
import * as v from './validate.js'

/** Options of every async method. */
export interface AsyncOptions {
  /** Rejects the call with an `AbortError` when aborted; the socket stays usable. */
  signal?: AbortSignal
  /** Seconds to wait at most, then reject with `TimeoutError` (`code` `'ETIMEDOUT'`). */
  timeout?: number
}

// The hot fd calls (crates/node/src/fast.rs), bound once.
const {
  recvIntoFd,
  recvKeepFd,
  recvKeptFd,
  sendFd,
  sendallFd,
  sendmsgFd,
  recvmsgIntoFd,
  recvFdsFd,
} = native

/** The promise of every async call that completed at once with no value. */
const RESOLVED: Promise<void> = Promise.resolve()

/** What a non-blocking attempt returns when it would block. */
const AGAIN = Symbol('EAGAIN')
type Attempt<T> = () => T | typeof AGAIN

const EAGAIN = errno.EAGAIN as number
const EWOULDBLOCK = errno.EWOULDBLOCK as number
const EINPROGRESS = errno.EINPROGRESS as number
const EBADF = errno.EBADF as number
const ETIMEDOUT = errno.ETIMEDOUT as number
const EINVAL = errno.EINVAL as number
const EOPNOTSUPP = errno.EOPNOTSUPP as number

/** Maps a `try*` result: bytes, AGAIN, or throws the errno's SocketError. */
function settled(n: number, syscall: string): number | typeof AGAIN {
  if (n >= 0) return n
  if (n === -EAGAIN || n === -EWOULDBLOCK) return AGAIN
  throw errnoError(-n, syscall)
}

/** Runs a throwing call: its result, AGAIN for EAGAIN, else throws `fail(error)`. */
function again<T>(call: () => T, fail: (e: unknown) => unknown): T | typeof AGAIN {
  try {
    return call()
  } catch (e) {
    const err = e instanceof SocketError ? e : fail(e)
    if (err instanceof SocketError && (err.errno === EAGAIN || err.errno === EWOULDBLOCK)) {
      return AGAIN
    }
    throw err
  }
}

/** Drops a Socket's own watch for a transport (ts/transport.ts); not exported from the package. */
export const RELEASE_WATCH: unique symbol = Symbol('releaseWatch')

/** The stream fast path of `recvFds` (ts/msg.ts); not exported from the package. */
export const RECV_FDS: unique symbol = Symbol('recvFds')

/**
 * Whether an argument where an optional flags/nbytes/address may stand is the options object
 * instead (`recvAsync(n, { timeout })`): an object that is no list, buffer or address.
 */
function isOptions(x: unknown): x is AsyncOptions {
  return (
    typeof x === 'object' &&
    x !== null &&
    !(Symbol.iterator in x) &&
    !ArrayBuffer.isView(x) &&
    !(x instanceof ArrayBuffer)
  )
}

/** Stands for an options object followed by more arguments: checkOptions refuses it. */
const MISPLACED: AsyncOptions = Object.freeze({})

/** `options` when nothing follows it, else MISPLACED. */
function last(options: AsyncOptions, ...after: unknown[]): AsyncOptions {
  return after.every((a) => a === undefined) ? options : MISPLACED
}

/** Whether a fast path may run with `options`: not if they would reject (#pending says why). */
function precheck(options: unknown): boolean {
  try {
    return checkOptions(options).signal?.aborted !== true
  } catch {
    return false
  }
}

function checkOptions(options: unknown): AsyncOptions {
  if (options === undefined) return {}
  if (options === MISPLACED) throw new TypeError('The options object must be the last argument')
  const { signal, timeout } = v.options<AsyncOptions>(options) as AsyncOptions
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(
      `The "options.signal" property must be an AbortSignal. Received ${v.typeName(signal)}`,
    )
  }
  // null means no timeout, as in settimeout(null); it must not become a 0 ms timer.
  const t = v.timeout(timeout, 'options.timeout') ?? undefined
  return { signal, timeout: t } as AsyncOptions
}

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
  /** The fd for the hot fd-only calls; -1 once closed or detached, so they get EBADF. */
  #fd: number
  /** The timeout the fd-only calls run under, in seconds; -1 = blocking (`null`). */
  #timeout: number
  /** The buffer the native side keeps for this fd (recvKeepFd), its length then, and the
   * token it is kept under (unique per Socket, so no other Socket's kept buffer is used). */
  #kept: Uint8Array | undefined
  #keptLen = 0
  #keeper = 0
  /** The receive batch recvmanyInto last found disjoint (a server passes the same one). */
  #batch: v.Disjoint | undefined
  /** Address family (`AF_INET`, ...). */
  readonly family: number
  /** Socket type (`SOCK_STREAM`, ...). */
  readonly type: number
  /**
   * Protocol number as given (0 = the type's default), as Python's: `accept()` and `dup()`
   * copy it; only `fromfd` reads the kernel's (SO_PROTOCOL).
   */
  readonly proto: number

  /**
   * Creates a socket, like Python's `socket.socket(family, type, proto)`. The fd is CLOEXEC.
   * @throws {SocketError} `EAFNOSUPPORT`, `EPROTONOSUPPORT`, `EINVAL`, `EMFILE`.
   */
  constructor(family: number = AF_INET, type: number = SOCK_STREAM, proto = 0) {
    const a = adoption
    const info = a.info
    a.info = undefined
    let given: number | undefined = proto
    if (a.h) {
      this.#h = a.h
      a.h = undefined
      given = a.proto
      a.proto = undefined
    } else {
      v.cint(family, 'family')
      v.cint(type, 'type')
      v.cint(proto, 'proto')
      try {
        this.#h = native.sockNew(family, type, proto)
      } catch (e) {
        throw toSocketError(e, 'socket')
      }
    }
    const [fd, f, t, p, timeout] = info ?? native.sockInfo(this.#h)
    this.#fd = fd
    this.#timeout = timeout
    this.family = f
    this.type = t
    // Python's: the value given (0 stays 0), not the protocol the kernel picked for it.
    this.proto = given ?? p
    if (defaults.timeout !== null) this.settimeout(defaults.timeout)
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
      native.sockBind(this.#h, a[0], a[1], a[2], a[3])
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
      native.sockListen(this.#h, n)
    } catch (e) {
      throw this.#fail(e, 'listen')
    }
  }

  /**
   * Accepts a connection: `[socket, address]`; the new socket is blocking and CLOEXEC. accept4(2).
   * @throws {SocketError} `EAGAIN` (non-blocking), `ETIMEDOUT` (timeout), `EINVAL` (not listening).
   */
  accept(): [Socket, SocketAddress] {
    let h: NativeSocket
    try {
      h = native.sockAccept(this.#h, ACCEPTED)
    } catch (e) {
      throw this.#fail(e, 'accept')
    }
    return this.#accepted(h)
  }

  /** The Socket and address of a connection the native side just accepted (see ACCEPTED). */
  #accepted(h: NativeSocket): [Socket, SocketAddress] {
    const [fd, port, ip, v4] = ACCEPTED as unknown as [number, number, number, number]
    const address = v4 ? [ipv4(ip), port] : native.sockAcceptedAddress(h)
    return [
      wrap(h, [fd, this.family, this.type, this.proto, -1], this.proto),
      address as SocketAddress,
    ]
  }

  /**
   * Connects to `address`; host names resolve through getaddrinfo. connect(2).
   * @throws {SocketError} `ECONNREFUSED`, `ETIMEDOUT`, `EINPROGRESS` (non-blocking), `EISCONN`,
   * `ENOENT` (Unix path); {@link GaiError} when the name does not resolve.
   */
  connect(address: AddressInput): void {
    const a = this.#addr(address)
    try {
      native.sockConnect(this.#h, a[0], a[1], a[2], a[3])
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
      return native.sockConnectEx(this.#h, a[0], a[1], a[2], a[3])
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
    const n = sendFd(this.#fd, b, flags, this.#timeout)
    if (n < 0) throw errnoError(-n, 'send')
    return n
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
    const r = sendallFd(this.#fd, b, flags, this.#timeout)
    if (r < 0) {
      // -(errno + 4096 * bytesSent): see crates/node/src/fast.rs.
      const e = errnoError(-r % 4096, 'send')
      e.bytesSent = Math.floor(-r / 4096)
      throw e
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
      return native.sockSendto(this.#h, b, flags, a[0], a[1], a[2], a[3])
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
    const n = v.recvSize(bufsize)
    v.cint(flags, 'flags')
    const buf = Buffer.allocUnsafe(n)
    const got = recvIntoFd(this.#fd, buf, n, flags, this.#timeout)
    if (got < 0) throw errnoError(-got, 'recv')
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
    const got = recvIntoFd(this.#fd, buf, n, flags, this.#timeout)
    if (got < 0) throw errnoError(-got, 'recv')
    return got
  }

  /**
   * Receives a datagram (or stream data) and its sender: `[data, address]`. recvfrom(2).
   * @throws {SocketError} as `recv`.
   */
  recvfrom(bufsize: number, flags = 0): [Buffer, SocketAddress] {
    const n = v.recvSize(bufsize)
    v.cint(flags, 'flags')
    const buf = Buffer.allocUnsafe(n)
    let r: [number, unknown]
    try {
      r = native.sockRecvfromInto(this.#h, buf, n, flags)
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
      return native.sockRecvfromInto(this.#h, buf, n, flags) as [number, SocketAddress]
    } catch (e) {
      throw this.#fail(e, 'recvfrom')
    }
  }

  /**
   * Sends `buffers` (each as `send` takes data) in order as one message, without joining
   * them, with the control messages `ancdata` (`[level, type, data]`, such as
   * `[SOL_SOCKET, SCM_RIGHTS, Int32Array.of(fd)]`), to `address` when given (unconnected
   * datagram sockets). Returns the bytes sent. Python's `sendmsg`; sendmsg(2), never raising SIGPIPE.
   * @throws {SocketError} `EAGAIN`, `ETIMEDOUT`, `EPIPE`, `ENOTCONN`, `EDESTADDRREQ`, `EISCONN`,
   * `EMSGSIZE` (too long, or more buffers than IOV_MAX), `EBADF` (an SCM_RIGHTS fd that is not
   * open), `EINVAL` (a control message the kernel rejects), `ETOOMANYREFS`.
   */
  sendmsg(
    buffers: Iterable<string | ArrayBufferView | ArrayBuffer>,
    ancdata: Iterable<AncillaryInput> = [],
    flags = 0,
    address?: AddressInput | null,
  ): number {
    const [send, a] = this.#msgArgs(buffers, ancdata, flags, address)
    try {
      return send(flags)
    } catch (e) {
      throw this.#fail(e, 'sendmsg', a)
    }
  }

  /** Checks sendmsg's arguments; returns the native call (given its flags) and the address. */
  #msgArgs(
    buffers: unknown,
    ancdata: unknown,
    flags: unknown,
    address: unknown,
  ): [(flags: number) => number, AddressArgs | undefined] {
    const bufs = v.bufferList(buffers)
    const [levels, types, datas] = v.ancdata(ancdata)
    v.cint(flags, 'flags')
    const rights =
      levels.length === 0
        ? null
        : levels.length === 1 && levels[0] === SOL_SOCKET && types[0] === SCM_RIGHTS
          ? (datas[0] as Uint8Array)
          : undefined
    if (address == null && rights !== undefined) {
      // No address and no control data but fds: the hand-registered fd call (fast.rs).
      const send = (f: number) => {
        const n = sendmsgFd(this.#fd, bufs, rights, f, this.#timeout)
        if (n < 0) throw errnoError(-n, 'sendmsg')
        return n
      }
      return [send, undefined]
    }
    const a = address == null ? undefined : this.#addr(address)
    const h = this.#h
    return [
      (f) =>
        native.sockSendmsg(
          h,
          bufs,
          levels,
          types,
          datas,
          f,
          a?.[0],
          a?.[1] ?? 0,
          a?.[2] ?? 0,
          a?.[3] ?? 0,
        ),
      a,
    ]
  }

  /**
   * Receives one message of up to `bufsize` bytes with up to `ancbufsize` bytes of control
   * data (size it with `CMSG_SPACE`): `[data, ancdata, msgFlags, address]`, Python's
   * `recvmsg`. `msgFlags` has `MSG_TRUNC` when a datagram was longer than `bufsize`, and
   * `MSG_CTRUNC` when control data did not fit (fds that did not fit were closed by the
   * kernel). Received fds are CLOEXEC and yours to close. recvmsg(2).
   * @throws {SocketError} `EAGAIN`, `ETIMEDOUT`, `ENOTCONN`, `ECONNRESET`; RangeError if
   * `ancbufsize` is over 1 MiB.
   */
  recvmsg(bufsize: number, ancbufsize = 0, flags = 0): RecvmsgResult {
    const n = v.recvSize(bufsize)
    const anc = v.ancbufsize(ancbufsize)
    v.cint(flags, 'flags')
    const buf = Buffer.allocUnsafe(n)
    return withData(buf, this.#recvmsg([buf], anc, flags))
  }

  /**
   * Receives one message scattered over `buffers` in order (no copy; no two may overlap):
   * `[nbytes, ancdata, msgFlags, address]`, Python's `recvmsg_into`. recvmsg(2).
   * @throws {SocketError} as `recvmsg`, plus `EMSGSIZE` for more buffers than IOV_MAX.
   */
  recvmsgInto(
    buffers: Iterable<ArrayBufferView | ArrayBuffer>,
    ancbufsize = 0,
    flags = 0,
  ): RecvmsgIntoResult {
    const bufs = v.writableList(buffers)
    const anc = v.ancbufsize(ancbufsize)
    v.cint(flags, 'flags')
    return this.#recvmsg(bufs, anc, flags)
  }

  /**
   * recvFds on a stream socket (msg.ts): recvmsg into `buf` with room for `fds.length - 1`
   * fds, written to `fds[1..]` with their count in `fds[0]`: `[nbytes, msgFlags]`.
   */
  [RECV_FDS](buf: Uint8Array, fds: Int32Array, flags: number): [number, number] {
    const r = recvFdsFd(this.#fd, buf, fds, flags, this.#timeout)
    if (r < 0) throw errnoError(-r, 'recvmsg')
    return [r % 2 ** 32, Math.floor(r / 2 ** 32)]
  }

  #recvmsg(bufs: Uint8Array[], ancbufsize: number, flags: number): RecvmsgIntoResult {
    if (ancbufsize === 0 && this.type === SOCK_STREAM) {
      // No control data and no address (streams report none): the hand-registered fd call,
      // which returns `nbytes + 2 ** 32 * msgFlags` (fast.rs).
      const r = recvmsgIntoFd(this.#fd, bufs, flags, this.#timeout)
      if (r < 0) throw errnoError(-r, 'recvmsg')
      return [r % 2 ** 32, [], Math.floor(r / 2 ** 32), null]
    }
    let r: ReturnType<typeof native.sockRecvmsgInto>
    try {
      r = native.sockRecvmsgInto(this.#h, bufs, ancbufsize, flags)
    } catch (e) {
      throw this.#fail(e, 'recvmsg')
    }
    return [r[0], r[1] as Ancillary[], r[2], (r[3] ?? null) as SocketAddress | null]
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
      native.sockShutdown(this.#h, how)
    } catch (e) {
      throw this.#fail(e, 'shutdown')
    }
  }

  /** Closes the socket. Calling it again does nothing. close(2). */
  close(): void {
    runCloseHooks(this, true)
    this.#stopWatching()
    this.#fd = -1
    this.#kept = undefined
    try {
      native.sockClose(this.#h)
    } catch (e) {
      throw this.#fail(e, 'close')
    } finally {
      fdClosed()
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
    runCloseHooks(this, false)
    this.#stopWatching()
    this.#fd = -1
    this.#kept = undefined
    return native.sockDetach(this.#h)
  }

  /**
   * Hands a stream connection (TCP or AF_UNIX) to Node's own stack: detaches the fd and
   * returns `new net.Socket({ fd, allowHalfOpen })`. libuv makes the fd non-blocking and
   * closes it when the net.Socket is destroyed; this Socket acts as detached afterwards
   * (`fileno()` -1). TLS goes on top: `tls.connect({ socket: sock.toNetSocket(), ... })`.
   * A listening socket goes to `server.listen({ fd: sock.detach() }, backlog)` instead.
   * @throws {SocketError} `EBADF` (closed), `EOPNOTSUPP` (not a TCP or AF_UNIX stream), `EINVAL`
   * (listening); the socket then stays open and yours.
   */
  toNetSocket(options?: { allowHalfOpen?: boolean }): NetSocket {
    v.options(options)
    if (this.#fd < 0) throw errnoError(EBADF, 'toNetSocket')
    // Node takes TCP and Unix stream sockets only (else ERR_INVALID_FD_TYPE after detach).
    const family = this.family === AF_INET || this.family === AF_INET6 || this.family === AF_UNIX
    if (!family || this.type !== SOCK_STREAM) throw errnoError(EOPNOTSUPP, 'toNetSocket')
    if (this.getsockopt(SOL_SOCKET, SO_ACCEPTCONN)) throw errnoError(EINVAL, 'toNetSocket')
    // Only options that cannot throw once Node has opened the fd (a bad `signal` would).
    const fd = this.detach()
    try {
      return new NetSocket({ fd, allowHalfOpen: options?.allowHalfOpen })
    } catch (e) {
      closeSync(fd) // Node refused it: the fd is no one's, so it does not leak
      throw e
    }
  }

  /** A new Socket on a duplicate (CLOEXEC) fd of the same connection, in the same mode. */
  dup(): Socket {
    try {
      return wrap(native.sockDup(this.#h), undefined, this.proto)
    } catch (e) {
      throw this.#fail(e, 'dup')
    }
  }

  /** The fd number, -1 once closed or detached. */
  fileno(): number {
    return this.#fd
  }

  /** `setblocking(false)` = `settimeout(0)`, `setblocking(true)` = `settimeout(null)`. */
  setblocking(flag: boolean): void {
    if (typeof flag !== 'boolean')
      throw new TypeError(`The "flag" argument must be a boolean. Received ${v.typeName(flag)}`)
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
      native.sockSettimeout(this.#h, t)
    } catch (e) {
      throw this.#fail(e, 'settimeout')
    }
    this.#timeout = t ?? -1
  }

  /** The timeout in seconds, `null` when blocking. */
  gettimeout(): number | null {
    try {
      return native.sockGettimeout(this.#h)
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
      return native.sockGetsockname(this.#h) as SocketAddress
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
      return native.sockGetpeername(this.#h) as SocketAddress
    } catch (e) {
      throw this.#fail(e, 'getpeername')
    }
  }

  /**
   * The pid, uid and gid of the process at the other end of an AF_UNIX socket, as the kernel
   * recorded them when it connected (or when the pair was made). getsockopt(SO_PEERCRED) on
   * Linux, getpeereid(3) on macOS and the BSDs (pid from LOCAL_PEERPID on macOS, else `null`).
   * `getsockopt(SOL_SOCKET, SO_PEERCRED, 12)` gives the raw `struct ucred` on Linux.
   * @throws {SocketError} `ENOTCONN` (no peer, or a listening socket), `EOPNOTSUPP` outside AF_UNIX.
   */
  peerCredentials(): PeerCredentials {
    try {
      const [pid, uid, gid] = native.sockPeerCredentials(this.#h)
      return { pid: pid ?? null, uid, gid }
    } catch (e) {
      throw this.#fail(e, 'getsockopt')
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
        native.sockSetsockoptInt(
          this.#h,
          level,
          optname,
          typeof value === 'boolean' ? Number(value) : v.cint(value, 'value'),
        )
      } else {
        native.sockSetsockoptBytes(this.#h, level, optname, v.bytes(value, 'value'))
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
        ? native.sockGetsockoptInt(this.#h, level, optname)
        : native.sockGetsockoptBytes(this.#h, level, optname, buflen)
    } catch (e) {
      throw this.#fail(e, 'getsockopt')
    }
  }

  /**
   * The TCP connection's state and counters: `getsockopt(IPPROTO_TCP, TCP_INFO)` on Linux,
   * `TCP_CONNECTION_INFO` on macOS. `state` is a name such as `'LISTEN'` or `'ESTABLISHED'`;
   * times are µs; fields the platform does not report are `null`.
   * @throws {SocketError} `EOPNOTSUPP` (not TCP: UDP, Unix; platforms without it), `EBADF`.
   */
  tcpInfo(): TcpInfo {
    try {
      return { ...TCP_INFO_NULLS, ...native.sockTcpInfo(this.#h) } as TcpInfo
    } catch (e) {
      throw this.#fail(e, 'getsockopt')
    }
  }

  /**
   * Receives up to `buffers.length` datagrams (at most 1024) in one call, one per buffer:
   * recvmmsg(2) on Linux, a recvmsg(2) loop elsewhere. Returns how many arrived; `lengths[i]`
   * is datagram `i`'s size (the bytes written; its full size with `flags: MSG_TRUNC` on Linux),
   * and `options.addresses` / `options.msgFlags` (filled in place when given) its sender (a run
   * of datagrams from one sender shares one array) and flags (`MSG_TRUNC` when it did not fit). Only the first datagram is
   * waited for (blocking, or up to the timeout); then whatever is queued is taken, so a
   * partial batch is normal. An empty `buffers` returns 0.
   * @throws {SocketError} `EAGAIN` (non-blocking, nothing queued), `ETIMEDOUT`, `ECONNREFUSED`.
   */
  recvmanyInto(
    buffers: Iterable<ArrayBufferView>,
    lengths: Int32Array,
    options?: RecvManyOptions,
  ): number {
    const n = this.#recvmany(buffers, lengths, options, 0)
    if (n < 0) throw errnoError(-n, 'recvmmsg')
    return n
  }

  /** `recvmanyInto` with MSG_DONTWAIT: the count or `-errno` (`-EAGAIN`), never throws for OS errors. */
  tryRecvmanyInto(
    buffers: Iterable<ArrayBufferView>,
    lengths: Int32Array,
    options?: RecvManyOptions,
  ): number {
    return this.#recvmany(buffers, lengths, options, MSG_DONTWAIT)
  }

  /**
   * `recvmanyInto` without blocking: resolves with the count once at least one datagram has
   * arrived. `options` takes `recvmanyInto`'s (`addresses`, `msgFlags`, `flags`) and
   * `signal` / `timeout`. The buffers must stay as they are until it settles.
   */
  recvmanyIntoAsync(
    buffers: Iterable<ArrayBufferView>,
    lengths: Int32Array,
    options?: RecvManyOptions & AsyncOptions,
  ): Promise<number> {
    return this.#pending(
      READABLE,
      'recvmmsg',
      () => {
        const args = this.#recvmanyArgs(buffers, lengths, options)
        return () => settled(this.#recvmanyCall(args, MSG_DONTWAIT), 'recvmmsg')
      },
      options,
    )
  }

  /** `extra`: flags the variant adds (`MSG_DONTWAIT` for `try*`), as every `try*` call does. */
  #recvmany(buffers: unknown, lengths: unknown, options: unknown, extra: number): number {
    return this.#recvmanyCall(this.#recvmanyArgs(buffers, lengths, options), extra)
  }

  #recvmanyArgs(buffers: unknown, lengths: unknown, options: unknown): RecvManyArgs {
    this.#batch ??= new v.Disjoint()
    const bufs = v.writableList(buffers, 'buffers', this.#batch)
    const lens = batch.int32s(lengths, 'lengths', bufs.length)
    return [bufs, lens, ...batch.recvOptions(options, bufs.length)]
  }

  #recvmanyCall([bufs, lens, msgFlags, addresses, flags]: RecvManyArgs, extra: number): number {
    // The native side fills an array of ours: the caller's could run setters mid-call.
    const senders = addresses ? SENDERS : undefined
    const n = native.sockRecvmanyInto(this.#h, bufs, lens, msgFlags, senders, flags | extra)
    if (addresses) for (let i = 0; i < n; i++) addresses[i] = SENDERS[i] as SocketAddress | null
    return n
  }

  /**
   * Sends each buffer as one datagram (at most 1024) in one call: sendmmsg(2) on Linux, a
   * sendmsg(2) loop elsewhere. `address` is one destination for all (`[host, port]`, a path),
   * one per buffer (an array of those, as long as `buffers`), or omitted on a connected
   * socket. Returns how many went out: fewer than given when a later datagram fails or, on a
   * non-blocking or timed socket, when the buffer fills (only the first datagram is waited
   * for). An empty `buffers` returns 0.
   * @throws {SocketError} `EAGAIN`, `ETIMEDOUT`, `EMSGSIZE` (the first datagram is too large),
   * `EDESTADDRREQ` (no address, not connected), `ECONNREFUSED`; {@link GaiError}.
   */
  sendmany(
    buffers: Iterable<string | ArrayBufferView | ArrayBuffer>,
    address?: AddressInput | readonly AddressInput[],
    flags = 0,
  ): number {
    const n = this.#sendmany(buffers, address, flags, 0)
    if (n < 0) throw errnoError(-n, 'sendmmsg')
    return n
  }

  /** `sendmany` with MSG_DONTWAIT: the count or `-errno`, never throws for OS errors. */
  trySendmany(
    buffers: Iterable<string | ArrayBufferView | ArrayBuffer>,
    address?: AddressInput | readonly AddressInput[],
    flags = 0,
  ): number {
    return this.#sendmany(buffers, address, flags, MSG_DONTWAIT)
  }

  /**
   * `sendmany` without blocking: resolves with how many datagrams went out (at least one,
   * for a non-empty `buffers`) once the socket took some.
   */
  sendmanyAsync(
    buffers: Iterable<string | ArrayBufferView | ArrayBuffer>,
    options?: AsyncOptions,
  ): Promise<number>
  sendmanyAsync(
    buffers: Iterable<string | ArrayBufferView | ArrayBuffer>,
    address: AddressInput | readonly AddressInput[] | undefined,
    options?: AsyncOptions,
  ): Promise<number>
  sendmanyAsync(
    buffers: Iterable<string | ArrayBufferView | ArrayBuffer>,
    address: AddressInput | readonly AddressInput[] | undefined,
    flags: number,
    options?: AsyncOptions,
  ): Promise<number>
  sendmanyAsync(
    buffers: Iterable<string | ArrayBufferView | ArrayBuffer>,
    address?: AddressInput | readonly AddressInput[] | AsyncOptions,
    flags?: number | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<number> {
    if (isOptions(address))
      [address, flags, options] = [undefined, 0, last(address, flags, options)]
    else if (isOptions(flags)) [flags, options] = [0, last(flags, options)]
    if (flags === undefined) flags = 0
    return this.#pending(
      WRITABLE_DIR,
      'sendmmsg',
      () => {
        const args = this.#sendmanyArgs(buffers, address, flags as number)
        return () => settled(this.#sendmanyCall(args, MSG_DONTWAIT), 'sendmmsg')
      },
      options,
    )
  }

  /** `extra` as in `#recvmany`. */
  #sendmany(buffers: unknown, address: unknown, flags: unknown, extra: number): number {
    return this.#sendmanyCall(this.#sendmanyArgs(buffers, address, flags), extra)
  }

  #sendmanyArgs(buffers: unknown, address: unknown, flags: unknown): SendManyArgs {
    const bufs = v.bufferList(buffers)
    const f = v.cint(flags, 'flags')
    return [bufs, ...batch.destinations(address, this.family, bufs.length), f]
  }

  #sendmanyCall([bufs, hosts, nums, flags]: SendManyArgs, extra: number): number {
    try {
      return native.sockSendmany(this.#h, bufs, hosts, nums, flags | extra)
    } catch (e) {
      throw this.#fail(e, 'sendmmsg')
    }
  }

  #w: Watcher | undefined
  #keepAlive = true

  /**
   * The event-loop watcher; the async methods need the fd non-blocking (as asyncio does), on
   * every call: `setblocking(true)` after an async call must not make the next one block.
   */
  #watcher(): Watcher {
    if (this.#timeout !== 0) this.settimeout(0)
    if (this.#w) return this.#w
    this.#w = new Watcher(this.#h)
    this.#w.setKeepAlive(this.#keepAlive)
    return this.#w
  }

  /**
   * Checks the call's arguments with `prepare`, which returns the attempt (its errors reject,
   * before any syscall). Runs the attempt now if nothing is queued before it, else (or on
   * EAGAIN) queues it to run when the loop says the socket is ready. Ops on one socket and
   * direction run in order.
   */
  #pending<T>(
    dir: number,
    syscall: string,
    prepare: () => Attempt<T>,
    options: unknown,
    tried = false,
    progress?: (err: SocketError | AbortError) => SocketError | AbortError,
  ): Promise<T> {
    let attempt: Attempt<T>
    let w: Watcher
    let opts: AsyncOptions
    try {
      attempt = prepare()
      opts = checkOptions(options)
      w = this.#watcher()
    } catch (e) {
      return Promise.reject(
        e instanceof TypeError || e instanceof RangeError ? e : this.#fail(e, syscall),
      )
    }
    const { signal, timeout } = opts
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason))
    const queue = dir === READABLE ? w.reads : w.writes
    // Reads (recv, accept) try first only while that keeps finding something (Watcher.tryFirst).
    if (queue.length === 0 && !tried && (dir !== READABLE || w.tryFirst())) {
      try {
        const r = attempt()
        if (dir === READABLE) w.tried(r !== AGAIN)
        if (r !== AGAIN) return Promise.resolve(r)
      } catch (e) {
        if (dir === READABLE) w.tried(true)
        return Promise.reject(e)
      }
    }
    return new Promise<T>((resolve, reject) => {
      // Errors raised here rather than by the attempt: `progress` adds what went out before.
      const stop = (e: SocketError | AbortError) => {
        done()
        reject(progress ? progress(e) : e)
      }
      const onAbort = () => {
        w.remove(op)
        stop(new AbortError(signal?.reason))
      }
      const done = () => {
        if (op.deadline !== undefined) cancel(op.deadline)
        signal?.removeEventListener('abort', onAbort)
      }
      const op: Op = {
        deadline: undefined,
        run: () => {
          let r: T | typeof AGAIN
          try {
            r = attempt()
          } catch (e) {
            done()
            reject(e)
            return true
          }
          if (r === AGAIN) return false
          done()
          resolve(r)
          return true
        },
        fail: stop,
      }
      if (timeout !== undefined) {
        // An unref'ed socket's pending call must not keep the process alive through its timeout.
        op.deadline = new Deadline(() => {
          w.remove(op)
          stop(errnoError(ETIMEDOUT, syscall))
        }, w.keepAlive)
        start(op.deadline, Math.ceil(timeout * 1000))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        w.add(op, queue)
      } catch (e) {
        stop(e as SocketError)
      }
    })
  }

  /**
   * Gives up this socket's event-loop watch, so a transport (ts/transport.ts) can watch the
   * fd: libuv takes one watch per fd.
   * @throws {Error} while async calls are pending.
   */
  [RELEASE_WATCH](): void {
    const w = this.#w
    if (!w) return
    if (w.reads.length > 0 || w.writes.length > 0)
      throw new Error('The socket has async calls pending; a transport cannot take it')
    this.#w = undefined
    w.failAll(() => errnoError(EBADF, 'close'))
    native.reactorUnwatch(w.id)
  }

  /** Rejects pending async calls with EBADF and drops the watcher (close, detach). */
  #stopWatching(): void {
    if (!this.#w) return
    const w = this.#w
    this.#w = undefined
    w.failAll(() => errnoError(EBADF, 'close'))
  }

  /**
   * Keeps Node's event loop alive while async calls are pending (the default), like a
   * `net.Socket`'s `ref()`.
   */
  ref(): this {
    this.#keepAlive = true
    this.#w?.setKeepAlive(true)
    return this
  }

  /** Lets the process exit even while async calls on this socket are pending. */
  unref(): this {
    this.#keepAlive = false
    this.#w?.setKeepAlive(false)
    return this
  }

  /**
   * Receives into `buffer` (no copy) without blocking; resolves with the byte count, 0 at
   * end of stream. The socket becomes non-blocking (`gettimeout() === 0`).
   * @throws {SocketError} (rejects) `ECONNRESET`, `ETIMEDOUT` (options.timeout), `EBADF` (closed while pending); `AbortError`.
   */
  recvIntoAsync(buffer: ArrayBufferView | ArrayBuffer, options?: AsyncOptions): Promise<number>
  recvIntoAsync(
    buffer: ArrayBufferView | ArrayBuffer,
    nbytes: number,
    options?: AsyncOptions,
  ): Promise<number>
  recvIntoAsync(
    buffer: ArrayBufferView | ArrayBuffer,
    nbytes: number,
    flags: number,
    options?: AsyncOptions,
  ): Promise<number>
  recvIntoAsync(
    buffer: ArrayBufferView | ArrayBuffer,
    nbytes?: number | AsyncOptions,
    flags?: number | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<number> {
    if (isOptions(nbytes)) [nbytes, flags, options] = [0, 0, last(nbytes, flags, options)]
    else if (isOptions(flags)) [flags, options] = [0, last(flags, options)]
    if (nbytes === undefined) nbytes = 0
    if (flags === undefined) flags = 0
    // The hot loop's shape (a Buffer, no size or flags, nothing queued) goes straight to the
    // syscall: no closure, one promise. Options are checked first but cost nothing more
    // unless the read must wait.
    const w = this.#w
    if (
      w &&
      this.#timeout === 0 &&
      buffer instanceof Uint8Array &&
      nbytes === 0 &&
      flags === 0 &&
      (options === undefined || precheck(options))
    ) {
      if (w.reads.length === 0 && w.tryFirst()) {
        const got = this.#recvAll(buffer)
        w.tried(got !== -EAGAIN && got !== -EWOULDBLOCK)
        if (got >= 0) return Promise.resolve(got)
        if (got !== -EAGAIN && got !== -EWOULDBLOCK) return Promise.reject(errnoError(-got, 'recv'))
      }
      // Tried above, skipped (see Watcher.tryFirst), or queued behind others: wait.
      const attempt = () => settled(this.#recvAll(buffer), 'recv')
      return this.#pending(READABLE, 'recv', () => attempt, options, true)
    }
    return this.#pending(
      READABLE,
      'recv',
      () => {
        const buf = v.writable(buffer)
        const n = this.#nbytes(buf, nbytes as number)
        v.cint(flags, 'flags')
        return () => settled(recvIntoFd(this.#fd, buf, n, flags | MSG_DONTWAIT, 0), 'recv')
      },
      options,
    )
  }

  /** Receives up to `bufsize` bytes without blocking: an empty Buffer at end of stream. */
  recvAsync(bufsize: number, options?: AsyncOptions): Promise<Buffer>
  recvAsync(bufsize: number, flags: number, options?: AsyncOptions): Promise<Buffer>
  recvAsync(bufsize: number, flags?: number | AsyncOptions, options?: AsyncOptions) {
    if (isOptions(flags)) [flags, options] = [0, last(flags, options)]
    if (flags === undefined) flags = 0
    return this.#pending(
      READABLE,
      'recv',
      () => {
        const n = v.recvSize(bufsize)
        const f = v.cint(flags, 'flags') | MSG_DONTWAIT
        return () => {
          const buf = Buffer.allocUnsafe(n)
          const got = settled(recvIntoFd(this.#fd, buf, n, f, 0), 'recv')
          return got === AGAIN ? AGAIN : shrink(buf, got)
        }
      },
      options,
    )
  }

  /** Receives a datagram without blocking: `[data, address]`. */
  recvfromAsync(bufsize: number, options?: AsyncOptions): Promise<[Buffer, SocketAddress]>
  recvfromAsync(
    bufsize: number,
    flags: number,
    options?: AsyncOptions,
  ): Promise<[Buffer, SocketAddress]>
  recvfromAsync(
    bufsize: number,
    flags?: number | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<[Buffer, SocketAddress]> {
    if (isOptions(flags)) [flags, options] = [0, last(flags, options)]
    if (flags === undefined) flags = 0
    const h = this.#h
    return this.#pending(
      READABLE,
      'recvfrom',
      () => {
        const n = v.recvSize(bufsize)
        const f = v.cint(flags, 'flags')
        return () => {
          const buf = Buffer.allocUnsafe(n)
          const r = native.sockTryRecvfromInto(h, buf, n, f)
          if (typeof r === 'number') {
            settled(r, 'recvfrom')
            return AGAIN
          }
          return [shrink(buf, r[0]), r[1] as SocketAddress] as [Buffer, SocketAddress]
        }
      },
      options,
    )
  }

  /** Sends without blocking once the socket is writable; resolves with the bytes sent. */
  sendAsync(data: string | ArrayBufferView | ArrayBuffer, options?: AsyncOptions): Promise<number>
  sendAsync(
    data: string | ArrayBufferView | ArrayBuffer,
    flags: number,
    options?: AsyncOptions,
  ): Promise<number>
  sendAsync(
    data: string | ArrayBufferView | ArrayBuffer,
    flags?: number | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<number> {
    if (isOptions(flags)) [flags, options] = [0, last(flags, options)]
    if (flags === undefined) flags = 0
    return this.#pending(
      WRITABLE_DIR,
      'send',
      () => {
        const b = v.bytes(data)
        const f = v.cint(flags, 'flags') | MSG_DONTWAIT
        return () => settled(sendFd(this.#fd, b, f, 0), 'send')
      },
      options,
    )
  }

  /** Sends all of `data`, waiting for room as needed; on error `err.bytesSent` says how much went. */
  sendallAsync(data: string | ArrayBufferView | ArrayBuffer, options?: AsyncOptions): Promise<void>
  sendallAsync(
    data: string | ArrayBufferView | ArrayBuffer,
    flags: number,
    options?: AsyncOptions,
  ): Promise<void>
  sendallAsync(
    data: string | ArrayBufferView | ArrayBuffer,
    flags?: number | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<void> {
    if (isOptions(flags)) [flags, options] = [0, last(flags, options)]
    if (flags === undefined) flags = 0
    let off = 0
    let tried = false
    const w = this.#w
    if (
      w &&
      w.writes.length === 0 &&
      this.#timeout === 0 &&
      data instanceof Uint8Array &&
      flags === 0 &&
      (options === undefined || precheck(options))
    ) {
      // The hot shape: one send that takes it all needs no closure and no new promise.
      const n = sendFd(this.#fd, data, MSG_DONTWAIT, 0)
      if (n === data.length) return RESOLVED
      if (n >= 0) off = n
      else if (n !== -EAGAIN && n !== -EWOULDBLOCK) {
        const e = errnoError(-n, 'send')
        e.bytesSent = 0
        return Promise.reject(e)
      }
      tried = true
    }
    return this.#pending(
      WRITABLE_DIR,
      'send',
      () => {
        const b = v.bytes(data)
        const f = v.cint(flags, 'flags') | MSG_DONTWAIT
        return () => {
          while (off < b.length) {
            const n = sendFd(this.#fd, off === 0 ? b : b.subarray(off), f, 0)
            if (n === -EAGAIN || n === -EWOULDBLOCK) return AGAIN
            if (n < 0) {
              const e = errnoError(-n, 'send')
              e.bytesSent = off
              throw e
            }
            off += n
          }
          return undefined
        }
      },
      options,
      tried,
      (e) => {
        e.bytesSent = off
        return e
      },
    )
  }

  /** Sends a datagram without blocking: `sendtoAsync(data, address, options?)` or `(data, flags, address, options?)`. */
  sendtoAsync(
    data: string | ArrayBufferView | ArrayBuffer,
    address: AddressInput,
    options?: AsyncOptions,
  ): Promise<number>
  sendtoAsync(
    data: string | ArrayBufferView | ArrayBuffer,
    flags: number,
    address: AddressInput,
    options?: AsyncOptions,
  ): Promise<number>
  sendtoAsync(
    data: string | ArrayBufferView | ArrayBuffer,
    a1: number | AddressInput,
    a2?: unknown,
    a3?: unknown,
  ): Promise<number> {
    const h = this.#h
    const withFlags = typeof a1 === 'number'
    return this.#pending(
      WRITABLE_DIR,
      'sendto',
      () => {
        const b = v.bytes(data)
        const flags = withFlags ? v.cint(a1, 'flags') : 0
        const a = this.#addr(withFlags ? a2 : a1)
        return () => {
          try {
            return settled(native.sockTrySendto(h, b, flags, a[0], a[1], a[2], a[3]), 'sendto')
          } catch (e) {
            throw e instanceof SocketError ? e : this.#fail(e, 'sendto', a)
          }
        }
      },
      withFlags ? a3 : a2,
    )
  }

  /** `sendmsg` without blocking once the socket is writable; resolves with the bytes sent. */
  sendmsgAsync(
    buffers: Iterable<string | ArrayBufferView | ArrayBuffer>,
    options?: AsyncOptions,
  ): Promise<number>
  sendmsgAsync(
    buffers: Iterable<string | ArrayBufferView | ArrayBuffer>,
    ancdata: Iterable<AncillaryInput>,
    options?: AsyncOptions,
  ): Promise<number>
  sendmsgAsync(
    buffers: Iterable<string | ArrayBufferView | ArrayBuffer>,
    ancdata: Iterable<AncillaryInput>,
    flags: number,
    options?: AsyncOptions,
  ): Promise<number>
  sendmsgAsync(
    buffers: Iterable<string | ArrayBufferView | ArrayBuffer>,
    ancdata: Iterable<AncillaryInput>,
    flags: number,
    address: AddressInput | null | undefined,
    options?: AsyncOptions,
  ): Promise<number>
  sendmsgAsync(
    buffers: Iterable<string | ArrayBufferView | ArrayBuffer>,
    ancdata?: Iterable<AncillaryInput> | AsyncOptions,
    flags?: number | AsyncOptions,
    address?: AddressInput | null | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<number> {
    if (isOptions(ancdata))
      [ancdata, flags, address, options] = [
        [],
        0,
        undefined,
        last(ancdata, flags, address, options),
      ]
    else if (isOptions(flags))
      [flags, address, options] = [0, undefined, last(flags, address, options)]
    else if (isOptions(address)) [address, options] = [undefined, last(address, options)]
    if (ancdata === undefined) ancdata = []
    if (flags === undefined) flags = 0
    return this.#pending(
      WRITABLE_DIR,
      'sendmsg',
      () => {
        const [send, a] = this.#msgArgs(buffers, ancdata, flags, address)
        const f = (flags as number) | MSG_DONTWAIT
        return () =>
          again(
            () => send(f),
            (e) => this.#fail(e, 'sendmsg', a),
          )
      },
      options,
    )
  }

  /** `recvmsg` without blocking: resolves with `[data, ancdata, msgFlags, address]`. */
  recvmsgAsync(bufsize: number, options?: AsyncOptions): Promise<RecvmsgResult>
  recvmsgAsync(bufsize: number, ancbufsize: number, options?: AsyncOptions): Promise<RecvmsgResult>
  recvmsgAsync(
    bufsize: number,
    ancbufsize: number,
    flags: number,
    options?: AsyncOptions,
  ): Promise<RecvmsgResult>
  recvmsgAsync(
    bufsize: number,
    ancbufsize?: number | AsyncOptions,
    flags?: number | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<RecvmsgResult> {
    let buf: Buffer
    try {
      buf = Buffer.allocUnsafe(v.recvSize(bufsize))
    } catch (e) {
      return Promise.reject(e)
    }
    const into = this.recvmsgIntoAsync as (...args: unknown[]) => Promise<RecvmsgIntoResult>
    return into.call(this, [buf], ancbufsize, flags, options).then((r) => withData(buf, r))
  }

  /** `recvmsgInto` without blocking: resolves with `[nbytes, ancdata, msgFlags, address]`. */
  recvmsgIntoAsync(
    buffers: Iterable<ArrayBufferView | ArrayBuffer>,
    options?: AsyncOptions,
  ): Promise<RecvmsgIntoResult>
  recvmsgIntoAsync(
    buffers: Iterable<ArrayBufferView | ArrayBuffer>,
    ancbufsize: number,
    options?: AsyncOptions,
  ): Promise<RecvmsgIntoResult>
  recvmsgIntoAsync(
    buffers: Iterable<ArrayBufferView | ArrayBuffer>,
    ancbufsize: number,
    flags: number,
    options?: AsyncOptions,
  ): Promise<RecvmsgIntoResult>
  recvmsgIntoAsync(
    buffers: Iterable<ArrayBufferView | ArrayBuffer>,
    ancbufsize?: number | AsyncOptions,
    flags?: number | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<RecvmsgIntoResult> {
    if (isOptions(ancbufsize))
      [ancbufsize, flags, options] = [0, 0, last(ancbufsize, flags, options)]
    else if (isOptions(flags)) [flags, options] = [0, last(flags, options)]
    if (ancbufsize === undefined) ancbufsize = 0
    if (flags === undefined) flags = 0
    return this.#pending(
      READABLE,
      'recvmsg',
      () => {
        const bufs = v.writableList(buffers)
        const anc = v.ancbufsize(ancbufsize)
        const f = v.cint(flags, 'flags') | MSG_DONTWAIT
        return () =>
          again(
            () => this.#recvmsg(bufs, anc, f),
            (e) => e,
          )
      },
      options,
    )
  }

  /**
   * Accepts a connection without blocking: `[socket, address]`. `for await (const [conn] of
   * server)` does this in a loop.
   */
  acceptAsync(options?: AsyncOptions): Promise<[Socket, SocketAddress]> {
    const h = this.#h
    return this.#pending(
      READABLE,
      'accept',
      () => () => {
        const conn = native.sockTryAccept(h, ACCEPTED)
        if (conn === null) {
          settled(ACCEPTED[0] as number, 'accept')
          return AGAIN
        }
        return this.#accepted(conn)
      },
      options,
    )
  }

  /**
   * Connects without blocking the thread: a non-blocking connect(2), then waits for the
   * socket to become writable and reads SO_ERROR.
   * @throws {SocketError} (rejects) `ECONNREFUSED`, `ETIMEDOUT` (options.timeout), `EBADF`; `AbortError`.
   */
  connectAsync(address: AddressInput, options?: AsyncOptions): Promise<void> {
    const h = this.#h
    let started = false
    // #pending makes the socket non-blocking before the attempt's connect(2).
    return this.#pending(
      WRITABLE_DIR,
      'connect',
      () => {
        const a = this.#addr(address)
        const where = (err: number) =>
          this.family === AF_UNIX
            ? errnoError(err, 'connect', a[0])
            : errnoError(err, 'connect', a[0], a[1])
        return () => {
          if (!started) {
            started = true
            let err: number
            try {
              err = native.sockConnectEx(h, a[0], a[1], a[2], a[3])
            } catch (e) {
              throw this.#fail(e, 'connect', a)
            }
            if (err === 0) return undefined
            if (err === EINPROGRESS || err === EAGAIN) return AGAIN
            throw where(err)
          }
          const err = native.sockGetsockoptInt(h, SOL_SOCKET, SO_ERROR)
          if (err === 0) return undefined
          throw where(err)
        }
      },
      options,
    )
  }

  /**
   * Accepted connections, one per iteration, from `acceptAsync()`; ends when the socket is
   * closed. Survives what a server must: a connection that failed before it was accepted
   * (`ECONNABORTED`, ...) is skipped, and out of fds or memory (`EMFILE`, `ENFILE`,
   * `ENOBUFS`, `ENOMEM`) it stops accepting until a Socket of this thread closes, or
   * 100 ms have passed, while clients wait in the backlog (asyncio
   * pauses the same way; libuv instead accepts and drops them). Other errors are thrown.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<[Socket, SocketAddress]> {
    while (this.fileno() !== -1) {
      let conn: [Socket, SocketAddress]
      try {
        conn = await this.acceptAsync()
      } catch (e) {
        if (!(e instanceof SocketError)) throw e
        if (this.fileno() === -1 && e.code === 'EBADF') return
        const kind = acceptErrorKind(e.code)
        if (kind === 'skip') continue
        if (kind === undefined) throw e
        await fdsFreed(this, this.#keepAlive)
        continue
      }
      yield conn
    }
  }

  /**
   * recv into all of `buffer` without waiting: bytes or `-errno`. A buffer used again (the
   * usual loop) is not passed again: the native side kept it, and holding it here and
   * checking its length (0 once detached) keeps that memory live and attached.
   */
  #recvAll(buffer: Uint8Array): number {
    if (buffer === this.#kept && buffer.length === this.#keptLen) {
      const got = recvKeptFd(this.#fd, this.#keeper, MSG_DONTWAIT)
      if (got !== NOT_KEPT) return got
    }
    this.#kept = buffer
    this.#keptLen = buffer.length
    if (this.#keeper === 0) this.#keeper = ++keepers
    return recvKeepFd(this.#fd, this.#keeper, buffer, MSG_DONTWAIT)
  }

  /** recv(2) with MSG_DONTWAIT: bytes (0 at end of stream) or `-errno` (`-EAGAIN`), never throws for OS errors. */
  tryRecvInto(buffer: ArrayBufferView | ArrayBuffer, nbytes = 0, flags = 0): number {
    // The hot loop's shape (a Buffer, no size, no flags) skips the general checks.
    if (buffer instanceof Uint8Array && nbytes === 0 && flags === 0) return this.#recvAll(buffer)
    const buf = v.writable(buffer)
    return recvIntoFd(
      this.#fd,
      buf,
      this.#nbytes(buf, nbytes),
      v.cint(flags, 'flags') | MSG_DONTWAIT,
      0,
    )
  }

  /** send(2) with MSG_DONTWAIT: bytes sent or `-errno`, never throws for OS errors. */
  trySend(data: string | ArrayBufferView | ArrayBuffer, flags = 0): number {
    return sendFd(this.#fd, v.bytes(data), v.cint(flags, 'flags') | MSG_DONTWAIT, 0)
  }

  /** accept without blocking (the socket becomes non-blocking): `[socket, address]` or `-errno`. */
  tryAccept(): [Socket, SocketAddress] | number {
    if (this.#fd !== -1 && this.#timeout !== 0) this.settimeout(0)
    const conn = native.sockTryAccept(this.#h, ACCEPTED)
    return conn === null ? (ACCEPTED[0] as number) : this.#accepted(conn)
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

/**
 * Where accept reports, instead of returning a tuple (two JS arrays built by N-API cost
 * ~0.7 µs a connection): `[fd, port, IPv4 bits, 1]` for an IPv4 peer, `[fd, 0, 0, 0]` for
 * others (then `acceptedAddress()` has the peer), or `[-errno]` when tryAccept got none.
 */
const ACCEPTED = new Int32Array(4)

/** Kept-buffer tokens (recvKeepFd): one per Socket that keeps one, never reused. */
let keepers = 0
/** recvKeptFd's answer when the fd's kept buffer is not this Socket's (someone else kept one). */
const NOT_KEPT = -0x40000000

/** `recvmanyInto`'s checked arguments: buffers, lengths, then `batch.recvOptions`'s three. */
type RecvManyArgs = [Uint8Array[], Int32Array, ...ReturnType<typeof batch.recvOptions>]
/** `sendmany`'s checked arguments: buffers, `batch.destinations`'s two, flags. */
type SendManyArgs = [Uint8Array[], ...ReturnType<typeof batch.destinations>, number]

/** The senders `recvmanyInto` reports, copied into `options.addresses` after the call. */
const SENDERS: unknown[] = []

/** Dotted IPv4 host strings by address bits: a server sees the same few peers again and again. */
const hosts = new Map<number, string>()

function ipv4(bits: number): string {
  let host = hosts.get(bits)
  if (host === undefined) {
    host = `${bits >>> 24}.${(bits >>> 16) & 255}.${(bits >>> 8) & 255}.${bits & 255}`
    if (hosts.size >= 1024) hosts.clear()
    hosts.set(bits, host)
  }
  return host
}

/** Wraps a native handle this package created (accept, dup, fromfd, socketpair); not exported from the package. */
export function wrap(h: NativeSocket, info?: HandleInfo, proto?: number): Socket {
  adoption.h = h
  adoption.info = info
  adoption.proto = proto
  return new Socket()
}

/** recvmsg's result from recvmsgInto's into `buf`: the bytes in place of their count. */
function withData(buf: Buffer, r: RecvmsgIntoResult): RecvmsgResult {
  return [shrink(buf, r[0]), r[1], r[2], r[3]]
}

/** The received bytes; a short read into a large buffer is copied out so it does not pin it. */
function shrink(buf: Buffer, got: number): Buffer {
  if (got === buf.length) return buf
  return got < buf.length / 2 && buf.length > 8192
    ? Buffer.from(buf.subarray(0, got))
    : buf.subarray(0, got)
}
