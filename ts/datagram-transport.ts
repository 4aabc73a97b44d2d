// DatagramTransport: asyncio's datagram transport on Node's event loop. Reads take every
// queued datagram in batches (recvmmsg on Linux) into one buffer set shared by the thread's
// datagram transports, each datagram copied out for the protocol; sendto sends at once and
// queues only what the kernel refused with EAGAIN.
import type { AddressInput, SocketAddress } from './address.js'
import { native } from './binding.js'
import { onClose } from './close-hooks.js'
import { errno, MSG_DONTWAIT } from './constants.js'
import { type AbortError, errnoError, GaiError, SocketError } from './errors.js'
import { callConnectionLost, reportProtocolError } from './exception-handler.js'
import { wouldBlock } from './fast.js'
import type { BaseProtocol } from './protocols.js'
import {
  ERROR,
  READABLE,
  registerRooted,
  type Target,
  unregister,
  WRITABLE,
  watchFd,
} from './reactor.js'
import { RELEASE_WATCH, type Socket } from './socket.js'
import { extraInfo } from './transport.js'
import type { BytesLike } from './validate.js'
import * as v from './validate.js'

const { reactorSetRef, reactorUnwatch } = native

/** A datagram protocol (asyncio's `DatagramProtocol`). */
export interface DatagramProtocol extends BaseProtocol<DatagramTransport> {
  /** A datagram arrived from `address` (null when the sender has none, e.g. unbound AF_UNIX). */
  datagramReceived(data: Buffer, address: SocketAddress | null): void
  /**
   * A send or receive failed without ending the endpoint, e.g. `ECONNREFUSED` on a
   * connected UDP socket after an ICMP port unreachable.
   */
  errorReceived?(err: SocketError): void
}

/** Datagrams taken per recvmmsg, and rounds per loop turn (fairness to other sockets). */
const BATCH = 16
const ROUNDS = 4
const DGRAM_MAX = 65536
let bufs: Buffer[] | undefined
const lengths = new Int32Array(BATCH)
const senders: (SocketAddress | null)[] = []
const recvOptions = { addresses: senders }
/**
 * Whether the batch calls exist here: Windows has no recvmmsg and fails every batch with
 * EOPNOTSUPP, so there a transport reads and sends one datagram per call.
 */
const BATCHES = process.platform !== 'win32'

/** What {@link DatagramTransport.getExtraInfo} knows. */
export interface DatagramExtraInfo {
  /** The connected peer's address (`remoteAddr`), as `getpeername()` gives it. */
  peername: SocketAddress
  /** The local address, as `getsockname()` gives it. */
  sockname: SocketAddress
  /** The Socket itself, for options; closing it aborts the transport. */
  socket: Socket
}

/** A datagram socket driven on Node's event loop for a DatagramProtocol. */
export class DatagramTransport implements Target {
  readonly #sock: Socket
  readonly #protocol: DatagramProtocol
  readonly #id: number
  #armed = 0
  #closing = false
  #lost = false
  /** Datagrams refused with EAGAIN, in order: [data, address]. */
  #queue: [Uint8Array, AddressInput | undefined][] = []
  #size = 0
  readonly #offClose: () => void

  /** @internal Use `loop.createDatagramEndpoint`. */
  constructor(sock: Socket, protocol: DatagramProtocol) {
    if (typeof protocol?.datagramReceived !== 'function')
      throw new TypeError('A DatagramProtocol needs datagramReceived(data, address)')
    this.#sock = sock
    this.#protocol = protocol
    sock[RELEASE_WATCH]()
    if (sock.gettimeout() !== 0) sock.settimeout(0)
    this.#id = registerRooted(this)
    this.#offClose = onClose(sock, () => this.#stop(null, false))
  }

