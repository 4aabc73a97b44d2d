// What every protocol a service implements shares: Python asyncio's `BaseProtocol`, with the
// house naming rule (`connection_made` -> `connectionMade`). Each kind of protocol is declared
// beside the transport that drives it (ts/transport.ts, ts/datagram-transport.ts), so the
// types depend one way: transports on this file, never the reverse.
import type { AbortError, SocketError } from './errors.js'

/** What every protocol may implement (asyncio's `BaseProtocol`). */
export interface BaseProtocol<T> {
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

/** Makes a new protocol per connection (asyncio's `protocol_factory`). */
export type ProtocolFactory<P> = () => P
