// `loop`: asyncio's event-loop entry points for protocols and transports, on Node's own loop
// (each worker thread has its own). Python's `await loop.create_server(factory, host, port)`
// is `await loop.createServer(factory, host, port)` here.
import type { AddressInput, SocketAddress } from './address.js'
import {
  AF_INET,
  AF_UNIX,
  AF_UNSPEC,
  SO_BROADCAST,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
} from './constants.js'
import { type DatagramProtocol, DatagramTransport } from './datagram-transport.js'
import {
  callExceptionHandler,
  defaultExceptionHandler,
  getExceptionHandler,
  setExceptionHandler,
} from './exception-handler.js'
import type { ProtocolFactory } from './protocols.js'
import { getaddrinfo, createServer as listen, setReusePort } from './resolve.js'
import { Server, type ServerOptions } from './server.js'
import { Socket } from './socket.js'
import { type StreamProtocol, Transport, type TransportOptions } from './transport.js'
import * as v from './validate.js'

/** Options of {@link loop.createServer}. */
export interface LoopServerOptions extends ServerOptions {
  /** Serve this socket (bound; listening or not) instead of making one. */
  sock?: Socket
  /** `AF_INET` (default) or `AF_INET6` for the socket made. */
  family?: number
  /** SO_REUSEPORT on the socket made: several servers (processes, workers) on one port. */
  reusePort?: boolean
  /** On AF_INET6, also accept IPv4 connections. */
  dualstackIpv6?: boolean
}

/** Options of {@link loop.createUnixServer}. */
export interface LoopUnixServerOptions extends ServerOptions {
  /** Serve this AF_UNIX socket instead of making one. */
  sock?: Socket
  /** Remove the socket file on close (default `true`, as Python 3.13's `cleanup_socket`). */
  cleanupSocket?: boolean
}

/** Options of {@link loop.createConnection}. */
export interface LoopConnectionOptions extends TransportOptions {
  /** A connected stream socket to use instead of connecting one. */
  sock?: Socket
  /** Bind to this address before connecting (asyncio's `local_addr`). */
  localAddr?: AddressInput
  /** Seconds to wait for each address's connect; `ETIMEDOUT` after. */
  timeout?: number
  /** Aborts connecting (`AbortError`). */
  signal?: AbortSignal
}

/** Options of {@link loop.createDatagramEndpoint}. */
export interface DatagramEndpointOptions {
  /** Bind to this address (asyncio's `local_addr`). */
  localAddr?: AddressInput
  /** Connect to this address: `sendto(data)` needs no address, and only it is heard from. */
  remoteAddr?: AddressInput
  /** Address family when neither address says it (default `AF_INET`; `AF_UNIX` for paths). */
  family?: number
  /** SO_REUSEPORT before binding. */
  reusePort?: boolean
  /** SO_BROADCAST. */
  allowBroadcast?: boolean
  /** Use this datagram socket instead of making one. */
  sock?: Socket
}

function serverArgs(
  host: string | null | LoopServerOptions | undefined,
  port: number | null | undefined,
  options: LoopServerOptions | undefined,
): [string, number, LoopServerOptions] {
  if (typeof host === 'object' && host !== null) return ['', 0, host]
  return [host ?? '', port ?? 0, v.options<LoopServerOptions>(options) ?? {}]
}

// The entry points' documentation is on `loop` below, where the API reference reads it.

async function createServer(
  protocolFactory: ProtocolFactory<StreamProtocol>,
  host?: string | null | LoopServerOptions,
  port?: number | null,
  options?: LoopServerOptions,
): Promise<Server> {
  checkFactory(protocolFactory)
  const [h, p, o] = serverArgs(host, port, options)
  const sock =
    o.sock ??
    listen([h, p], {
      family: o.family,
      backlog: o.backlog,
      reusePort: o.reusePort,
      dualstackIpv6: o.dualstackIpv6,
    })
  return serveOn(sock, o.sock === undefined, protocolFactory, o)
}

/** A Server on `sock`, which is closed if the call `made` it and serving it fails. */
function serveOn(
  sock: Socket,
  made: boolean,
  protocolFactory: ProtocolFactory<StreamProtocol>,
  o: ServerOptions,
): Server {
  try {
    return new Server([checkSocket(sock, SOCK_STREAM)], protocolFactory, o)
  } catch (e) {
    if (made) sock.close()
    throw e
  }
}

