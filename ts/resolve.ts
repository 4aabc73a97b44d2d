// getaddrinfo and Python's two helpers built on it: createConnection, createServer.
import { isIPv4 } from 'node:net'
import type { AddrInfo, IPv4Address, IPv6AddressInput } from './address.js'
import { native } from './binding.js'
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  AF_UNSPEC,
  errno,
  IPPROTO_IPV6,
  IPV6_V6ONLY,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SOCK_STREAM,
  SOL_SOCKET,
} from './constants.js'
import { errnoError, toSocketError } from './errors.js'
import { Socket } from './socket.js'
import { isFilePath, removeStale, unlinkOnClose } from './unix-server.js'
import * as v from './validate.js'

/**
 * Resolves `host` and `port` (a number or a service name like `'http'`): Python's
 * `socket.getaddrinfo`, returning `[family, type, proto, canonname, address][]`.
 * getaddrinfo(3); blocks the calling thread while the resolver works.
 * @throws {GaiError} `EAI_NONAME` (unknown host), `EAI_SERVICE` (unknown service), ...
 */
export function getaddrinfo(
  host: string | null,
  port: number | string | null,
  family = 0,
  type = 0,
  proto = 0,
  flags = 0,
): AddrInfo[] {
  if (host !== null && typeof host !== 'string') {
    throw new TypeError(
      `The "host" argument must be a string or null. Received ${v.typeName(host)}`,
    )
  }
  if (host?.includes('\0')) throw new TypeError('The "host" argument must not contain null bytes')
  if (host !== null) v.utf8(host, 'The "host" argument')
  let service: string | null = null
  if (typeof port === 'number') service = String(v.int(port, 'port', 0, 65535))
  else if (typeof port === 'string') {
    if (port.includes('\0')) throw new TypeError('The "port" argument must not contain null bytes')
    service = v.utf8(port, 'The "port" argument')
  } else if (port !== null) {
    throw new TypeError(
      `The "port" argument must be a number, a service name or null. Received ${v.typeName(port)}`,
    )
  }
  v.cint(family, 'family')
  v.cint(type, 'type')
  v.cint(proto, 'proto')
  v.cint(flags, 'flags')
  try {
    return native.getaddrinfo(host, service, family, type, proto, flags) as AddrInfo[]
  } catch (e) {
    throw toSocketError(e, 'getaddrinfo', host ?? undefined)
  }
}

/**
 * The host and service names of a numeric address, `[host, port]` (IPv4) or `[host, port,
 * flowinfo?, scopeId?]` (IPv6): Python's `socket.getnameinfo(sockaddr, flags)`, returning
 * `[host, service]`. With `NI_NUMERICHOST` / `NI_NUMERICSERV` the numbers come back as text;
 * otherwise the resolver (hosts file, services file, DNS) is asked, blocking the thread.
 * getnameinfo(3).
 * @throws {GaiError} `EAI_NONAME` (the host is not a numeric address, whatever the length of
 * `sockaddr`, or `NI_NAMEREQD` and no name), `EAI_BADFLAGS`; TypeError / RangeError for a
 * malformed `sockaddr` (an IPv4 address with more than `[host, port]`, a port out of range).
 */
export function getnameinfo(
  sockaddr: [host: string, port: number] | IPv6AddressInput,
  flags: number,
): [host: string, service: string] {
  if (!Array.isArray(sockaddr) || sockaddr.length < 2 || sockaddr.length > 4) {
    throw new TypeError(
      `The "sockaddr" argument must be a [host, port] or [host, port, flowinfo?, scopeId?] array. Received ${v.typeName(sockaddr)}`,
    )
  }
  // Python reads the host first (getaddrinfo with AI_NUMERICHOST), then the tuple's length:
  // a name is EAI_NONAME however many items follow it (the native call says so, with no
  // lookup); only an IPv4 address must come as [host, port].
  const host: unknown = sockaddr[0]
  const family = typeof host === 'string' && isIPv4(host) ? AF_INET : AF_INET6
  const [h, port, flowinfo, scopeId] = v.address(sockaddr, family, 'sockaddr')
  v.cint(flags, 'flags')
  try {
    return native.getnameinfo(h, port, flowinfo, scopeId, flags) as [string, string]
  } catch (e) {
    throw toSocketError(e, 'getnameinfo', h)
  }
}

/**
 * Connects a TCP socket to `[host, port]`, trying every address the name resolves to in
 * turn (Python's `socket.create_connection`). `timeout` (seconds, or `null` for blocking)
 * is set on the socket before connecting and stays set; not given, the socket keeps the
 * default timeout (`setdefaulttimeout`). `sourceAddress` is bound first. getaddrinfo(3), then
 * socket(2) and connect(2) per address.
 * @throws {SocketError} the last address's error (`ECONNREFUSED`, `ETIMEDOUT`, ...), or {@link GaiError}.
 */
