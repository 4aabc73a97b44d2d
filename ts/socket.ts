// Socket: Python's socket object over the native handle. The class holds the public methods
// and their documentation; its State (ts/socket-state.ts) is what the modules holding the
// calls share: the fd calls (ts/fast.ts), the async machinery (ts/async.ts), the batch and
// msg calls (ts/batch.ts, ts/msg.ts).
import type { Socket as NetSocket } from 'node:net'
import { inspect } from 'node:util'
import { accepting, fdClosed } from './accept-errors.js'
import type { AddressInput, Destinations, SocketAddress } from './address.js'
import { adoption, defaults, type HandleInfo, takeHandle } from './adoption.js'
import {
  type AsyncOptions,
  acceptAsync,
  connectAsync,
  type FlagsAndOptions,
  type OrFlags,
  recvAsync,
  recvfromAsync,
  recvIntoAsync,
  releaseWatch,
  sendAsync,
  sendallAsync,
  sendtoAsync,
  setKeepAlive,
  stopWatching,
} from './async.js'
import type { RecvManyOptions } from './batch.js'
import * as batch from './batch.js'
import { type NativeSocket, native } from './binding.js'
import { runCloseHooks } from './close-hooks.js'
import { AF_INET, MSG_DONTWAIT, SOCK_STREAM, SOMAXCONN } from './constants.js'
import { errnoError } from './errors.js'
import {
  accept,
  acceptedFd,
  peer,
  recvAll,
  recvInto,
  send,
  sendall,
  tryAccept,
  unkeep,
} from './fast.js'
import type { AncillaryInput, PeerCredentials, RecvmsgIntoResult, RecvmsgResult } from './msg.js'
import * as msg from './msg.js'
import { describe, toNetSocket } from './node-handoff.js'
import { applyTimeout, call, callAt, fail, nbytesOf, State, shrink } from './socket-state.js'
import { TCP_INFO_NULLS, type TcpInfo } from './tcp-info.js'
import type { BufferLike, BytesLike } from './validate.js'
import * as v from './validate.js'

/** Drops a Socket's own watch for a transport (ts/transport.ts); not exported from the package. */
export const RELEASE_WATCH: unique symbol = Symbol('releaseWatch')

/** A Socket's State, for ts/fds.ts (a module function reaching the fd); not exported from the package. */
export let stateOf: (sock: Socket) => State

/**
 * A BSD socket, with Python's `socket.socket` methods and semantics.
 *
 * Calls block by default (use them in worker threads and scripts); `setblocking(false)` makes
 * them throw `BlockingIOError` (`code` `'EAGAIN'`) instead of waiting, and `settimeout(s)`
 * makes them wait at most `s` seconds, then throw `TimeoutError` (`code` `'ETIMEDOUT'`).
 * A closed socket never touches its old fd number again: every call throws `EBADF`.
 *
 * The `*Async` methods wait on Node's event loop instead (asyncio's `loop.sock_*`): they make
 * the socket non-blocking, run in call order per direction, and reject rather than throw,
 * with the sync form's errors, `TimeoutError` (`ETIMEDOUT`) after `options.timeout`,
 * `AbortError` on `options.signal`, `EBADF` when the socket is closed while they wait, and
 * TypeError / RangeError for bad arguments.
 */
export class Socket {
  readonly #s: State
  /** Address family (`AF_INET`, ...). */
  readonly family: number
  /** Socket type (`SOCK_STREAM`, ...). */
  readonly type: number
  /**
   * Protocol number as given (0 = the type's default), as Python's: `accept()` and `dup()`
   * copy it; only `fromfd` reads the kernel's (SO_PROTOCOL).
   */
  readonly proto: number

  static {
    stateOf = (sock) => sock.#s
  }

  /**
   * Creates a socket, like Python's `socket.socket(family, type, proto)`. socket(2); the fd
   * is CLOEXEC.
   * @throws {SocketError} `EAFNOSUPPORT`, `EPROTONOSUPPORT`, `EINVAL`, `EMFILE`.
   */
  constructor(family: number = AF_INET, type: number = SOCK_STREAM, proto = 0) {
    const [h, info, given] = takeHandle(family, type, proto)
    const [fd, f, t, p, timeout] = info ?? native.sockInfo(h)
    this.family = f
    this.type = t
    // Python's: the value given (0 stays 0), not the protocol the kernel picked for it.
    this.proto = given ?? p
    this.#s = new State(h, fd, timeout, f, t, this.proto)
    if (defaults.timeout !== null) this.settimeout(defaults.timeout)
  }

