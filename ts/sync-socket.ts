// SyncSocket: the calls of Python's socket object that run on the calling thread (blocking,
// timed or non-blocking), over the native handle; what CPython's C `_socket.socket` is to its
// `socket.socket`. ts/socket.ts's Socket adds what constructs sockets (accept, dup) and the
// event-loop forms. Its State (ts/socket-state.ts) is what the modules holding the calls share.
import type { Socket as NetSocket } from 'node:net'
import { inspect } from 'node:util'
import { fdClosed } from './accept-errors.js'
import type { AddressInput, Destinations, SocketAddress } from './address.js'
import { defaults, takeHandle } from './adoption.js'
import { stopWatching } from './async.js'
import type { RecvManyOptions } from './batch.js'
import * as batch from './batch.js'
import { native } from './binding.js'
import { runCloseHooks } from './close-hooks.js'
import { AF_INET, SOCK_STREAM, SOMAXCONN } from './constants.js'
import { errnoError } from './errors.js'
import { recvInto, send, sendall, unkeep } from './fast.js'
import type { AncillaryInput, PeerCredentials, RecvmsgIntoResult, RecvmsgResult } from './msg.js'
import * as msg from './msg.js'
import { describe, toNetSocket } from './node-handoff.js'
import { applyTimeout, call, callAt, fail, nbytesOf, State, shrink } from './socket-state.js'
import { TCP_INFO_NULLS, type TcpInfo } from './tcp-info.js'
import type { BufferLike, BytesLike } from './validate.js'
import * as v from './validate.js'

/** A socket's State, for the modules whose functions reach the fd (ts/socket.ts, ts/fds.ts); not exported from the package. */
export let stateOf: (sock: SyncSocket) => State

/**
 * The synchronous half of {@link Socket}: every call of Python's `socket.socket` that runs
 * on the calling thread. Make sockets with `new Socket()` / `socket()`; this class only
 * holds the calls they share.
 *
 * Calls block by default (use them in worker threads and scripts); `setblocking(false)` makes
 * them throw `BlockingIOError` (`code` `'EAGAIN'`) instead of waiting, and `settimeout(s)`
 * makes them wait at most `s` seconds, then throw `TimeoutError` (`code` `'ETIMEDOUT'`).
 * A closed socket never touches its old fd number again: every call throws `EBADF`.
 */
export class SyncSocket {
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
   * open), `EINVAL` (a control message the kernel rejects), `ETOOMANYREFS`; on Windows, which
   * has no sendmsg for sockets of every kind, `WSAEOPNOTSUPP`.
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
   * @throws {SocketError} `EAGAIN`, `ETIMEDOUT`, `ENOTCONN`, `ECONNRESET`; `WSAEOPNOTSUPP` on
   * Windows; RangeError if `ancbufsize` is over 1 MiB.
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
    const s = this.#release(true)
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
    return native.sockDetach(this.#release(false).h)
  }

  /**
   * What close() and detach() share: the close hooks run (`closing`: the fd is about to be
   * closed, not handed on), pending async calls end, and the fd number and the kept receive
   * buffer are let go, so nothing here touches that fd number again.
   */
  #release(closing: boolean): State {
    const s = this.#s
    runCloseHooks(this, closing)
    stopWatching(s)
    s.fd = -1
    unkeep(s)
    return s
  }

  /**
   * Hands a stream connection (TCP or AF_UNIX) to Node's own stack: detaches the fd and
   * returns `new net.Socket({ fd, allowHalfOpen })`. libuv makes the fd non-blocking and
   * closes it when the net.Socket is destroyed; this Socket acts as detached afterwards
   * (`fileno()` -1). TLS goes on top: `tls.connect({ socket: sock.toNetSocket(), ... })`.
   * A listening socket goes to `server.listen({ fd: sock.detach() }, backlog)` instead.
   * @throws {SocketError} `EBADF` (closed), `EOPNOTSUPP` (not a TCP or AF_UNIX stream, or on
   * Windows, where Node takes C runtime descriptors only, never a Winsock handle), `EINVAL`
   * (listening); the socket then stays open and yours.
   */
  toNetSocket(options?: { allowHalfOpen?: boolean }): NetSocket {
    return toNetSocket(this, options)
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
   * @throws {SocketError} `ENOTCONN` (no peer, or a listening socket), `EOPNOTSUPP` outside
   * AF_UNIX and on Windows.
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
   * What `console.log` and `util.inspect` show, as Python's `repr`:
   * `<Socket fd=5, family=2, type=1, proto=0, laddr=[...]>`.
   */
  [inspect.custom](): string {
    return describe(this)
  }
}
