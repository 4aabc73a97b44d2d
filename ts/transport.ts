// Transport: asyncio's selector socket transport on Node's event loop. The reactor
// (ts/reactor.ts) calls `ready` once per loop turn the socket is ready; a read makes one
// non-blocking recv into one read buffer shared by every transport of the thread (or into
// the BufferedProtocol's own), and write() sends at once, keeping only what the kernel
// would not take. No promise, no timer and no buffer per connection while it is idle.
import type { SocketAddress } from './address.js'
import { native } from './binding.js'
import { addCloseHook, removeCloseHook } from './close-hooks.js'
import {
  AF_UNIX,
  errno,
  IPPROTO_TCP,
  MSG_DONTWAIT,
  SHUT_WR,
  SO_ERROR,
  SOL_SOCKET,
  TCP_NODELAY,
} from './constants.js'
import { cancel, Deadline, start } from './deadlines.js'
import { type AbortError, errnoError, type SocketError, toSocketError } from './errors.js'
import { callConnectionLost, reportProtocolError } from './exception-handler.js'
import { recvAt, send, sendStr, strLength, wouldBlock, writev } from './fast.js'
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
import type { BytesLike } from './validate.js'
import * as v from './validate.js'

const { reactorSetRef, reactorUnwatch } = native

const ETIMEDOUT = errno.ETIMEDOUT as number
const ENOTCONN = errno.ENOTCONN as number

/** A Protocol transport reads up to this much at once (64 KiB, as asyncio reads). */
const READ_SIZE = 65536
/**
 * Protocol transports read into one slab per thread, and each read's Buffer is a view of
 * the bytes it landed on, as `Buffer.allocUnsafe` slices its pool: no copy and no buffer
 * of its own per read. A new slab starts when less than `MIN_WINDOW` is left.
 */
const SLAB_SIZE = 131072
const MIN_WINDOW = 16384
let slab = Buffer.allocUnsafeSlow(SLAB_SIZE)
let slabUsed = 0
/** Node's own Buffer class (the species of Buffer): a view made with it is a real Buffer. */
const FastBuffer = (
  Buffer as unknown as { [Symbol.species]: new (b: ArrayBuffer, off: number, n: number) => Buffer }
)[Symbol.species]

/** Strings up to this many UTF-16 units are encoded by the send itself (fast.ts sendStr), no Buffer. */
const STR_MAX = native.SEND_STR_MAX

/** asyncio's defaults: pause the protocol above 64 KiB buffered, resume at a quarter of that. */
const HIGH_WATER = 65536

/**
 * A stream protocol that gets each read as a Buffer it may keep (asyncio's `Protocol`).
 * Implement `dataReceived`; `eofReceived` returning `true` keeps the write side open after
 * the peer shut down its own (the default closes the transport).
 */
export interface Protocol extends BaseProtocol<Transport> {
  /**
   * Bytes arrived. `data` views the part of the thread's 128 KiB read slab the bytes
   * landed on, which the transport never writes again: keep it as it is, or copy it
   * (`Buffer.from(data)`) when a small piece is kept for long, as with `Buffer.allocUnsafe`.
   */
  dataReceived(data: Buffer): void
  /** The peer shut down its write side; return `true` to keep writing (half-close). */
  eofReceived?(): boolean | undefined
}

/**
 * A stream protocol that receives into buffers of its own, with no copy (asyncio's
 * `BufferedProtocol`): `getBuffer` is asked for the buffer of each read, `bufferUpdated`
 * says how many bytes landed at its start.
 */
export interface BufferedProtocol extends BaseProtocol<Transport> {
  /** The buffer the next read goes into (not empty); `sizeHint` is -1: any size will do. */
  getBuffer(sizeHint: number): Uint8Array
  /** `nbytes` bytes arrived at the start of the buffer `getBuffer` returned. */
  bufferUpdated(nbytes: number): void
  /** As in {@link Protocol.eofReceived}. */
  eofReceived?(): boolean | undefined
}

/** What a stream transport drives: a Protocol or a BufferedProtocol. */
export type StreamProtocol = Protocol | BufferedProtocol

/** A transport's extra info from its socket: `'socket'`, `'peername'`, `'sockname'`, else `fallback`. */
export function extraInfo(sock: Socket, name: string, fallback: unknown): unknown {
  try {
    if (name === 'socket') return sock
    if (name === 'peername') return sock.getpeername()
    if (name === 'sockname') return sock.getsockname()
  } catch {
    // Closed, or not connected.
  }
  return fallback
}