export function createConnection(
  address: [host: string, port: number],
  timeout?: number | null,
  sourceAddress?: [host: string, port: number],
): Socket {
  if (!Array.isArray(address) || address.length !== 2)
    throw new TypeError('The "address" argument must be a [host, port] array')
  const [host, port] = address
  // As Python's: not given keeps the default timeout (setdefaulttimeout), null is blocking.
  const t = timeout === undefined ? undefined : v.timeout(timeout)
  let last: unknown
  for (const [family, type, proto, , addr] of getaddrinfo(host, port, AF_UNSPEC, SOCK_STREAM)) {
    const sock = new Socket(family, type, proto)
    try {
      if (t !== undefined) sock.settimeout(t)
      if (sourceAddress) sock.bind(sourceAddress)
      sock.connect(addr as IPv4Address)
      return sock
    } catch (e) {
      last = e
      sock.close()
    }
  }
  throw last
}

/** Options of {@link createServer}. */
export interface CreateServerOptions {
  /** `AF_INET` (default), `AF_INET6`, or `AF_UNIX` (the default for a path string). */
  family?: number
  /** Listen queue length; default `min(SOMAXCONN, 128)`. */
  backlog?: number
  /** Set SO_REUSEPORT so several sockets (processes, threads) can listen on the port. */
  reusePort?: boolean
  /** On AF_INET6, also accept IPv4 connections (IPV6_V6ONLY off). */
  dualstackIpv6?: boolean
  /**
   * AF_UNIX: remove the socket file when the server is closed (default `true`, as asyncio's
   * `create_unix_server(cleanup_socket=True)`), if it is still the file this server bound.
   */
  cleanupSocket?: boolean
}

/**
 * Sets SO_REUSEPORT; where the platform has no such option (Windows) fails as setsockopt(2)
 * does for an unknown one, with `ENOPROTOOPT`.
 */
export function setReusePort(sock: Socket): void {
  if (SO_REUSEPORT === undefined) throw errnoError(errno.ENOPROTOOPT as number, 'setsockopt')
  sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)
}

/**
 * A listening stream socket on `address`: Python's `socket.create_server` for TCP
 * (SO_REUSEADDR set on POSIX; not on Windows, where it would let another socket bind the
 * port while this one listens: Python leaves it unset there), and for a path string an
 * AF_UNIX server as asyncio's `create_unix_server` makes it: a socket file a dead server
 * left at `path` is removed first (any other file is left, and bind fails with
 * `EADDRINUSE`), and the server's own is removed by `close()` unless `cleanupSocket` is
 * false. A name starting with `'\0'` is a Linux abstract name, with no file. socket(2),
 * setsockopt(2), bind(2), listen(2).
 * @throws {SocketError} `EADDRINUSE`, `EADDRNOTAVAIL`, `ENOPROTOOPT` when SO_REUSEPORT is
 *   unsupported, `EACCES` / `ENOENT` for a path that cannot be created.
 */
export function createServer(
  address: IPv4Address | IPv6AddressInput | string,
  options: CreateServerOptions = {},
): Socket {
  const unix = typeof address === 'string'
  const {
    family = unix ? AF_UNIX : AF_INET,
    backlog,
    reusePort = false,
    dualstackIpv6 = false,
    cleanupSocket = true,
  } = v.options<CreateServerOptions>(options) ?? {}
  if (dualstackIpv6 && family !== AF_INET6)
    throw new TypeError('dualstackIpv6 needs family AF_INET6')
  if (unix !== (family === AF_UNIX))
    throw new TypeError('A path string address needs family AF_UNIX, and AF_UNIX a path string')
  if (typeof cleanupSocket !== 'boolean')
    throw new TypeError(
      `The "options.cleanupSocket" property must be a boolean. Received ${v.typeName(cleanupSocket)}`,
    )
  const sock = new Socket(family, SOCK_STREAM)
  try {
    if (unix) {
      v.address(address, AF_UNIX)
      if (isFilePath(address)) removeStale(address)
    } else if (process.platform !== 'win32') sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    if (reusePort) setReusePort(sock)
    if (family === AF_INET6) sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, dualstackIpv6 ? 0 : 1)
    sock.bind(address)
    if (unix && cleanupSocket && isFilePath(address)) unlinkOnClose(sock, address)
    sock.listen(backlog)
    return sock
  } catch (e) {
    sock.close()
    throw e
  }
}
