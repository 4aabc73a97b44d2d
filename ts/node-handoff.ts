// A Socket handed to Node's own stack (toNetSocket), and how one prints (util.inspect): what
// the Socket class shows through its public methods alone.
import { closeSync } from 'node:fs'
import { Socket as NetSocket } from 'node:net'
import { inspect } from 'node:util'
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  errno,
  SO_ACCEPTCONN,
  SOCK_STREAM,
  SOL_SOCKET,
} from './constants.js'
import { errnoError } from './errors.js'
import * as v from './validate.js'

/** What these read of a Socket: its public face, so this module needs nothing of socket.ts. */
interface SocketLike {
  readonly family: number
  readonly type: number
  readonly proto: number
  fileno(): number
  detach(): number
  getsockopt(level: number, optname: number): number
  getsockname(): unknown
}

const EBADF = errno.EBADF as number
const EINVAL = errno.EINVAL as number
const EOPNOTSUPP = errno.EOPNOTSUPP as number

/** `sock.toNetSocket(options)`: the checks, then the fd detached into a `net.Socket`. */
export function toNetSocket(sock: SocketLike, options?: { allowHalfOpen?: boolean }): NetSocket {
  v.options(options)
  if (sock.fileno() < 0) throw errnoError(EBADF, 'toNetSocket')
  // Node's `fd` is a C runtime descriptor on Windows, never a Winsock handle: it cannot adopt one.
  if (process.platform === 'win32') throw errnoError(EOPNOTSUPP, 'toNetSocket')
  // Node takes TCP and Unix stream sockets only (else ERR_INVALID_FD_TYPE after detach).
  const family = sock.family === AF_INET || sock.family === AF_INET6 || sock.family === AF_UNIX
  if (!family || sock.type !== SOCK_STREAM) throw errnoError(EOPNOTSUPP, 'toNetSocket')
  if (sock.getsockopt(SOL_SOCKET, SO_ACCEPTCONN)) throw errnoError(EINVAL, 'toNetSocket')
  // Only options that cannot throw once Node has opened the fd (a bad `signal` would).
  const fd = sock.detach()
  try {
    return new NetSocket({ fd, allowHalfOpen: options?.allowHalfOpen })
  } catch (e) {
    closeSync(fd) // Node refused it: the fd is no one's, so it does not leak
    throw e
  }
}

/** Python's repr of a socket: `<Socket fd=5, family=2, type=1, proto=0, laddr=[...]>`. */
export function describe(sock: SocketLike): string {
  const fd = sock.fileno()
  if (fd < 0) return `<Socket [closed] family=${sock.family} type=${sock.type} proto=${sock.proto}>`
  let laddr = ''
  try {
    laddr = `, laddr=${inspect(sock.getsockname())}`
  } catch {}
  return `<Socket fd=${fd}, family=${sock.family}, type=${sock.type}, proto=${sock.proto}${laddr}>`
}