/** What {@link Transport.getExtraInfo} knows. */
export interface TransportExtraInfo {
  /** The peer's address, as `getpeername()` gives it. */
  peername: SocketAddress
  /** The local address, as `getsockname()` gives it. */
  sockname: SocketAddress
  /** The Socket itself, for options; closing it aborts the transport. */
  socket: Socket
}

/** Who hears of a transport's end first (its Server), before its protocol. */
export interface TransportOwner {
  _lost(t: Transport): void
}

/** Options of a stream transport, from the entry points (ts/loop.ts). */
export interface TransportOptions {
  /** Close the connection with `ETIMEDOUT` after this many seconds with no byte received or sent. */
  idleTimeout?: number | null
}

/**
 * A connected stream socket driven on Node's event loop for a protocol: asyncio's
 * `Transport`. Made by `loop.createServer` (one per accepted connection) and
 * `loop.createConnection`; the protocol gets it in `connectionMade`.
 */
export class Transport implements Target {
  readonly #sock: Socket
  #fd: number
  #protocol: StreamProtocol
  /** Set for a BufferedProtocol: reads go into its buffers. */
  #buffered: BufferedProtocol | undefined
  #plain: Protocol | undefined
  readonly #id: number
  /** The uv events armed. */
  #armed = 0
  #reading = true
  #closing = false
  /** Set once the socket is closed and connectionLost is scheduled. */
  #lost = false
  #eof = false
  /** The peer shut down its side: nothing more to read, whatever resumeReading() says. */
  #eofReceived = false
  /** Bytes the kernel has not taken yet, in order. */
  #chunks: Uint8Array[] | undefined
  #size = 0
  #high = HIGH_WATER
  #low = HIGH_WATER / 4
  #writePaused = false
  #idle: Deadline | undefined
  #idleMs = 0
  readonly #onClose = () => this.#stop(null, false)
  #owner: TransportOwner | undefined
  #peer: SocketAddress | undefined

