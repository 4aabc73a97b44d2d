// The state of one Socket, shared with the modules that hold its calls (ts/fast.ts,
// ts/async.ts, ts/batch.ts, ts/msg.ts) the way ts/poller.ts shares its State: a plain object
// the Socket makes once and every helper takes, read and written directly. Also the helpers
// those modules share: the one native-error conversion, timeouts, result shapes.
import type { AddressArgs } from './address.js'
import { type NativeSocket, native } from './binding.js'
import { AF_UNIX } from './constants.js'
import { toSocketError } from './errors.js'
import type { Watcher } from './reactor.js'
import * as v from './validate.js'

/** One Socket's state: its handle and fd, and what its calls keep between calls. */
export class State {
  /** The buffer the native side keeps for this fd (ts/fast.ts `recvAll`), its length then,
   * and the token it is kept under (unique per Socket, so no other Socket's kept buffer is used). */
  kept: Uint8Array | undefined = undefined
  keptLen = 0
  keeper = 0
  /** The event-loop watcher of the async calls (ts/async.ts), made by the first one. */
  w: Watcher | undefined = undefined
  /** The user's `ref()` / `unref()`: whether pending async calls keep Node's loop alive. */
  keepAlive = true
  /** The receive batch recvmanyInto last found disjoint (a server passes the same one). */
  batch: v.Disjoint | undefined = undefined

  constructor(
    readonly h: NativeSocket,
    /** The fd for the hot fd-only calls; -1 once closed or detached, so they get EBADF. */
    public fd: number,
    /** The timeout the fd-only calls run under, in seconds; -1 = blocking (`null`). */
    public timeout: number,
    readonly family: number,
    readonly type: number,
    /** The Socket's `proto`, which accepted sockets copy. */
    readonly proto: number,
  ) {}
}

/** The SocketError of a native error thrown by `syscall` (at `a` when an address was involved). */
export function fail(s: State, e: unknown, syscall: string, a?: AddressArgs): unknown {
  if (!a) return toSocketError(e, syscall)
  return s.family === AF_UNIX
    ? toSocketError(e, syscall, a[0])
    : toSocketError(e, syscall, a[0], a[1])
}

/**
 * `f(s.h, ...args)`, a native call on the handle; its error becomes `syscall`'s SocketError.
 * For calls off the hot paths: the spread costs an array.
 */
export function call<A extends unknown[], R>(
  s: State,
  syscall: string,
  f: (h: NativeSocket, ...args: A) => R,
  ...args: A
): R {
  try {
    return f(s.h, ...args)
  } catch (e) {
    throw fail(s, e, syscall)
  }
}

/** `call` for the calls that take just an address (bind, connect); errors name it. */
export function callAt<R>(
  s: State,
  syscall: string,
  f: (h: NativeSocket, host: string, port: number, flowinfo: number, scopeId: number) => R,
  a: AddressArgs,
): R {
  try {
    return f(s.h, a[0], a[1], a[2], a[3])
  } catch (e) {
    throw fail(s, e, syscall, a)
  }
}

/** Sets the socket's timeout (checked seconds; `null` blocking, 0 non-blocking). */
export function applyTimeout(s: State, t: number | null): void {
  call(s, 'settimeout', native.sockSettimeout, t)
  s.timeout = t ?? -1
}

/** The count of bytes to receive into `buf`: `nbytes`, or its whole length for 0. */
export function nbytesOf(buf: Uint8Array, nbytes: unknown): number {
  const n = v.int(nbytes, 'nbytes', 0, Number.MAX_SAFE_INTEGER)
  if (n > buf.byteLength) {
    throw new RangeError(
      `The value of "nbytes" (${n}) is larger than the buffer (${buf.byteLength} bytes)`,
    )
  }
  return n === 0 ? buf.byteLength : n
}

/** The received bytes; a short read into a large buffer is copied out so it does not pin it. */
export function shrink(buf: Buffer, got: number): Buffer {
  if (got === buf.length) return buf
  return got < buf.length / 2 && buf.length > 8192
    ? Buffer.from(buf.subarray(0, got))
    : buf.subarray(0, got)
}
