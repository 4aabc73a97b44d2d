// The protocol interfaces a service implements: Python asyncio's, with the house naming rule
// (`data_received` -> `dataReceived`). Transports (ts/transport.ts, ts/datagram-transport.ts)
// call them on Node's event loop; every method is optional.
import type { SocketAddress } from './address.js'
import type { DatagramTransport } from './datagram-transport.js'
import type { AbortError, SocketError } from './errors.js'
import type { Transport } from './transport.js'

/** What every protocol may implement (asyncio's `BaseProtocol`). */
export interface BaseProtocol<T = Transport> {
  /** The connection is up; `transport` is how to write to it and close it. */
  connectionMade?(transport: T): void
  /**
   * The connection is gone: `err` is `null` after a normal close (by either side) or an
   * `abort()`, else why it broke (a {@link SocketError} with the errno, `ETIMEDOUT` for an
   * idle timeout, or the error a protocol callback threw). Called exactly once.
   */
  connectionLost?(err: SocketError | AbortError | Error | null): void
  /** The transport's write buffer went over its high-water mark: stop writing for now. */
  pauseWriting?(): void
  /** The write buffer drained to its low-water mark: writing may go on. */
  resumeWriting?(): void
}

/**
 * A stream protocol that gets each read as a Buffer it may keep (asyncio's `Protocol`).
 * Implement `dataReceived`; `eofReceived` returning `true` keeps the write side open after
 * the peer shut down its own (the default closes the transport).
 */
export interface Protocol extends BaseProtocol {
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
export interface BufferedProtocol extends BaseProtocol {
  /** The buffer the next read goes into (not empty); `sizeHint` is -1: any size will do. */
  getBuffer(sizeHint: number): Uint8Array
  /** `nbytes` bytes arrived at the start of the buffer `getBuffer` returned. */
  bufferUpdated(nbytes: number): void
  /** As in {@link Protocol.eofReceived}. */
  eofReceived?(): boolean | undefined
}

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

/** What a stream transport drives: a Protocol or a BufferedProtocol. */
export type StreamProtocol = Protocol | BufferedProtocol

/** Makes a new protocol per connection (asyncio's `protocol_factory`). */
export type ProtocolFactory<P> = () => P