  /** @internal Use `loop.createServer` / `loop.createConnection`. */
  constructor(
    sock: Socket,
    protocol: StreamProtocol,
    options: TransportOptions = {},
    owner?: TransportOwner,
  ) {
    this.#sock = sock
    this.#fd = sock.fileno()
    this.#protocol = protocol
    this.#setKind(protocol)
    this.#owner = owner
    sock[RELEASE_WATCH]()
    if (sock.gettimeout() !== 0) sock.settimeout(0)
    if (sock.family !== AF_UNIX) {
      // asyncio sets TCP_NODELAY on its TCP transports: a small reply must not wait for an ACK.
      try {
        sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
      } catch {
        // Not TCP (SCTP, say): nothing to set.
      }
    }
    this.#id = registerRooted(this)
    // Someone closing the socket under us (getExtraInfo('socket').close()) is an abort.
    addCloseHook(sock, this.#onClose)
    const t = options.idleTimeout
    if (t !== undefined && t !== null) this.#setIdle(v.timeout(t, 'options.idleTimeout'))
  }

  /** @internal Calls connectionMade, then starts reading. */
  start(): void {
    this.#call('connectionMade', this)
    if (!this.#lost) this.#update()
  }

  #setKind(p: StreamProtocol): void {
    const b = p as BufferedProtocol
    if (typeof b.getBuffer === 'function') {
      if (typeof b.bufferUpdated !== 'function')
        throw new TypeError('A BufferedProtocol needs bufferUpdated(nbytes) with getBuffer()')
      this.#buffered = b
      this.#plain = undefined
    } else {
      if (typeof (p as Protocol).dataReceived !== 'function')
        throw new TypeError(
          'A Protocol needs dataReceived(data), or getBuffer() and bufferUpdated()',
        )
      this.#plain = p as Protocol
      this.#buffered = undefined
    }
  }

  /** @internal The reactor: the socket is ready for `ev`. */
  ready(ev: number): void {
    if (ev & ERROR) this.#armed = 0 // libuv stopped the handle; the syscalls say why
    if (ev & (WRITABLE | ERROR) && this.#size > 0) this.#flush()
    if (ev & (READABLE | ERROR) && this.#reading && !this.#lost) this.#read()
    if (!this.#lost) this.#update()
  }

  #read(): void {
    let n: number
    const b = this.#buffered
    if (b !== undefined) {
      let buf: Uint8Array
      try {
        buf = b.getBuffer(-1)
        if (!(buf instanceof Uint8Array) || buf.length === 0)
          throw new TypeError('getBuffer() must return a non-empty Uint8Array')
      } catch (e) {
        this.#protocolError('getBuffer', e)
        return
      }
      n = this.#sock.tryRecvInto(buf)
      if (n > 0) {
        this.#touch()
        try {
          b.bufferUpdated(n)
        } catch (e) {
          this.#protocolError('bufferUpdated', e)
        }
        return
      }
    } else {
      if (SLAB_SIZE - slabUsed < MIN_WINDOW) {
        slab = Buffer.allocUnsafeSlow(SLAB_SIZE)
        slabUsed = 0
      }
      const at = slabUsed
      n = recvAt(this.#fd, slab, at, READ_SIZE, MSG_DONTWAIT)
      if (n > 0) {
        this.#touch()
        // The next read starts 8-aligned, as Node's pool does, so views may be read as words.
        slabUsed = (at + n + 7) & ~7
        const data = new FastBuffer(slab.buffer as ArrayBuffer, at, n)
        try {
          ;(this.#plain as Protocol).dataReceived(data)
        } catch (e) {
          this.#protocolError('dataReceived', e)
        }
        return
      }
    }
    if (n === 0) {
      this.#onEof()
      return
    }
    if (wouldBlock(n)) return
    this.#fatal(errnoError(-n, 'recv'))
  }

  #onEof(): void {
    this.#reading = false
    this.#eofReceived = true
    let keepOpen: unknown
    try {
      keepOpen = (this.#protocol as Protocol).eofReceived?.()
    } catch (e) {
      this.#protocolError('eofReceived', e)
      return
    }
    // Half-open only where a write side is left to use.
    if (!keepOpen || this.#eof) this.close()
  }

  /**
   * Sends `data` (Buffer, TypedArray, DataView, ArrayBuffer, or string as UTF-8) at once;
   * what the kernel does not take is copied and sent as the socket drains, in order. Never
   * blocks. Above the high-water mark the protocol's `pauseWriting()` is called.
   * @throws {Error} after `writeEof()`; {@link TypeError} for data of another type.
   */
  write(data: BytesLike): void {
    // A short string, nothing buffered: encoded by the send itself (a reply header, say).
    if (typeof data === 'string' && data.length <= STR_MAX && this.#size === 0 && !this.#eof) {
      if (this.#lost || data.length === 0) return
      if (v.wellFormed(data)) {
        this.#writeStr(data)
        return
      }
    }
    const b = v.bytes(data)
    if (this.#eof) throw new Error('Cannot call write() after writeEof()')
    if (this.#lost || b.length === 0) return
    if (this.#size === 0) {
      const n = send(this.#fd, b, MSG_DONTWAIT, 0)
      if (n === b.length) {
        if (this.#idle) this.#touch()
        return
      }
      if (n >= 0) this.#keep(b.subarray(n))
      else if (wouldBlock(n)) this.#keep(b)
      else {
        this.#fatal(errnoError(-n, 'send'))
        return
      }
      this.#update()
    } else this.#keep(b)
    this.#checkHigh()
  }

  #writeStr(s: string): void {
    const n = sendStr(this.#fd, s, MSG_DONTWAIT)
    if (n < 0 && !wouldBlock(n)) {
      this.#fatal(errnoError(-n, 'send'))
      return
    }
    if (n === strLength) {
      if (this.#idle) this.#touch()
      return
    }
    const sent = Math.max(n, 0)
    this.#keep(Buffer.from(s).subarray(sent))
    this.#update()
    this.#checkHigh()
  }

  /** Writes each item in turn, as `write` (asyncio's `writelines`). */
  writelines(list: Iterable<BytesLike>): void {
    for (const data of list) this.write(data)
  }

  #keep(b: Uint8Array): void {
    // A copy: the caller may reuse its buffer once write() returns.
    this.#chunks ??= []
    this.#chunks.push(Uint8Array.prototype.slice.call(b))
    this.#size += b.length
  }

  /** Sends what is buffered, as much as the kernel takes (one writev of up to 64 chunks). */
  #flush(): void {
    const chunks = this.#chunks as Uint8Array[]
    const count = Math.min(chunks.length, 64)
    const n =
      count === 1
        ? send(this.#fd, chunks[0] as Uint8Array, MSG_DONTWAIT, 0)
        : writev(this.#fd, chunks.slice(0, count), MSG_DONTWAIT)
    if (n < 0) {
      if (wouldBlock(n)) return
      this.#fatal(errnoError(-n, 'send'))
      return
    }
    this.#touch()
    this.#size -= n
    let left = n
    while (left > 0) {
      const head = chunks[0] as Uint8Array
      if (head.length > left) {
        chunks[0] = head.subarray(left)
        break
      }
      left -= head.length
      chunks.shift()
    }
    if (this.#writePaused && this.#size <= this.#low) {
      this.#writePaused = false
      this.#call('resumeWriting')
    }
    if (this.#size === 0 && !this.#lost) {
      if (this.#eof) this.#shutdown()
      if (this.#closing) this.#stop(null, true)
    }
  }

  #checkHigh(): void {
    if (!this.#writePaused && this.#size > this.#high) {
      this.#writePaused = true
      this.#call('pauseWriting')
    }
  }

  /** Shuts down the write side once the buffer drains; reads go on (asyncio's `write_eof`). */
  writeEof(): void {
    if (this.#eof) return
    // Later writes throw even while a close() drains: the caller said it was done writing.
    this.#eof = true
    if (!this.#closing && this.#size === 0) this.#shutdown()
  }

  #shutdown(): void {
    try {
      this.#sock.shutdown(SHUT_WR)
    } catch (e) {
      // A reset not yet read makes shutdown(2) say ENOTCONN; the reset itself waits in
      // SO_ERROR, and is what the protocol should hear.
      let pending = 0
      if ((e as SocketError).errno === ENOTCONN) {
        try {
          pending = this.#sock.getsockopt(SOL_SOCKET, SO_ERROR)
        } catch {}
      }
      this.#fatal(
        pending ? errnoError(pending, 'shutdown') : (toSocketError(e, 'shutdown') as SocketError),
      )
    }
  }

  /** Stream sockets can half-close: `true`. */
  canWriteEof(): boolean {
    return true
  }

  /**
   * Closes after the write buffer drains; no more data is received. The protocol's
   * `connectionLost(null)` follows, once. A second call does nothing.
   */
  close(): void {
    if (this.#closing) return
    this.#closing = true
    this.#reading = false
    if (this.#size === 0) this.#stop(null, true)
    else this.#update()
  }

  /** Closes at once, dropping what is buffered; `connectionLost(null)` follows. */
  abort(): void {
    this.#stop(null, true)
  }

  /** Whether `close()` or `abort()` was called, or the connection was lost. */
  isClosing(): boolean {
    return this.#closing || this.#lost
  }

  /** Stops reading until `resumeReading()`: the kernel buffers, then the peer waits. */
  pauseReading(): void {
    if (this.#closing || !this.#reading) return
    this.#reading = false
    this.#update()
  }

  /** Reads again after `pauseReading()`. */
  resumeReading(): void {
    if (this.#closing || this.#reading || this.#eofReceived) return
    this.#reading = true
    this.#update()
  }

  /** Whether the transport is reading (not paused, not closing). */
  isReading(): boolean {
    return this.#reading && !this.#lost
  }

  /**
   * Sets the write buffer's water marks in bytes (asyncio's defaults: 64 KiB, and a quarter
   * of `high` for `low`): above `high` the protocol's `pauseWriting()` is called, at `low`
   * or below `resumeWriting()`.
   * @throws {RangeError} unless `high >= low >= 0`.
   */
  setWriteBufferLimits(high?: number, low?: number): void {
    const h = high === undefined ? (low === undefined ? HIGH_WATER : 4 * low) : high
    const l = low === undefined ? Math.floor(h / 4) : low
    v.size(h, 'high')
    v.size(l, 'low')
    if (l > h) throw new RangeError(`high (${h}) must be >= low (${l})`)
    this.#high = h
    this.#low = l
    this.#checkHigh()
  }

  /** `[low, high]`. */
  getWriteBufferLimits(): [low: number, high: number] {
    return [this.#low, this.#high]
  }

  /** Bytes written but not yet taken by the kernel. */
  getWriteBufferSize(): number {
    return this.#size
  }

  /**
   * `'peername'`, `'sockname'` (addresses as `getpeername()` gives them) or `'socket'` (the
   * Socket, for options: `tcpInfo()`, `setsockopt`; closing it aborts the transport).
   * Anything else is `fallback`.
   */
  getExtraInfo<K extends keyof TransportExtraInfo>(name: K): TransportExtraInfo[K] | undefined
  getExtraInfo<T>(name: string, fallback: T): T
  getExtraInfo(name: string, fallback?: unknown): unknown {
    // Kept once asked, so connectionLost can still log it (asyncio keeps it from the start).
    if (name === 'peername') {
      this.#peer ??= extraInfo(this.#sock, name, undefined) as SocketAddress | undefined
      return this.#peer ?? fallback
    }
    return extraInfo(this.#sock, name, fallback)
  }

  /** The protocol that gets what comes next (asyncio's `get_protocol`). */
  getProtocol(): StreamProtocol {
    return this.#protocol
  }

  /** Switches the protocol that gets what comes next (asyncio's `set_protocol`). */
  setProtocol(protocol: StreamProtocol): void {
    this.#setKind(protocol)
    this.#protocol = protocol
  }

  /**
   * Closes the connection with `ETIMEDOUT` after `seconds` with no byte received or sent
   * (`null`: never). One timer serves every transport with the same timeout.
   */
  setIdleTimeout(seconds: number | null): void {
    this.#setIdle(v.timeout(seconds, 'seconds'))
  }

  #setIdle(seconds: number | null): void {
    if (this.#idle) cancel(this.#idle)
    if (seconds === null) {
      this.#idle = undefined
      return
    }
    this.#idleMs = Math.max(1, Math.ceil(seconds * 1000))
    this.#idle = new Deadline(() => this.#fatal(errnoError(ETIMEDOUT, 'recv')), true)
    if (!this.#lost) start(this.#idle, this.#idleMs)
  }

  #touch(): void {
    const d = this.#idle
    if (d === undefined) return
    cancel(d)
    start(d, this.#idleMs)
  }

  /** Arms what the transport waits for: reading (unless paused), writing while buffered. */
  #update(): void {
    const want = (this.#reading ? READABLE : 0) | (this.#size > 0 ? WRITABLE : 0)
    if (want === this.#armed) return
    try {
      watchFd(this.#id, this.#fd, want, 'handing it to a transport')
    } catch (e) {
      this.#fatal(e as SocketError)
      return
    }
    // A new uv handle starts ref'ed; a paused, idle transport keeps nothing alive.
    if (this.#armed === 0 && want !== 0) reactorSetRef(this.#id, true)
    this.#armed = want
  }

  #call(name: string, arg?: unknown): void {
    const p = this.#protocol as unknown as Record<string, ((a?: unknown) => void) | undefined>
    try {
      p[name]?.(arg)
    } catch (e) {
      this.#protocolError(name, e)
    }
  }

  /** A protocol callback threw: report it, and the connection ends with that error. */
  #protocolError(name: string, e: unknown): void {
    reportProtocolError(name, e, this, this.#protocol)
    this.#stop(e as Error, true)
  }

  /** The connection broke (an errno, or an idle timeout): it ends with that error. */
  #fatal(err: SocketError): void {
    this.#stop(err, true)
  }

  /**
   * Ends the connection now: stops watching, closes the socket (unless it is closing under
   * us), and schedules `connectionLost(err)` once.
   */
  #stop(err: SocketError | AbortError | Error | null, closeSocket: boolean): void {
    if (this.#lost) return
    this.#lost = true
    this.#closing = true
    this.#reading = false
    this.#chunks = undefined
    this.#size = 0
    if (this.#idle) cancel(this.#idle)
    removeCloseHook(this.#sock, this.#onClose)
    reactorUnwatch(this.#id)
    unregister(this.#id)
    this.#armed = 0
    if (closeSocket) {
      try {
        this.#sock.close()
      } catch {
        // close(2)'s error: the fd is gone either way.
      }
    }
    this.#fd = -1
    queueMicrotask(() => {
      this.#owner?._lost(this)
      callConnectionLost(this.#protocol, err, this)
    })
  }
}
