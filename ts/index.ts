/**
 * bsd-sockets: the BSD socket API for Node.js, with Python's socket and select vocabulary.
 *
 * The constants (`AF_INET`, `SOCK_STREAM`, `SO_REUSEADDR`, `POLLIN`, `AI_PASSIVE`, ...) are
 * Python's `socket` and `select` integer constants by name, with this platform's values read
 * from libc; they are not documented one by one (their man pages and Python's `socket` docs
 * say what each means). Names every supported Unix has are `number`; platform-only names
 * are `number | undefined`. `errno` maps errno names to numbers.
 * @packageDocumentation
 */
export type {
  AddressInput,
  AddrInfo,
  Destinations,
  IPv4Address,
  IPv6Address,
  IPv6AddressInput,
  SocketAddress,
  UnixAddress,
} from './address.js'
export type { AsyncOptions, FlagsAndOptions, OrFlags } from './async.js'
export { MAX_BATCH, type RecvManyOptions } from './batch.js'
export * from './constants.js'
export {
  type DatagramExtraInfo,
  type DatagramProtocol,
  DatagramTransport,
} from './datagram-transport.js'
export {
  AbortError,
  BlockingIOError,
  BrokenPipeError,
  ConnectionAbortedError,
  ConnectionError,
  ConnectionRefusedError,
  ConnectionResetError,
  type ErrnoCode,
  GaiError,
  SocketError,
  TimeoutError,
} from './errors.js'
export type { ExceptionContext, ExceptionHandler } from './exception-handler.js'
export { recvFds, sendFds } from './fds.js'
export { inetAton, inetNtoa, inetNtop, inetPton } from './inet.js'
export {
  type DatagramEndpointOptions,
  type LoopConnectionOptions,
  type LoopServerOptions,
  type LoopUnixServerOptions,
  loop,
} from './loop.js'
export {
  type Ancillary,
  type AncillaryInput,
  CMSG_LEN,
  CMSG_SPACE,
  type PeerCredentials,
  type RecvmsgIntoResult,
  type RecvmsgResult,
} from './msg.js'
export {
  POLLER_EDGE,
  POLLER_ONESHOT,
  type Pollable,
  type PollCallback,
  type PollEvent,
  Poller,
  type PollerBackend,
  type PollerOptions,
} from './poller.js'
export type { BaseProtocol, ProtocolFactory } from './protocols.js'
export {
  type CreateServerOptions,
  createConnection,
  createServer,
  getaddrinfo,
  getnameinfo,
} from './resolve.js'
export { type Selectable, select } from './select.js'
export { Server, type ServerOptions } from './server.js'
export { Socket } from './socket.js'
export {
  fromfd,
  getdefaulttimeout,
  setdefaulttimeout,
  socket,
  socketpair,
} from './socket-functions.js'
export type { SyncSocket } from './sync-socket.js'
export type { TcpInfo, TcpState } from './tcp-info.js'
export {
  type BufferedProtocol,
  type Protocol,
  type StreamProtocol,
  Transport,
  type TransportExtraInfo,
  type TransportOptions,
} from './transport.js'
export type { BufferLike, BytesLike } from './validate.js'
