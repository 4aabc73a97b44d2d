// SocketError and Python's OSError subclasses, built from what the addon throws.
import { native } from './binding.js'

/** Errno names a socket call commonly fails with; any other OS name is possible too. */
export type ErrnoCode =
  | 'EAGAIN'
  | 'EWOULDBLOCK'
  | 'EINPROGRESS'
  | 'EALREADY'
  | 'EBADF'
  | 'ENOTSOCK'
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'ECONNABORTED'
  | 'EPIPE'
  | 'ETIMEDOUT'
  | 'ENOTCONN'
  | 'EISCONN'
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'EAFNOSUPPORT'
  | 'EPROTONOSUPPORT'
  | 'EOPNOTSUPP'
  | 'ENOPROTOOPT'
  | 'EINVAL'
  | 'EACCES'
  | 'EPERM'
  | 'ENOENT'
  | 'EMFILE'
  | 'ENFILE'
  | 'ENOBUFS'
  | 'EMSGSIZE'
  | 'ENAMETOOLONG'
  | 'ENETUNREACH'
  | 'EHOSTUNREACH'
  | 'EAI_NONAME'
  | 'EAI_AGAIN'
  | 'EAI_FAIL'
  | 'EAI_FAMILY'
  | 'EAI_SERVICE'
  | 'EAI_SOCKTYPE'
  // Windows: Winsock's names of the same errors.
  | 'WSAEWOULDBLOCK'
  | 'WSAEINPROGRESS'
  | 'WSAEALREADY'
  | 'WSAENOTSOCK'
  | 'WSAECONNREFUSED'
  | 'WSAECONNRESET'
  | 'WSAECONNABORTED'
  | 'WSAESHUTDOWN'
  | 'WSAETIMEDOUT'
  | 'WSAENOTCONN'
  | 'WSAEISCONN'
  | 'WSAEADDRINUSE'
  | 'WSAEADDRNOTAVAIL'
  | 'WSAEAFNOSUPPORT'
  | 'WSAEOPNOTSUPP'
  | 'WSAENOPROTOOPT'
  | 'WSAEINVAL'
  | 'WSAEACCES'
  | 'WSAEMFILE'
  | 'WSAENOBUFS'
  | 'WSAEMSGSIZE'
  | 'WSAENETUNREACH'
  | 'WSAEHOSTUNREACH'
  | 'WSAHOST_NOT_FOUND'
  // Any other name the OS reports; `& {}` keeps editor completion for the names above.
  | (string & {})

/**
 * A failed socket call, with the OS's errno.
 *
 * `code` is the C name (`'ECONNREFUSED'`; on Windows Winsock's, `'WSAECONNREFUSED'`),
 * `errno` the positive OS number (`=== errno.ECONNREFUSED` of this package, which on Unix is
 * `os.constants.errno`'s and on Windows Winsock's 10061; note that Node's own
 * `SystemError.errno` is the negated libuv value, ours is the OS value, as in Python),
 * `syscall` the call that failed. `address`/`port` are set when an address was involved. The message reads
 * like Node's: `connect ECONNREFUSED 127.0.0.1:9999`.
 */
export class SocketError extends Error {
  /** The errno's C name: `'ECONNREFUSED'` (Windows: `'WSAECONNREFUSED'`). */
  readonly code: ErrnoCode
  /** The OS's errno, positive (Python's `OSError.errno`); Node's `SystemError.errno` is negated. */
  readonly errno: number
  /** The call that failed: `'connect'`, `'recv'`, ... */
  readonly syscall: string
  /** The host or path the call was given, when it was given one. */
  readonly address?: string
  /** The port the call was given, with `address`, for IP families. */
  readonly port?: number
  /**
   * For `sendall` / `sendallAsync`: how many bytes went out before the error. Absent on
   * other errors (`declare`: no own property unless a send loop sets it).
   */
  declare bytesSent?: number

  constructor(code: ErrnoCode, errno: number, syscall: string, address?: string, port?: number) {
    const where =
      address === undefined ? '' : port === undefined ? ` ${address}` : ` ${address}:${port}`
    super(`${syscall} ${code}${where}`)
    this.code = code
    this.errno = errno
    this.syscall = syscall
    if (address !== undefined) this.address = address
    if (port !== undefined) this.port = port
  }