async function createUnixServer(
  protocolFactory: ProtocolFactory<StreamProtocol>,
  path: string | null,
  options: LoopUnixServerOptions = {},
): Promise<Server> {
  checkFactory(protocolFactory)
  const o = v.options<LoopUnixServerOptions>(options) ?? {}
  const sock =
    o.sock ?? listen(path as string, { backlog: o.backlog, cleanupSocket: o.cleanupSocket })
  return serveOn(sock, o.sock === undefined, protocolFactory, o)
}

async function createConnection<P extends StreamProtocol>(
  protocolFactory: ProtocolFactory<P>,
  host?: string | LoopConnectionOptions,
  port?: number,
  options?: LoopConnectionOptions,
): Promise<[Transport, P]> {
  checkFactory(protocolFactory)
  let o: LoopConnectionOptions
  let sock: Socket
  if (typeof host === 'object' && host !== null) {
    o = host
    if (!o.sock) throw new TypeError('loop.createConnection needs a host and port, or options.sock')
    sock = checkSocket(o.sock, SOCK_STREAM)
  } else {
    o = v.options<LoopConnectionOptions>(options) ?? {}
    sock = await connect(getaddrinfo(host ?? null, port ?? null, AF_UNSPEC, SOCK_STREAM), o)
  }
  return start(sock, protocolFactory, o, sock !== o.sock)
}

async function createUnixConnection<P extends StreamProtocol>(
  protocolFactory: ProtocolFactory<P>,
  path: string,
  options: LoopConnectionOptions = {},
): Promise<[Transport, P]> {
  checkFactory(protocolFactory)
  const o = v.options<LoopConnectionOptions>(options) ?? {}
  const sock = await connect([[AF_UNIX, SOCK_STREAM, 0, '', path]], o)
  return start(sock, protocolFactory, o, true)
}

async function connect(
  addresses: [number, number, number, string, SocketAddress][],
  o: LoopConnectionOptions,
): Promise<Socket> {
  let last: unknown
  for (const [family, type, proto, , address] of addresses) {
    const sock = new Socket(family, type, proto)
    try {
      if (o.localAddr !== undefined) sock.bind(o.localAddr)
      await sock.connectAsync(address, { signal: o.signal, timeout: o.timeout })
      return sock
    } catch (e) {
      sock.close()
      last = e
      if (o.signal?.aborted) break
    }
  }
  throw last
}

/** Drives `sock` for a new protocol; if that fails, closes it only if it was made here (`own`). */
function start<P extends StreamProtocol>(
  sock: Socket,
  protocolFactory: ProtocolFactory<P>,
  o: TransportOptions,
  own: boolean,
): [Transport, P] {
  let protocol: P
  let t: Transport
  try {
    protocol = protocolFactory()
    t = new Transport(sock, protocol, o)
  } catch (e) {
    // The caller's own socket stays theirs (one with async calls pending is refused, say).
    if (own) sock.close()
    throw e
  }
  t.start()
  return [t, protocol]
}

async function createDatagramEndpoint<P extends DatagramProtocol>(
  protocolFactory: ProtocolFactory<P>,
  options: DatagramEndpointOptions,
): Promise<[DatagramTransport, P]> {
  checkFactory(protocolFactory)
  const o = v.options<DatagramEndpointOptions>(options) ?? {}
  let sock = o.sock
  if (sock) checkSocket(sock, SOCK_DGRAM)
  else {
    const path = typeof o.localAddr === 'string' || typeof o.remoteAddr === 'string'
    sock = new Socket(o.family ?? (path ? AF_UNIX : AF_INET), SOCK_DGRAM)
    try {
      if (o.reusePort) setReusePort(sock)
      if (o.allowBroadcast) sock.setsockopt(SOL_SOCKET, SO_BROADCAST, 1)
      if (o.localAddr !== undefined) sock.bind(o.localAddr)
      if (o.remoteAddr !== undefined) await sock.connectAsync(o.remoteAddr)
    } catch (e) {
      sock.close()
      throw e
    }
  }
  let protocol: P
  let t: DatagramTransport
  try {
    protocol = protocolFactory()
    t = new DatagramTransport(sock, protocol)
  } catch (e) {
    if (!o.sock) sock.close()
    throw e
  }
  t.start()
  return [t, protocol]
}

function checkFactory(f: unknown): void {
  if (typeof f !== 'function')
    throw new TypeError(
      `The "protocolFactory" argument must be a function. Received ${v.typeName(f)}`,
    )
}