  /**
   * @internal Watches the socket, then calls connectionMade. A watch libuv refuses (EEXIST:
   * a Poller holds the fd) throws, with this transport already undone: the protocol never
   * heard of it and the socket is left as it was.
   */
  start(): void {
    try {
      this.#update()
    } catch (e) {
      this.#lost = true
      this.#offClose()
      unregister(this.#id)
      throw e
    }
    try {
      this.#protocol.connectionMade?.(this)
    } catch (e) {
      this.#protocolError('connectionMade', e)
      return
    }
    if (!this.#lost) this.#update()
  }

  /** @internal */
  ready(ev: number): void {
    if (ev & ERROR) this.#armed = 0
    if (ev & (WRITABLE | ERROR) && this.#queue.length > 0) this.#flush()
    if (ev & (READABLE | ERROR) && !this.#closing) this.#read()
    if (!this.#lost) this.#update()
  }

  #read(): void {
    bufs ??= Array.from({ length: BATCH }, () => Buffer.allocUnsafeSlow(DGRAM_MAX))
    for (let round = 0; round < ROUNDS && !this.#closing; round++) {
      const n = BATCHES
        ? this.#sock.tryRecvmanyInto(bufs, lengths, recvOptions)
        : this.#tryRecvEach(bufs)
      if (n < 0) {
        if (!wouldBlock(n)) this.#error(errnoError(-n, 'recvmmsg'))
        return
      }
      for (let i = 0; i < n && !this.#closing; i++) {
        const len = Math.min(lengths[i] as number, DGRAM_MAX)
        const data = Buffer.allocUnsafe(len)
        ;(bufs[i] as Buffer).copy(data, 0, 0, len)
        try {
          this.#protocol.datagramReceived(data, senders[i] ?? null)
        } catch (e) {
          this.#protocolError('datagramReceived', e)
          return
        }
      }
      if (n < BATCH) return
    }
  }

  /**
   * Sends `data` as one datagram to `address` (omitted on a connected socket), at once;
   * queued if the kernel has no room (EAGAIN). A send error goes to `errorReceived`.
   */
  sendto(data: BytesLike, address?: AddressInput): void {
    const b = v.bytes(data)
    if (this.#closing) return
    if (this.#queue.length === 0) {
      const n = address === undefined ? this.#sock.trySend(b) : this.#trySendto(b, address)
      if (n >= 0) return
      if (!wouldBlock(n)) {
        this.#error(errnoError(-n, 'sendto'))
        return
      }
    }
    this.#queue.push([Uint8Array.prototype.slice.call(b), address])
    this.#size += b.length
    this.#update()
  }

  /**
   * `tryRecvmanyInto` without a batch call (Windows): recvfrom with MSG_DONTWAIT into each
   * buffer until one would wait; the count, or `-errno` if the first one failed (a later
   * failure ends the batch and comes again from the next call, as recvmmsg leaves it).
   */
  #tryRecvEach(into: Buffer[]): number {
    let n = 0
    for (; n < into.length; n++) {
      try {
        const [len, from] = this.#sock.recvfromInto(into[n] as Buffer, 0, MSG_DONTWAIT as number)
        lengths[n] = len
        senders[n] = from ?? null
      } catch (e) {
        if (!(e instanceof SocketError)) throw e
        return n > 0 ? n : -e.errno
      }
    }
    return n
  }

  #trySendto(b: Uint8Array, address: AddressInput): number {
    if (!BATCHES) {
      // No batch call here (Windows): sendto with MSG_DONTWAIT, its OS error as `-errno`.
      try {
        return this.#sock.sendto(b, MSG_DONTWAIT as number, address)
      } catch (e) {
        if (!(e instanceof SocketError) || e instanceof GaiError) throw e
        return -e.errno
      }
    }
    // sendmany of one: the no-throw sendto, with the address checked and resolved as sendto's.
    const n = this.#sock.trySendmany([b], address)
    return n === 1 ? b.length : n === 0 ? -(errno.EAGAIN as number) : n
  }

  #flush(): void {
    while (this.#queue.length > 0) {
      const [b, address] = this.#queue[0] as [Uint8Array, AddressInput | undefined]
      const n = address === undefined ? this.#sock.trySend(b) : this.#trySendto(b, address)
      if (wouldBlock(n)) return
      this.#queue.shift()
      this.#size -= b.length
      if (n < 0) this.#error(errnoError(-n, 'sendto'))
    }
    if (this.#closing) this.#stop(null, true)
  }

  #error(err: SocketError): void {
    try {
      this.#protocol.errorReceived?.(err)
    } catch (e) {
      this.#protocolError('errorReceived', e)
    }
  }

  /** Bytes queued for sending. */
  getWriteBufferSize(): number {
    return this.#size
  }

  /** `'peername'` (connected sockets), `'sockname'`, `'socket'`; anything else is `fallback`. */
  getExtraInfo<K extends keyof DatagramExtraInfo>(name: K): DatagramExtraInfo[K] | undefined
  getExtraInfo<T>(name: string, fallback: T): T
  getExtraInfo(name: string, fallback?: unknown): unknown {
    return extraInfo(this.#sock, name, fallback)
  }

  /** Closes once the queued datagrams are sent; `connectionLost(null)` follows, once. */
  close(): void {
    if (this.#closing) return
    this.#closing = true
    if (this.#queue.length === 0) this.#stop(null, true)
  }

  /** Closes at once, dropping queued datagrams. */
  abort(): void {
    this.#stop(null, true)
  }

  /** Whether `close()` or `abort()` was called or the socket closed: asyncio's `is_closing`. */
  isClosing(): boolean {
    return this.#closing
  }

  #update(): void {
    const want = (this.#closing ? 0 : READABLE) | (this.#queue.length > 0 ? WRITABLE : 0)
    if (want === this.#armed) return
    watchFd(this.#id, this.#sock.fileno(), want, 'handing it to a transport')
    if (this.#armed === 0 && want !== 0) reactorSetRef(this.#id, true)
    this.#armed = want
  }

  #protocolError(name: string, e: unknown): void {
    reportProtocolError(name, e, this, this.#protocol)
    this.#stop(e as Error, true)
  }

  #stop(err: Error | AbortError | null, closeSocket: boolean): void {
    if (this.#lost) return
    this.#lost = true
    this.#closing = true
    this.#queue = []
    this.#size = 0
    this.#offClose()
    reactorUnwatch(this.#id)
    unregister(this.#id)
    if (closeSocket) {
      try {
        this.#sock.close()
      } catch {
        // The fd is gone either way.
      }
    }
    queueMicrotask(() => callConnectionLost(this.#protocol, err, this))
  }
}