  /**
   * Binds to `address` (`['', 0]` = any address, ephemeral port). bind(2); Python's
   * `socket.bind`. A host name is resolved first (getaddrinfo(3)).
   * @throws {SocketError} `EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`, `EINVAL` (already bound);
   * {@link GaiError} when the name does not resolve.
   */
  bind(address: AddressInput): void {
    callAt(this.#s, 'bind', native.sockBind, v.address(address, this.family))
  }

  /**
   * Listens with a queue of `backlog` connections (default `min(SOMAXCONN, 128)`, as Python).
   * listen(2); Python's `socket.listen`.
   * @throws {SocketError} `EOPNOTSUPP` on a datagram socket; {@link RangeError} for a
   * `backlog` outside a C int.
   */
  listen(backlog?: number): void {
    const n =
      backlog === undefined ? Math.min(SOMAXCONN, 128) : Math.max(0, v.cint(backlog, 'backlog'))
    call(this.#s, 'listen', native.sockListen, n)
  }

  /**
   * Accepts a connection: `[socket, address]`; the new socket is blocking and CLOEXEC.
   * accept4(2) (accept(2) and fcntl(2) on macOS); Python's `socket.accept`.
   * @throws {SocketError} `EAGAIN` (non-blocking), `ETIMEDOUT` (timeout), `EINVAL` (not
   * listening), `EMFILE` / `ENFILE` (out of fds), `ECONNABORTED`.
   */
  accept(): [Socket, SocketAddress] {
    const s = this.#s
    return accepted(s, call(s, 'accept', accept))
  }

  /**
   * Connects to `address`; host names resolve through getaddrinfo(3). connect(2); Python's
   * `socket.connect`.
   * @throws {SocketError} `ECONNREFUSED`, `ETIMEDOUT`, `EINPROGRESS` (non-blocking), `EISCONN`,
   * `ENOENT` (Unix path); {@link GaiError} when the name does not resolve.
   */
  connect(address: AddressInput): void {
    callAt(this.#s, 'connect', native.sockConnect, v.address(address, this.family))
  }

  /**
   * Like `connect`, but returns the errno instead of throwing: 0 on success, e.g.
   * `errno.EINPROGRESS` on a non-blocking socket. connect(2); Python's `socket.connect_ex`.
   * @throws {GaiError} when the name does not resolve, as in Python.
   */
  connectEx(address: AddressInput): number {
    return callAt(this.#s, 'connect', native.sockConnectEx, v.address(address, this.family))
  }

  /**
   * Sends `data` (Buffer, TypedArray, DataView, ArrayBuffer, or string as UTF-8); returns the
   * bytes sent, which may be fewer than given. send(2), never raising SIGPIPE; Python's
   * `socket.send`.
   * @throws {SocketError} `EAGAIN`, `ETIMEDOUT`, `EPIPE`, `ECONNRESET`, `ENOTCONN`, `EMSGSIZE`.
   */
  send(data: BytesLike, flags = 0): number {
    const s = this.#s
    const b = v.bytes(data)
    v.cint(flags, 'flags')
    const n = send(s.fd, b, flags, s.timeout)
    if (n < 0) throw errnoError(-n, 'send')
    return n
  }

  /**
   * Sends all of `data`, looping over partial sends. With a timeout, it covers the whole call.
   * On error, `err.bytesSent` says how much went out (on a non-blocking socket, `EAGAIN` once
   * the kernel buffer is full). send(2) in a loop; Python's `socket.sendall`.
   * @throws {SocketError} as `send`.
   */
  sendall(data: BytesLike, flags = 0): void {
    const s = this.#s
    const b = v.bytes(data)
    v.cint(flags, 'flags')
    sendall(s.fd, b, flags, s.timeout)
  }

  /**
   * Sends a datagram to `address`: `sendto(data, address)` or `sendto(data, flags, address)`.
   * sendto(2); Python's `socket.sendto`.
   * @throws {SocketError} as `send`, plus `EACCES` (broadcast without SO_BROADCAST), `EISCONN`;
   * {@link GaiError} when the name does not resolve.
   */
  sendto(data: BytesLike, address: AddressInput): number
  sendto(data: BytesLike, flags: number, address: AddressInput): number
  sendto(data: BytesLike, flagsOrAddress: number | AddressInput, address?: AddressInput): number {
    const s = this.#s
    const b = v.bytes(data)
    const threeArgs = address !== undefined
    const flags = threeArgs ? v.cint(flagsOrAddress, 'flags') : 0
    const a = v.address(threeArgs ? address : flagsOrAddress, this.family)
    // Not `call`: a datagram loop's call, where its spread would cost.
    try {
      return native.sockSendto(s.h, b, flags, a[0], a[1], a[2], a[3])
    } catch (e) {
      throw fail(s, e, 'sendto', a)
    }
  }

  /**
   * Receives up to `bufsize` bytes; an empty Buffer means the peer closed. recv(2); Python's
   * `socket.recv`. One call allocates at most 16 MiB, whatever `bufsize` says.
   * @throws {SocketError} `EAGAIN`, `ETIMEDOUT`, `ECONNRESET`, `ENOTCONN`.
   */
  recv(bufsize: number, flags = 0): Buffer {
    const s = this.#s
    const n = v.recvSize(bufsize)
    v.cint(flags, 'flags')
    const buf = Buffer.allocUnsafe(n)
    const got = recvInto(s.fd, buf, n, flags, s.timeout)
    if (got < 0) throw errnoError(-got, 'recv')
    return shrink(buf, got)
  }

  /**
   * Receives into `buffer` (any TypedArray/DataView, no copy), at most `nbytes` (0 = its
   * whole length); returns the byte count, 0 at end of stream. recv(2); Python's
   * `socket.recv_into`.
   * @throws {SocketError} as `recv`; {@link RangeError} if `nbytes` exceeds the buffer.
   */
  recvInto(buffer: BufferLike, nbytes = 0, flags = 0): number {
    const s = this.#s
    const buf = v.writable(buffer)
    const n = nbytesOf(buf, nbytes)
    v.cint(flags, 'flags')
    const got = recvInto(s.fd, buf, n, flags, s.timeout)
    if (got < 0) throw errnoError(-got, 'recv')
    return got
  }

  /**
   * Receives a datagram (or stream data) and its sender: `[data, address]`. recvfrom(2);
   * Python's `socket.recvfrom`.
   * @throws {SocketError} as `recv`.
   */
  recvfrom(bufsize: number, flags = 0): [Buffer, SocketAddress] {
    const s = this.#s
    const n = v.recvSize(bufsize)
    v.cint(flags, 'flags')
    const buf = Buffer.allocUnsafe(n)
    let r: [number, unknown]
    try {
      r = native.sockRecvfromInto(s.h, buf, n, flags)
    } catch (e) {
      throw fail(s, e, 'recvfrom')
    }
    return [shrink(buf, r[0]), r[1] as SocketAddress]
  }

  /**
   * Receives into `buffer` and says who sent it: `[nbytes, address]`. recvfrom(2); Python's
   * `socket.recvfrom_into`.
   * @throws {SocketError} as `recv`; {@link RangeError} if `nbytes` exceeds the buffer.
   */
  recvfromInto(buffer: BufferLike, nbytes = 0, flags = 0): [number, SocketAddress] {
    const s = this.#s
    const buf = v.writable(buffer)
    const n = nbytesOf(buf, nbytes)
    v.cint(flags, 'flags')
    try {
      return native.sockRecvfromInto(s.h, buf, n, flags) as [number, SocketAddress]
    } catch (e) {
      throw fail(s, e, 'recvfrom')
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
    buffers: Iterable<BytesLike>,
    ancdata: Iterable<AncillaryInput> = [],
    flags = 0,
    address?: AddressInput | null,
  ): number {
    return msg.sendmsg(this.#s, buffers, ancdata, flags, address)
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
    return msg.recvmsg(this.#s, bufsize, ancbufsize, flags)
  }

  /**
   * Receives one message scattered over `buffers` in order (no copy; no two may overlap):
   * `[nbytes, ancdata, msgFlags, address]`, Python's `recvmsg_into`. recvmsg(2).
   * @throws {SocketError} as `recvmsg`, plus `EMSGSIZE` for more buffers than IOV_MAX.
   */
  recvmsgInto(buffers: Iterable<BufferLike>, ancbufsize = 0, flags = 0): RecvmsgIntoResult {
    return msg.recvmsgInto(this.#s, buffers, ancbufsize, flags)
  }

  /**
   * Shuts down reading (`SHUT_RD`), writing (`SHUT_WR`) or both (`SHUT_RDWR`). shutdown(2);
   * Python's `socket.shutdown`.
   * @throws {SocketError} `ENOTCONN`, `EINVAL` for another `how`.
   */
  shutdown(how: number): void {
    v.cint(how, 'how')
    call(this.#s, 'shutdown', native.sockShutdown, how)
  }

  /**
   * Closes the socket; pending async calls reject with `EBADF`. Calling it again does
   * nothing. close(2); Python's `socket.close`.
   * @throws {SocketError} an error close(2) reports (`EIO`), rarely.
   */
  close(): void {
    const s = this.#s
    runCloseHooks(this, true)
    stopWatching(s)
    s.fd = -1
    unkeep(s)
    try {
      call(s, 'close', native.sockClose)
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
   * `net.Socket({ fd })`. No syscall; Python's `socket.detach`.
   */
  detach(): number {
    const s = this.#s
    runCloseHooks(this, false)
    stopWatching(s)
    s.fd = -1
    unkeep(s)
    return native.sockDetach(s.h)
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
    return toNetSocket(this, options)
  }

  /**
   * A new Socket on a duplicate (CLOEXEC) fd of the same connection, in the same mode.
   * fcntl(2) `F_DUPFD_CLOEXEC`; Python's `socket.dup`.
   * @throws {SocketError} `EBADF` (closed), `EMFILE`.
   */
  dup(): Socket {
    return call(this.#s, 'dup', (h) => wrap(native.sockDup(h), undefined, this.proto))
  }

  /** The fd number, -1 once closed or detached. Python's `socket.fileno`. */
  fileno(): number {
    return this.#s.fd
  }

  /**
   * `setblocking(false)` = `settimeout(0)`, `setblocking(true)` = `settimeout(null)`.
   * Python's `socket.setblocking`; fcntl(2) `O_NONBLOCK`.
   * @throws {TypeError} for a `flag` that is not a boolean; {@link SocketError} `EBADF` (closed).
   */
  setblocking(flag: boolean): void {
    if (typeof flag !== 'boolean')
      throw new TypeError(`The "flag" argument must be a boolean. Received ${v.typeName(flag)}`)
    this.settimeout(flag ? null : 0)
  }

  /**
   * False when non-blocking (timeout 0), true otherwise (timed sockets too, as in Python's
   * `socket.getblocking`).
   * @throws {SocketError} `EBADF` (closed).
   */
  getblocking(): boolean {
    return this.gettimeout() !== 0
  }

  /**
   * Python's timeout: `null` blocks, `0` is non-blocking, `s > 0` waits up to `s` seconds
   * per call (rounded up to whole milliseconds) then throws `TimeoutError`. Python's
   * `socket.settimeout`; fcntl(2) `O_NONBLOCK` for 0 and `s`, as Python does.
   * @throws {RangeError} for a negative or too large value; {@link SocketError} `EBADF` (closed).
   */
  settimeout(value: number | null): void {
    applyTimeout(this.#s, v.timeout(value, 'value'))
  }

  /**
   * The timeout in seconds, `null` when blocking. Python's `socket.gettimeout`.
   * @throws {SocketError} `EBADF` (closed).
   */
  gettimeout(): number | null {
    return call(this.#s, 'gettimeout', native.sockGettimeout)
  }

  /** Same as `gettimeout()` (Python's `sock.timeout`). */
  get timeout(): number | null {
    return this.gettimeout()
  }

  /**
   * The local address. getsockname(2); Python's `socket.getsockname`.
   * @throws {SocketError} `EBADF` (closed).
   */
  getsockname(): SocketAddress {
    return call(this.#s, 'getsockname', native.sockGetsockname) as SocketAddress
  }

  /**
   * The peer's address. getpeername(2); Python's `socket.getpeername`.
   * @throws {SocketError} `ENOTCONN`, `EBADF` (closed).
   */
  getpeername(): SocketAddress {
    return call(this.#s, 'getpeername', native.sockGetpeername) as SocketAddress
  }

  /**
   * The pid, uid and gid of the process at the other end of an AF_UNIX socket, as the kernel
   * recorded them when it connected (or when the pair was made). getsockopt(SO_PEERCRED) on
   * Linux, getpeereid(3) on macOS and the BSDs (pid from LOCAL_PEERPID on macOS, else `null`).
   * `getsockopt(SOL_SOCKET, SO_PEERCRED, 12)` gives the raw `struct ucred` on Linux. Python
   * has no such call.
   * @throws {SocketError} `ENOTCONN` (no peer, or a listening socket), `EOPNOTSUPP` outside AF_UNIX.
   */
  peerCredentials(): PeerCredentials {
    const [pid, uid, gid] = call(this.#s, 'getsockopt', native.sockPeerCredentials)
    return { pid: pid ?? null, uid, gid }
  }

  /**
   * Sets an option: an integer (booleans as 0/1) or raw bytes for a C struct (SO_LINGER's
   * `struct linger`, say). setsockopt(2); Python's `socket.setsockopt`.
   * @throws {SocketError} `ENOPROTOOPT` (unknown option), `EINVAL` (bad value), `EPERM`.
   */
  setsockopt(
    level: number,
    optname: number,
    value: number | boolean | ArrayBufferView | ArrayBuffer,
  ): void {
    v.cint(level, 'level')
    v.cint(optname, 'optname')
    const s = this.#s
    if (typeof value === 'number' || typeof value === 'boolean') {
      const n = typeof value === 'boolean' ? Number(value) : v.cint(value, 'value')
      call(s, 'setsockopt', native.sockSetsockoptInt, level, optname, n)
    } else {
      call(s, 'setsockopt', native.sockSetsockoptBytes, level, optname, v.bytes(value, 'value'))
    }
  }

  /**
   * Reads an option: an integer, or with `buflen` (1 to 1024) its raw bytes. getsockopt(2);
   * Python's `socket.getsockopt`.
   * @throws {SocketError} `ENOPROTOOPT`; {@link RangeError} for `buflen` outside 1 to 1024.
   */
  getsockopt(level: number, optname: number): number
  getsockopt(level: number, optname: number, buflen: number): Buffer
  getsockopt(level: number, optname: number, buflen?: number): number | Buffer {
    v.cint(level, 'level')
    v.cint(optname, 'optname')
    const s = this.#s
    if (buflen === undefined) return call(s, 'getsockopt', native.sockGetsockoptInt, level, optname)
    v.int(buflen, 'buflen', 1, 1024)
    return call(s, 'getsockopt', native.sockGetsockoptBytes, level, optname, buflen)
  }

  /**
   * The TCP connection's state and counters: `getsockopt(IPPROTO_TCP, TCP_INFO)` on Linux,
   * `TCP_CONNECTION_INFO` on macOS. `state` is a name such as `'LISTEN'` or `'ESTABLISHED'`;
   * times are µs; fields the platform does not report are `null`. Python has no such call
   * (it is `getsockopt(IPPROTO_TCP, TCP_INFO, n)` and a struct unpack there).
   * @throws {SocketError} `EOPNOTSUPP` (not TCP: UDP, Unix; platforms without it), `EBADF`.
   */
  tcpInfo(): TcpInfo {
    return { ...TCP_INFO_NULLS, ...call(this.#s, 'getsockopt', native.sockTcpInfo) } as TcpInfo
  }

  /**
   * Receives up to `buffers.length` datagrams (at most 1024) in one call, one per buffer:
   * recvmmsg(2) on Linux, a recvmsg(2) loop elsewhere. Returns how many arrived; `lengths[i]`
   * is datagram `i`'s size (the bytes written; its full size with `flags: MSG_TRUNC` on Linux),
   * and `options.addresses` / `options.msgFlags` (filled in place when given) its sender (a run
   * of datagrams from one sender shares one array) and flags (`MSG_TRUNC` when it did not fit). Only the first datagram is
   * waited for (blocking, or up to the timeout); then whatever is queued is taken, so a
   * partial batch is normal. An empty `buffers` returns 0. Python has no such call.
   * @throws {SocketError} `EAGAIN` (non-blocking, nothing queued), `ETIMEDOUT`, `ECONNREFUSED`.
   */
  recvmanyInto(
    buffers: Iterable<ArrayBufferView>,
    lengths: Int32Array,
    options?: RecvManyOptions,
  ): number {
    return batch.recvmanyInto(this.#s, buffers, lengths, options)
  }

  /**
   * `recvmanyInto` with MSG_DONTWAIT: the count or `-errno` (`-EAGAIN` when nothing is
   * queued, `-EBADF` once closed). For a Poller's loop; Python has no such call.
   * @throws {TypeError} / {@link RangeError} for bad arguments; never for OS errors.
   */
  tryRecvmanyInto(
    buffers: Iterable<ArrayBufferView>,
    lengths: Int32Array,
    options?: RecvManyOptions,
  ): number {
    return batch.tryRecvmanyInto(this.#s, buffers, lengths, options)
  }

  /**
   * `recvmanyInto` without blocking: resolves with the count once at least one datagram has
   * arrived. `options` takes `recvmanyInto`'s (`addresses`, `msgFlags`, `flags`) and
   * `signal` / `timeout`. The buffers must stay as they are until it settles. recvmmsg(2)
   * with MSG_DONTWAIT (a recvmsg(2) loop elsewhere), again each time the loop reports the
   * socket readable. Python has no such call.
   * @throws {SocketError} (rejects) as `recvmanyInto`; `ETIMEDOUT` ({@link TimeoutError}) after
   * `options.timeout`; `EBADF` when closed while pending. {@link AbortError} on `options.signal`.
   */
  recvmanyIntoAsync(
    buffers: Iterable<ArrayBufferView>,
    lengths: Int32Array,
    options?: RecvManyOptions & AsyncOptions,
  ): Promise<number> {
    return batch.recvmanyIntoAsync(this.#s, buffers, lengths, options)
  }

  /**
   * Sends each buffer as one datagram (at most 1024) in one call: sendmmsg(2) on Linux, a
   * sendmsg(2) loop elsewhere. `address` is one destination for all (`[host, port]`, a path),
   * one per buffer (an array of those, as long as `buffers`), or omitted on a connected
   * socket. Returns how many went out: fewer than given when a later datagram fails or, on a
   * non-blocking or timed socket, when the buffer fills (only the first datagram is waited
   * for). An empty `buffers` returns 0. Python has no such call.
   * @throws {SocketError} `EAGAIN`, `ETIMEDOUT`, `EMSGSIZE` (the first datagram is too large),
   * `EDESTADDRREQ` (no address, not connected), `ECONNREFUSED`; {@link GaiError}.
   */
  sendmany(buffers: Iterable<BytesLike>, address?: Destinations, flags = 0): number {
    return batch.sendmany(this.#s, buffers, address, flags)
  }

  /**
   * `sendmany` with MSG_DONTWAIT: the count or `-errno` (`-EAGAIN` when the buffer is full,
   * `-EMSGSIZE`, `-EBADF` once closed). For a Poller's loop; Python has no such call.
   * @throws {TypeError} / {@link RangeError} for bad arguments; {@link GaiError} for a name
   * that does not resolve; never for OS errors.
   */
  trySendmany(buffers: Iterable<BytesLike>, address?: Destinations, flags = 0): number {
    return batch.trySendmany(this.#s, buffers, address, flags)
  }

  /**
   * `sendmany` without blocking: resolves with how many datagrams went out (at least one,
   * for a non-empty `buffers`) once the socket took some. sendmmsg(2) with MSG_DONTWAIT (a
   * sendmsg(2) loop elsewhere), again each time the loop reports the socket writable.
   * Python has no such call.
   * @throws {SocketError} (rejects) as `sendmany`; `ETIMEDOUT` ({@link TimeoutError}) after
   * `options.timeout`; `EBADF` when closed while pending. {@link AbortError} on `options.signal`.
   */
  sendmanyAsync(
    buffers: Iterable<BytesLike>,
    ...args: [options?: AsyncOptions] | OrFlags<[address: Destinations | undefined]>
  ): Promise<number>
  sendmanyAsync(
    buffers: Iterable<BytesLike>,
    address?: Destinations | AsyncOptions,
    flags?: number | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<number> {
    return batch.sendmanyAsync(this.#s, buffers, address, flags, options)
  }

  /**
   * Gives up this socket's event-loop watch, so a transport (ts/transport.ts) can watch the
   * fd: libuv takes one watch per fd.
   * @throws {Error} while async calls are pending.
   */
  [RELEASE_WATCH](): void {
    releaseWatch(this.#s)
  }

  /**
   * Keeps Node's event loop alive while async calls are pending (the default), like a
   * `net.Socket`'s `ref()`.
   */
  ref(): this {
    setKeepAlive(this.#s, true)
    return this
  }

  /** Lets the process exit even while async calls on this socket are pending. */
  unref(): this {
    setKeepAlive(this.#s, false)
    return this
  }

  /**
   * Receives into `buffer` (no copy) without blocking the thread; resolves with the byte
   * count, 0 at end of stream. The socket becomes non-blocking (`gettimeout() === 0`).
   * recv(2) with MSG_DONTWAIT, again each time the loop reports the socket readable;
   * asyncio's `loop.sock_recv_into(sock, buf)`.
   * @throws {SocketError} (rejects) as `recvInto`; `ETIMEDOUT` ({@link TimeoutError}) after
   * `options.timeout`; `EBADF` when closed while pending. {@link AbortError} on `options.signal`.
   */
  recvIntoAsync(
    buffer: BufferLike,
    ...args: [options?: AsyncOptions] | OrFlags<[nbytes: number]>
  ): Promise<number>
  recvIntoAsync(
    buffer: BufferLike,
    nbytes?: number | AsyncOptions,
    flags?: number | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<number> {
    return recvIntoAsync(this.#s, buffer, nbytes, flags, options)
  }

  /**
   * Receives up to `bufsize` bytes without blocking the thread; resolves with them, an empty
   * Buffer at end of stream. recv(2) with MSG_DONTWAIT, again each time the loop reports the
   * socket readable; asyncio's `loop.sock_recv(sock, n)`.
   * @throws {SocketError} (rejects) as `recv`; `ETIMEDOUT` ({@link TimeoutError}) after
   * `options.timeout`; `EBADF` when closed while pending. {@link AbortError} on `options.signal`.
   */
  recvAsync(bufsize: number, ...args: FlagsAndOptions): Promise<Buffer>
  recvAsync(bufsize: number, flags?: number | AsyncOptions, options?: AsyncOptions) {
    return recvAsync(this.#s, bufsize, flags, options)
  }

  /**
   * Receives a datagram without blocking the thread; resolves with `[data, address]`.
   * recvfrom(2) with MSG_DONTWAIT, again each time the loop reports the socket readable;
   * asyncio's `loop.sock_recvfrom(sock, bufsize)`.
   * @throws {SocketError} (rejects) as `recvfrom`; `ETIMEDOUT` ({@link TimeoutError}) after
   * `options.timeout`; `EBADF` when closed while pending. {@link AbortError} on `options.signal`.
   */
  recvfromAsync(bufsize: number, ...args: FlagsAndOptions): Promise<[Buffer, SocketAddress]>
  recvfromAsync(
    bufsize: number,
    flags?: number | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<[Buffer, SocketAddress]> {
    return recvfromAsync(this.#s, bufsize, flags, options)
  }

  /**
   * Sends without blocking the thread; resolves with the bytes sent (maybe fewer than given)
   * once the socket took some. send(2) with MSG_DONTWAIT, again each time the loop reports
   * the socket writable. asyncio has only `sock_sendall`.
   * @throws {SocketError} (rejects) as `send`; `ETIMEDOUT` ({@link TimeoutError}) after
   * `options.timeout`; `EBADF` when closed while pending. {@link AbortError} on `options.signal`.
   */
  sendAsync(data: BytesLike, ...args: FlagsAndOptions): Promise<number>
  sendAsync(
    data: BytesLike,
    flags?: number | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<number> {
    return sendAsync(this.#s, data, flags, options)
  }

  /**
   * Sends all of `data`, waiting on the loop for room as needed; resolves once the kernel
   * took the last byte. On rejection `err.bytesSent` says how much went out (on an
   * AbortError too). send(2) with MSG_DONTWAIT in a loop; asyncio's `loop.sock_sendall`.
   * @throws {SocketError} (rejects) as `send`; `ETIMEDOUT` ({@link TimeoutError}) after
   * `options.timeout`; `EBADF` when closed while pending. {@link AbortError} on `options.signal`.
   */
  sendallAsync(data: BytesLike, ...args: FlagsAndOptions): Promise<void>
  sendallAsync(
    data: BytesLike,
    flags?: number | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<void> {
    return sendallAsync(this.#s, data, flags, options)
  }

  /**
   * Sends a datagram without blocking the thread: `sendtoAsync(data, address, options?)` or
   * `(data, flags, address, options?)`; resolves with the bytes sent. A host name is resolved
   * first, blocking the thread (getaddrinfo(3)). sendto(2) with MSG_DONTWAIT, again each
   * time the loop reports the socket writable; asyncio's `loop.sock_sendto(sock, data, address)`.
   * @throws {SocketError} (rejects) as `sendto`; `ETIMEDOUT` ({@link TimeoutError}) after
   * `options.timeout`; `EBADF` when closed while pending. {@link AbortError} on `options.signal`.
   */
  sendtoAsync(
    data: BytesLike,
    ...args:
      | [address: AddressInput, options?: AsyncOptions]
      | [flags: number, address: AddressInput, options?: AsyncOptions]
  ): Promise<number>
  sendtoAsync(
    data: BytesLike,
    a1: number | AddressInput,
    a2?: unknown,
    a3?: unknown,
  ): Promise<number> {
    return sendtoAsync(this.#s, data, a1, a2, a3)
  }

  /**
   * `sendmsg` without blocking the thread; resolves with the bytes sent once the socket took
   * some. sendmsg(2) with MSG_DONTWAIT, again each time the loop reports the socket
   * writable. asyncio has no `sock_sendmsg`.
   * @throws {SocketError} (rejects) as `sendmsg`; `ETIMEDOUT` ({@link TimeoutError}) after
   * `options.timeout`; `EBADF` when closed while pending. {@link AbortError} on `options.signal`.
   */
  sendmsgAsync(
    buffers: Iterable<BytesLike>,
    ...args:
      | [options?: AsyncOptions]
      | OrFlags<[ancdata: Iterable<AncillaryInput>]>
      | [
          ancdata: Iterable<AncillaryInput>,
          flags: number,
          address: AddressInput | null | undefined,
          options?: AsyncOptions,
        ]
  ): Promise<number>
  sendmsgAsync(
    buffers: Iterable<BytesLike>,
    ancdata?: Iterable<AncillaryInput> | AsyncOptions,
    flags?: number | AsyncOptions,
    address?: AddressInput | null | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<number> {
    return msg.sendmsgAsync(this.#s, buffers, ancdata, flags, address, options)
  }

  /**
   * `recvmsg` without blocking the thread; resolves with `[data, ancdata, msgFlags, address]`
   * (received fds are yours to close). recvmsg(2) with MSG_DONTWAIT, again each time the
   * loop reports the socket readable. asyncio has no `sock_recvmsg`.
   * @throws {SocketError} (rejects) as `recvmsg`; `ETIMEDOUT` ({@link TimeoutError}) after
   * `options.timeout`; `EBADF` when closed while pending. {@link AbortError} on `options.signal`.
   */
  recvmsgAsync(
    bufsize: number,
    ...args: [options?: AsyncOptions] | OrFlags<[ancbufsize: number]>
  ): Promise<RecvmsgResult>
  recvmsgAsync(
    bufsize: number,
    ancbufsize?: number | AsyncOptions,
    flags?: number | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<RecvmsgResult> {
    return msg.recvmsgAsync(this.#s, bufsize, ancbufsize, flags, options)
  }

  /**
   * `recvmsgInto` without blocking the thread; resolves with `[nbytes, ancdata, msgFlags,
   * address]`. The buffers must stay as they are until it settles. recvmsg(2) with
   * MSG_DONTWAIT, again each time the loop reports the socket readable. asyncio has no
   * `sock_recvmsg_into`.
   * @throws {SocketError} (rejects) as `recvmsgInto`; `ETIMEDOUT` ({@link TimeoutError}) after
   * `options.timeout`; `EBADF` when closed while pending. {@link AbortError} on `options.signal`.
   */
  recvmsgIntoAsync(
    buffers: Iterable<BufferLike>,
    ...args: [options?: AsyncOptions] | OrFlags<[ancbufsize: number]>
  ): Promise<RecvmsgIntoResult>
  recvmsgIntoAsync(
    buffers: Iterable<BufferLike>,
    ancbufsize?: number | AsyncOptions,
    flags?: number | AsyncOptions,
    options?: AsyncOptions,
  ): Promise<RecvmsgIntoResult> {
    return msg.recvmsgIntoAsync(this.#s, buffers, ancbufsize, flags, options)
  }

  /**
   * Accepts a connection without blocking the thread; resolves with `[socket, address]`,
   * the new socket blocking and CLOEXEC as from `accept`. `for await (const [conn] of
   * server)` does this in a loop. accept4(2), again each time the loop reports the socket
   * readable; asyncio's `loop.sock_accept(sock)`.
   * @throws {SocketError} (rejects) as `accept`; `ETIMEDOUT` ({@link TimeoutError}) after
   * `options.timeout`; `EBADF` when closed while pending. {@link AbortError} on `options.signal`.
   */
  acceptAsync(options?: AsyncOptions): Promise<[Socket, SocketAddress]> {
    return acceptAsync(this.#s, accepted, options)
  }

  /**
   * Connects without blocking the thread; resolves once connected. A host name is resolved
   * first, blocking the thread (getaddrinfo(3)). A non-blocking connect(2), then waits for
   * the socket to become writable and reads SO_ERROR; asyncio's `loop.sock_connect(sock,
   * address)`.
   * @throws {SocketError} (rejects) as `connect`; `ETIMEDOUT` ({@link TimeoutError}) after
   * `options.timeout`; `EBADF` when closed while pending. {@link AbortError} on `options.signal`.
   */
  connectAsync(address: AddressInput, options?: AsyncOptions): Promise<void> {
    return connectAsync(this.#s, address, options)
  }

  /**
   * Accepted connections, one per iteration, from `acceptAsync()`; ends when the socket is
   * closed. Survives what a server must: a connection that failed before it was accepted
   * (`ECONNABORTED`, ...) is skipped, and out of fds or memory (`EMFILE`, `ENFILE`,
   * `ENOBUFS`, `ENOMEM`) it stops accepting until a Socket of this thread closes, or
   * 100 ms have passed, while clients wait in the backlog (asyncio
   * pauses the same way; libuv instead accepts and drops them). Other errors are thrown.
   */
  [Symbol.asyncIterator](): AsyncGenerator<[Socket, SocketAddress]> {
    return accepting(this, this.#s)
  }

  /**
   * recv(2) with MSG_DONTWAIT into `buffer`: the byte count (0 at end of stream) or `-errno`
   * (`-EAGAIN` when nothing is queued, `-EBADF` once closed). For a Poller's loop. Python
   * has no such call (its non-blocking `recv_into` raises).
   * @throws {TypeError} / {@link RangeError} for bad arguments; never for OS errors.
   */
  tryRecvInto(buffer: BufferLike, nbytes = 0, flags = 0): number {
    const s = this.#s
    // The hot loop's shape (a Buffer, no size, no flags) skips the general checks.
    if (buffer instanceof Uint8Array && nbytes === 0 && flags === 0) return recvAll(s, buffer)
    const buf = v.writable(buffer)
    return recvInto(s.fd, buf, nbytesOf(buf, nbytes), v.cint(flags, 'flags') | MSG_DONTWAIT, 0)
  }

  /**
   * send(2) with MSG_DONTWAIT: the bytes sent or `-errno` (`-EAGAIN` when the buffer is full,
   * `-EPIPE`, `-EBADF` once closed). For a Poller's loop; Python has no such call.
   * @throws {TypeError} / {@link RangeError} for bad arguments; never for OS errors.
   */
  trySend(data: BytesLike, flags = 0): number {
    const s = this.#s
    return send(s.fd, v.bytes(data), v.cint(flags, 'flags') | MSG_DONTWAIT, 0)
  }

  /**
   * accept4(2) without blocking (the socket becomes non-blocking): `[socket, address]` or
   * `-errno` (`-EAGAIN` when no connection waits, `-EMFILE`, `-EBADF` once closed). For a
   * Poller's loop; Python has no such call. Never throws for OS errors.
   */
  tryAccept(): [Socket, SocketAddress] | number {
    const s = this.#s
    if (s.fd !== -1 && s.timeout !== 0) this.settimeout(0)
    const conn = tryAccept(s.h)
    return typeof conn === 'number' ? conn : accepted(s, conn)
  }

  /**
   * What `console.log` and `util.inspect` show, as Python's `repr`:
   * `<Socket fd=5, family=2, type=1, proto=0, laddr=[...]>`.
   */
  [inspect.custom](): string {
    return describe(this)
  }
}

/** The Socket and address of the connection `s`'s socket just accepted (ts/fast.ts `peer`). */
function accepted(s: State, conn: NativeSocket): [Socket, SocketAddress] {
  const fd = acceptedFd()
  const address = peer(conn)
  return [wrap(conn, [fd, s.family, s.type, s.proto, -1], s.proto), address]
}

/** Wraps a native handle this package created (accept, dup, fromfd, socketpair); not exported from the package. */
export function wrap(h: NativeSocket, info?: HandleInfo, proto?: number): Socket {
  adoption.h = h
  adoption.info = info
  adoption.proto = proto
  return new Socket()
}