  /** The class's name (`'ConnectionRefusedError'`), so subclasses print as themselves. */
  override get name(): string {
    return this.constructor.name
  }
}

/**
 * EAGAIN / EWOULDBLOCK / EINPROGRESS / EALREADY (Windows: WSAEWOULDBLOCK, WSAEINPROGRESS,
 * WSAEALREADY): a non-blocking call would have waited.
 */
export class BlockingIOError extends SocketError {}
/** Base of the connection errors, as in Python. */
export class ConnectionError extends SocketError {}
/** EPIPE / ESHUTDOWN: writing to a connection the other side (or we) shut down. */
export class BrokenPipeError extends ConnectionError {}
/** ECONNABORTED. */
export class ConnectionAbortedError extends ConnectionError {}
/** ECONNREFUSED: nothing listens at the address. */
export class ConnectionRefusedError extends ConnectionError {}
/** ECONNRESET: the peer reset the connection. */
export class ConnectionResetError extends ConnectionError {}
/** ETIMEDOUT: a timed call (`settimeout(seconds)`) or the kernel gave up waiting. */
export class TimeoutError extends SocketError {}
/**
 * A getaddrinfo failure (Python's `socket.gaierror`): `code` is `'EAI_NONAME'` etc. and
 * `errno` the platform's EAI_* value (negative on glibc), which is not an OS errno.
 */
export class GaiError extends SocketError {}

// Windows' codes carry Winsock's names (WSAEWOULDBLOCK) and map as Python maps them there.
const kinds: Record<string, typeof SocketError> = {
  EAGAIN: BlockingIOError,
  EWOULDBLOCK: BlockingIOError,
  EINPROGRESS: BlockingIOError,
  EALREADY: BlockingIOError,
  EPIPE: BrokenPipeError,
  ESHUTDOWN: BrokenPipeError,
  ECONNABORTED: ConnectionAbortedError,
  ECONNREFUSED: ConnectionRefusedError,
  ECONNRESET: ConnectionResetError,
  ETIMEDOUT: TimeoutError,
  WSAEWOULDBLOCK: BlockingIOError,
  WSAEINPROGRESS: BlockingIOError,
  WSAEALREADY: BlockingIOError,
  WSAESHUTDOWN: BrokenPipeError,
  WSAECONNABORTED: ConnectionAbortedError,
  WSAECONNREFUSED: ConnectionRefusedError,
  WSAECONNRESET: ConnectionResetError,
  WSAETIMEDOUT: TimeoutError,
}

/** The SocketError for an errno number (from a `try*` call's `-errno`, say). */
export function errnoError(errno: number, syscall: string, address?: string, port?: number) {
  const code = native.errnoName(errno) ?? 'UNKNOWN'
  const Kind = kinds[code] ?? SocketError
  return new Kind(code, errno, syscall, address, port)
}

/**
 * Turns what the addon threw into a SocketError. The addon's errors have the errno name as
 * `code` and the number as the message; anything else is a bug on our side, rethrown as is.
 */
export function toSocketError(err: unknown, syscall: string, address?: string, port?: number) {
  if (!(err instanceof Error)) return err
  const code = (err as { code?: unknown }).code
  const num = Number(err.message)
  if (typeof code !== 'string' || !Number.isInteger(num)) return err
  const Kind = code.startsWith('EAI_') ? GaiError : (kinds[code] ?? SocketError)
  return new Kind(code, num, syscall, address, port)
}

/** An async call stopped by its `signal` (Node's convention: `code` `'ABORT_ERR'`, `cause` the reason). */
export class AbortError extends Error {
  /** `'ABORT_ERR'`, as Node's own AbortError. */
  readonly code = 'ABORT_ERR'
  /** For `sendallAsync`: how many bytes went out before the abort. */
  declare bytesSent?: number
  constructor(cause?: unknown) {
    super('The operation was aborted', cause === undefined ? undefined : { cause })
    this.name = 'AbortError'
  }
}
