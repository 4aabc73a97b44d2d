// Socket: Python's socket object. SyncSocket (ts/sync-socket.ts) holds the calls that run on
// the calling thread; this class adds the ones that construct sockets (accept, dup), the
// event-loop forms (async, try*, the batch forms) and ref/unref. Each is a short delegation to
// the module holding its work: ts/fast.ts, ts/async.ts, ts/batch.ts, ts/msg.ts.
import { accepting } from './accept-errors.js'
import type { AddressInput, Destinations, SocketAddress } from './address.js'
import { adoption, type HandleInfo } from './adoption.js'
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
} from './async.js'
import type { RecvManyOptions } from './batch.js'
import * as batch from './batch.js'
import { type NativeSocket, native } from './binding.js'
import { MSG_DONTWAIT } from './constants.js'
import { accept, acceptedFd, peer, recvAll, recvInto, send, tryAccept } from './fast.js'
import type { AncillaryInput, RecvmsgIntoResult, RecvmsgResult } from './msg.js'
import * as msg from './msg.js'
import { call, nbytesOf, type State } from './socket-state.js'
import { SyncSocket, stateOf } from './sync-socket.js'
import type { BufferLike, BytesLike } from './validate.js'
import * as v from './validate.js'

/** Drops a Socket's own watch for a transport (ts/transport.ts); not exported from the package. */
export const RELEASE_WATCH: unique symbol = Symbol('releaseWatch')

/**
 * A BSD socket, with Python's `socket.socket` methods and semantics: the calls of
 * {@link SyncSocket} (blocking, timed or non-blocking, as Python's), plus accept, dup and
 * the event-loop forms.
 *
 * The `*Async` methods wait on Node's event loop (asyncio's `loop.sock_*`): they make
 * the socket non-blocking, run in call order per direction, and reject rather than throw,
 * with the sync form's errors, `TimeoutError` (`ETIMEDOUT`) after `options.timeout`,
 * `AbortError` on `options.signal`, `EBADF` when the socket is closed while they wait, and
 * TypeError / RangeError for bad arguments.
 */
export class Socket extends SyncSocket {
  /**
   * Accepts a connection: `[socket, address]`; the new socket is blocking and CLOEXEC.
   * accept4(2) (accept(2) and fcntl(2) on macOS); Python's `socket.accept`.
   * @throws {SocketError} `EAGAIN` (non-blocking), `ETIMEDOUT` (timeout), `EINVAL` (not
   * listening), `EMFILE` / `ENFILE` (out of fds), `ECONNABORTED`.
   */
  accept(): [Socket, SocketAddress] {
    const s = stateOf(this)
    return accepted(s, call(s, 'accept', accept))
  }

  /**
   * A new Socket on a duplicate (CLOEXEC) fd of the same connection, in the same mode.
   * fcntl(2) `F_DUPFD_CLOEXEC`; Python's `socket.dup`.
   * @throws {SocketError} `EBADF` (closed), `EMFILE`.
   */
  dup(): Socket {
    return call(stateOf(this), 'dup', (h) => wrap(native.sockDup(h), undefined, this.proto))
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
    return batch.tryRecvmanyInto(stateOf(this), buffers, lengths, options)
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
    return batch.recvmanyIntoAsync(stateOf(this), buffers, lengths, options)
  }

  /**
   * `sendmany` with MSG_DONTWAIT: the count or `-errno` (`-EAGAIN` when the buffer is full,
   * `-EMSGSIZE`, `-EBADF` once closed). For a Poller's loop; Python has no such call.
   * @throws {TypeError} / {@link RangeError} for bad arguments; {@link GaiError} for a name
   * that does not resolve; never for OS errors.
   */
  trySendmany(buffers: Iterable<BytesLike>, address?: Destinations, flags = 0): number {
    return batch.trySendmany(stateOf(this), buffers, address, flags)
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
    return batch.sendmanyAsync(stateOf(this), buffers, address, flags, options)
  }

  /**
   * Gives up this socket's event-loop watch, so a transport (ts/transport.ts) can watch the
   * fd: libuv takes one watch per fd.
   * @throws {Error} while async calls are pending.
   */
  [RELEASE_WATCH](): void {
    releaseWatch(stateOf(this))
  }

  /**
   * Keeps Node's event loop alive while async calls are pending (the default), like a
   * `net.Socket`'s `ref()`.
   */
  ref(): this {
    setKeepAlive(stateOf(this), true)
    return this
  }

  /** Lets the process exit even while async calls on this socket are pending. */
  unref(): this {
    setKeepAlive(stateOf(this), false)
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
    return recvIntoAsync(stateOf(this), buffer, nbytes, flags, options)
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
    return recvAsync(stateOf(this), bufsize, flags, options)
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
    return recvfromAsync(stateOf(this), bufsize, flags, options)
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
    return sendAsync(stateOf(this), data, flags, options)
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
    return sendallAsync(stateOf(this), data, flags, options)
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
    return sendtoAsync(stateOf(this), data, a1, a2, a3)
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
    return msg.sendmsgAsync(stateOf(this), buffers, ancdata, flags, address, options)
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
    return msg.recvmsgAsync(stateOf(this), bufsize, ancbufsize, flags, options)
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
    return msg.recvmsgIntoAsync(stateOf(this), buffers, ancbufsize, flags, options)
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
    return acceptAsync(stateOf(this), accepted, options)
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
    return connectAsync(stateOf(this), address, options)
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
    return accepting(this, stateOf(this))
  }

  /**
   * recv(2) with MSG_DONTWAIT into `buffer`: the byte count (0 at end of stream) or `-errno`
   * (`-EAGAIN` when nothing is queued, `-EBADF` once closed). For a Poller's loop. Python
   * has no such call (its non-blocking `recv_into` raises).
   * @throws {TypeError} / {@link RangeError} for bad arguments; never for OS errors.
   */
  tryRecvInto(buffer: BufferLike, nbytes = 0, flags = 0): number {
    const s = stateOf(this)
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
    const s = stateOf(this)
    return send(s.fd, v.bytes(data), v.cint(flags, 'flags') | MSG_DONTWAIT, 0)
  }

  /**
   * accept4(2) without blocking (the socket becomes non-blocking): `[socket, address]` or
   * `-errno` (`-EAGAIN` when no connection waits, `-EMFILE`, `-EBADF` once closed). For a
   * Poller's loop; Python has no such call. Never throws for OS errors.
   */
  tryAccept(): [Socket, SocketAddress] | number {
    const s = stateOf(this)
    if (s.fd !== -1 && s.timeout !== 0) this.settimeout(0)
    const conn = tryAccept(s.h)
    return typeof conn === 'number' ? conn : accepted(s, conn)
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