function checkSocket(s: unknown, type: number): Socket {
  if (!(s instanceof Socket))
    throw new TypeError(`The "sock" option must be a Socket. Received ${v.typeName(s)}`)
  if (s.type !== type)
    throw new TypeError(
      `The "sock" option must be a ${type === SOCK_STREAM ? 'SOCK_STREAM' : 'SOCK_DGRAM'} socket`,
    )
  return s
}

/**
 * asyncio's event-loop methods for protocols and transports, on Node's event loop: the
 * service-writing API. One per thread (each worker has its own).
 * @namespace
 */
export const loop = {
  /**
   * Serves `protocolFactory` on `[host, port]` (`''` / null: every IPv4 interface; port 0:
   * any free port, read it from `server.sockets[0].getsockname()`), or on `options.sock`:
   * asyncio's `loop.create_server`. socket(2) with SO_REUSEADDR (as Python's), bind(2),
   * listen(2); then accept4(2) from the event loop, each connection with a {@link Transport}
   * and a new protocol. Resolves with the {@link Server}.
   * @throws {SocketError} (rejects) `EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`, `ENOPROTOOPT`
   *   (`reusePort` unsupported); {@link GaiError} for a host that does not resolve;
   *   {@link TypeError} for a factory that is no function or a `sock` that is no SOCK_STREAM
   *   Socket.
   */
  createServer,
  /**
   * Serves `protocolFactory` on the Unix socket `path` (or `options.sock`): asyncio's
   * `loop.create_unix_server`. A socket file a dead server left is removed first, and the
   * server's own when it closes (unless `cleanupSocket: false`). socket(2), bind(2), listen(2).
   * @throws {SocketError} (rejects) `EADDRINUSE` (a live server, or a file that is no socket,
   *   at `path`), `EACCES` / `ENOENT` (the file cannot be created); {@link TypeError}.
   */
  createUnixServer,
  /**
   * Connects to `[host, port]`, trying each address the name resolves to in turn (or takes
   * the connected `options.sock`), and drives the connection for a new protocol: asyncio's
   * `loop.create_connection`. getaddrinfo(3) (blocking the thread while it resolves), then a
   * non-blocking connect(2) per address as `connectAsync` makes it. Resolves with
   * `[transport, protocol]` once connected; `connectionMade` has run by then.
   * @throws {SocketError} (rejects) the last address's error (`ECONNREFUSED`, `ETIMEDOUT`
   *   after `options.timeout`, `ENETUNREACH`, ...); {@link GaiError}; {@link AbortError}
   *   (`options.signal`); {@link TypeError}.
   */
  createConnection,
  /**
   * Connects to the Unix socket `path` and drives the connection for a new protocol:
   * asyncio's `loop.create_unix_connection`. A non-blocking connect(2), as `connectAsync`.
   * Resolves with `[transport, protocol]`.
   * @throws {SocketError} (rejects) `ENOENT` (no socket file), `ECONNREFUSED` (nobody
   *   listens), `EACCES`, `ETIMEDOUT` (`options.timeout`); {@link AbortError}; {@link TypeError}.
   */
  createUnixConnection,
  /**
   * A datagram endpoint for a new protocol: asyncio's `loop.create_datagram_endpoint`.
   * socket(2), then bind(2) to `localAddr` and/or connect(2) to `remoteAddr` (or takes
   * `options.sock`); resolves with `[transport, protocol]`.
   * @throws {SocketError} (rejects) `EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`, `ENOPROTOOPT`
   *   (`reusePort` unsupported); {@link GaiError}; {@link TypeError} for a factory that is no
   *   function or a `sock` that is no SOCK_DGRAM Socket.
   */
  createDatagramEndpoint,
  /**
   * Sets this thread's exception handler, `null` for the default: asyncio's
   * `loop.set_exception_handler`.
   * @throws {TypeError} for a handler that is neither a function nor `null`.
   */
  setExceptionHandler,
  /** The handler set, or `null` for the default: asyncio's `loop.get_exception_handler`. */
  getExceptionHandler,
  /**
   * Reports `context` to the handler (asyncio's `loop.call_exception_handler`); an error the
   * handler throws goes to the default handler, never to the caller.
   */
  callExceptionHandler,
  /** Logs the message and the error to stderr: asyncio's `loop.default_exception_handler`. */
  defaultExceptionHandler,
}
