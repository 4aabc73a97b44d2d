// The async calls of a Socket on Node's event loop: a non-blocking attempt, tried first when
// that is likely to succeed, else queued (FIFO per direction) on the socket's Watcher
// (ts/reactor.ts) until the loop says the socket is ready, with timeouts (ts/deadlines.ts),
// abort signals and ref/unref. The Socket's methods delegate here with their State.
// Every attempt adds MSG_DONTWAIT to its flags itself: the native calls never add it
// (crates/node/src/lib.rs).
import type { AddressInput, SocketAddress } from './address.js'
import { type NativeSocket, native } from './binding.js'
import { AF_UNIX, errno, MSG_DONTWAIT, SO_ERROR, SOL_SOCKET } from './constants.js'
import { cancel, Deadline, start } from './deadlines.js'
import { AbortError, errnoError, SocketError } from './errors.js'
import { recvAll, recvInto, send, tryAccept, wouldBlock } from './fast.js'
import { type Op, READABLE, Watcher, WRITABLE } from './reactor.js'
import { applyTimeout, fail, nbytesOf, type State, shrink } from './socket-state.js'
import type { BufferLike, BytesLike } from './validate.js'
import * as v from './validate.js'

/** Options of every async method. */
export interface AsyncOptions {
  /** Rejects the call with an `AbortError` when aborted; the socket stays usable. */
  signal?: AbortSignal
  /** Seconds to wait at most, then reject with `TimeoutError` (`code` `'ETIMEDOUT'`). */
  timeout?: number
}

/**
 * An async call's optional arguments after `A`: `(...A, options?)` or `(...A, flags,
 * options?)`, each as the sync call takes them.
 */
export type OrFlags<A extends unknown[]> =
  | [...A, options?: AsyncOptions]
  | [...A, flags: number, options?: AsyncOptions]
/** `(options?)` or `(flags, options?)`. */
export type FlagsAndOptions = OrFlags<[]>

/** The promise of every async call that completed at once with no value. */
const RESOLVED: Promise<void> = Promise.resolve()

/** What a non-blocking attempt returns when it would block. */
export const AGAIN = Symbol('EAGAIN')
export type Attempt<T> = () => T | typeof AGAIN

const EAGAIN = errno.EAGAIN as number
const EINPROGRESS = errno.EINPROGRESS as number
const EBADF = errno.EBADF as number
const ETIMEDOUT = errno.ETIMEDOUT as number

/** Maps a `try*` result: bytes, AGAIN, or throws the errno's SocketError. */
export function settled(n: number, syscall: string): number | typeof AGAIN {
  if (n >= 0) return n
  if (wouldBlock(n)) return AGAIN
  throw errnoError(-n, syscall)
}

/** Runs a throwing call: its result, AGAIN for EAGAIN, else throws `fail(error)`. */
export function again<T>(call: () => T, fail: (e: unknown) => unknown): T | typeof AGAIN {
  try {
    return call()
  } catch (e) {
    const err = e instanceof SocketError ? e : fail(e)
    if (err instanceof SocketError && wouldBlock(-err.errno)) return AGAIN
    throw err
  }
}

/**
 * Whether an argument where an optional flags/nbytes/address may stand is the options object
 * instead (`recvAsync(n, { timeout })`): an object that is no list, buffer or address.
 */
export function isOptions(x: unknown): x is AsyncOptions {
  return (
    typeof x === 'object' &&
    x !== null &&
    !(Symbol.iterator in x) &&
    !ArrayBuffer.isView(x) &&
    !(x instanceof ArrayBuffer)
  )
}

/** Stands for an options object followed by more arguments: checkOptions refuses it. */
const MISPLACED: AsyncOptions = Object.freeze({})

/** `options` when nothing follows it, else MISPLACED. */
export function last(options: AsyncOptions, ...after: unknown[]): AsyncOptions {
  return after.every((a) => a === undefined) ? options : MISPLACED
}

/** Whether a fast path may run with `options`: not if they would reject (`pending` says why). */
function precheck(options: unknown): boolean {
  try {
    return checkOptions(options).signal?.aborted !== true
  } catch {
    return false
  }
}

function checkOptions(options: unknown): AsyncOptions {
  if (options === undefined) return {}
  if (options === MISPLACED) throw new TypeError('The options object must be the last argument')
  const { signal, timeout } = v.options<AsyncOptions>(options) as AsyncOptions
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(
      `The "options.signal" property must be an AbortSignal. Received ${v.typeName(signal)}`,
    )
  }
  // null means no timeout, as in settimeout(null); it must not become a 0 ms timer.
  const t = v.timeout(timeout, 'options.timeout') ?? undefined
  return { signal, timeout: t } as AsyncOptions
}

/**
 * The try-first rule: a call may run its syscall before waiting for readiness only when
 * nothing is queued before it in its direction (ops on one socket and direction run in
 * order), and a read only while trying keeps finding something (Watcher.tryFirst); a read
 * that tried tells `w.tried(hit)`.
 */
function mayTry(w: Watcher, dir: number): boolean {
  return dir === READABLE ? w.reads.length === 0 && w.tryFirst() : w.writes.length === 0
}

/**
 * The event-loop watcher; the async methods need the fd non-blocking (as asyncio does), on
 * every call: `setblocking(true)` after an async call must not make the next one block.
 */
function watcher(s: State): Watcher {
  if (s.timeout !== 0) applyTimeout(s, 0)
  if (s.w) return s.w
  s.w = new Watcher(s.h)
  s.w.setKeepAlive(s.keepAlive)
  return s.w
}

/**
 * Checks the call's arguments with `prepare`, which returns the attempt (its errors reject,
 * before any syscall). Runs the attempt now if the try-first rule allows (`tried`: the caller
 * already did), else (or on EAGAIN) queues it to run when the loop says the socket is ready.
 * `progress` adds to the errors raised here rather than by the attempt what went out before.
 */
export function pending<T>(
  s: State,
  dir: number,
  syscall: string,
  prepare: () => Attempt<T>,
  options: unknown,
  tried = false,
  progress?: (err: SocketError | AbortError) => SocketError | AbortError,
): Promise<T> {
  let attempt: Attempt<T>
  let w: Watcher
  let opts: AsyncOptions
  try {
    attempt = prepare()
    opts = checkOptions(options)
    w = watcher(s)
  } catch (e) {
    return Promise.reject(
      e instanceof TypeError || e instanceof RangeError ? e : fail(s, e, syscall),
    )
  }
  const { signal, timeout } = opts
  if (signal?.aborted) return Promise.reject(new AbortError(signal.reason))
  const queue = dir === READABLE ? w.reads : w.writes
  if (!tried && mayTry(w, dir)) {
    try {
      const r = attempt()
      if (dir === READABLE) w.tried(r !== AGAIN)
      if (r !== AGAIN) return Promise.resolve(r)
    } catch (e) {
      if (dir === READABLE) w.tried(true)
      return Promise.reject(e)
    }
  }
  return new Promise<T>((resolve, reject) => {
    const stop = (e: SocketError | AbortError) => {
      done()
      reject(progress ? progress(e) : e)
    }
    const onAbort = () => {
      w.remove(op)
      stop(new AbortError(signal?.reason))
    }
    const done = () => {
      if (op.deadline !== undefined) cancel(op.deadline)
      signal?.removeEventListener('abort', onAbort)
    }
    const op: Op = {
      deadline: undefined,
      run: () => {
        let r: T | typeof AGAIN
        try {
          r = attempt()
        } catch (e) {
          done()
          reject(e)
          return true
        }
        if (r === AGAIN) return false
        done()
        resolve(r)
        return true
      },
      fail: stop,
    }
    if (timeout !== undefined) {
      // An unref'ed socket's pending call must not keep the process alive through its timeout.
      op.deadline = new Deadline(() => {
        w.remove(op)
        stop(errnoError(ETIMEDOUT, syscall))
      }, w.keepAlive)
      start(op.deadline, Math.ceil(timeout * 1000))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      w.add(op, queue)
    } catch (e) {
      stop(e as SocketError)
    }
  })
}

/**
 * Gives up the socket's event-loop watch, so a transport (ts/transport.ts) can watch the
 * fd: libuv takes one watch per fd.
 * @throws {Error} while async calls are pending.
 */
export function releaseWatch(s: State): void {
  const w = s.w
  if (!w) return
  if (w.reads.length > 0 || w.writes.length > 0)
    throw new Error('The socket has async calls pending; a transport cannot take it')
  s.w = undefined
  w.failAll(() => errnoError(EBADF, 'close'))
  native.reactorUnwatch(w.id)
}

/** Rejects pending async calls with EBADF and drops the watcher (close, detach). */
export function stopWatching(s: State): void {
  const w = s.w
  if (!w) return
  s.w = undefined
  w.failAll(() => errnoError(EBADF, 'close'))
}

/** `ref()` / `unref()`: whether pending async calls keep Node's event loop alive. */
export function setKeepAlive(s: State, keep: boolean): void {
  s.keepAlive = keep
  s.w?.setKeepAlive(keep)
}

/** The body of `Socket.recvIntoAsync`. */
export function recvIntoAsync(
  s: State,
  buffer: BufferLike,
  nbytes?: number | AsyncOptions,
  flags?: number | AsyncOptions,
  options?: AsyncOptions,
): Promise<number> {
  if (isOptions(nbytes)) [nbytes, flags, options] = [0, 0, last(nbytes, flags, options)]
  else if (isOptions(flags)) [flags, options] = [0, last(flags, options)]
  if (nbytes === undefined) nbytes = 0
  if (flags === undefined) flags = 0
  // The hot loop's shape (a Buffer, no size or flags, nothing queued) goes straight to the
  // syscall: no closure, one promise. Options are checked first but cost nothing more
  // unless the read must wait.
  const w = s.w
  if (
    w &&
    s.timeout === 0 &&
    buffer instanceof Uint8Array &&
    nbytes === 0 &&
    flags === 0 &&
    (options === undefined || precheck(options))
  ) {
    if (mayTry(w, READABLE)) {
      const got = recvAll(s, buffer)
      const blocked = wouldBlock(got)
      w.tried(!blocked)
      if (got >= 0) return Promise.resolve(got)
      if (!blocked) return Promise.reject(errnoError(-got, 'recv'))
    }
    // Tried above, skipped (see Watcher.tryFirst), or queued behind others: wait.
    const attempt = () => settled(recvAll(s, buffer), 'recv')
    return pending(s, READABLE, 'recv', () => attempt, options, true)
  }
  return pending(
    s,
    READABLE,
    'recv',
    () => {
      const buf = v.writable(buffer)
      const n = nbytesOf(buf, nbytes)
      v.cint(flags, 'flags')
      return () => settled(recvInto(s.fd, buf, n, (flags as number) | MSG_DONTWAIT, 0), 'recv')
    },
    options,
  )
}

/** The body of `Socket.recvAsync`. */
export function recvAsync(
  s: State,
  bufsize: number,
  flags?: number | AsyncOptions,
  options?: AsyncOptions,
): Promise<Buffer> {
  if (isOptions(flags)) [flags, options] = [0, last(flags, options)]
  if (flags === undefined) flags = 0
  return pending(
    s,
    READABLE,
    'recv',
    () => {
      const n = v.recvSize(bufsize)
      const f = v.cint(flags, 'flags') | MSG_DONTWAIT
      return () => {
        const buf = Buffer.allocUnsafe(n)
        const got = settled(recvInto(s.fd, buf, n, f, 0), 'recv')
        return got === AGAIN ? AGAIN : shrink(buf, got)
      }
    },
    options,
  )
}

/** The body of `Socket.recvfromAsync`. */
export function recvfromAsync(
  s: State,
  bufsize: number,
  flags?: number | AsyncOptions,
  options?: AsyncOptions,
): Promise<[Buffer, SocketAddress]> {
  if (isOptions(flags)) [flags, options] = [0, last(flags, options)]
  if (flags === undefined) flags = 0
  const h = s.h
  return pending(
    s,
    READABLE,
    'recvfrom',
    () => {
      const n = v.recvSize(bufsize)
      const f = v.cint(flags, 'flags') | MSG_DONTWAIT
      return () => {
        const buf = Buffer.allocUnsafe(n)
        const r = native.sockTryRecvfromInto(h, buf, n, f)
        if (typeof r === 'number') {
          settled(r, 'recvfrom')
          return AGAIN
        }
        return [shrink(buf, r[0]), r[1] as SocketAddress] as [Buffer, SocketAddress]
      }
    },
    options,
  )
}

/** The body of `Socket.sendAsync`. */
export function sendAsync(
  s: State,
  data: BytesLike,
  flags?: number | AsyncOptions,
  options?: AsyncOptions,
): Promise<number> {
  if (isOptions(flags)) [flags, options] = [0, last(flags, options)]
  if (flags === undefined) flags = 0
  return pending(
    s,
    WRITABLE,
    'send',
    () => {
      const b = v.bytes(data)
      const f = v.cint(flags, 'flags') | MSG_DONTWAIT
      return () => settled(send(s.fd, b, f, 0), 'send')
    },
    options,
  )
}

/** The body of `Socket.sendallAsync`. */
export function sendallAsync(
  s: State,
  data: BytesLike,
  flags?: number | AsyncOptions,
  options?: AsyncOptions,
): Promise<void> {
  if (isOptions(flags)) [flags, options] = [0, last(flags, options)]
  if (flags === undefined) flags = 0
  let off = 0
  let tried = false
  const w = s.w
  if (
    w &&
    mayTry(w, WRITABLE) &&
    s.timeout === 0 &&
    data instanceof Uint8Array &&
    flags === 0 &&
    (options === undefined || precheck(options))
  ) {
    // The hot shape: one send that takes it all needs no closure and no new promise.
    const n = send(s.fd, data, MSG_DONTWAIT, 0)
    if (n === data.length) return RESOLVED
    if (n >= 0) off = n
    else if (!wouldBlock(n)) {
      const e = errnoError(-n, 'send')
      e.bytesSent = 0
      return Promise.reject(e)
    }
    tried = true
  }
  return pending(
    s,
    WRITABLE,
    'send',
    () => {
      const b = v.bytes(data)
      const f = v.cint(flags, 'flags') | MSG_DONTWAIT
      return () => {
        while (off < b.length) {
          const n = send(s.fd, off === 0 ? b : b.subarray(off), f, 0)
          if (wouldBlock(n)) return AGAIN
          if (n < 0) {
            const e = errnoError(-n, 'send')
            e.bytesSent = off
            throw e
          }
          off += n
        }
        return undefined
      }
    },
    options,
    tried,
    (e) => {
      e.bytesSent = off
      return e
    },
  )
}

/** The body of `Socket.sendtoAsync`. */
export function sendtoAsync(
  s: State,
  data: BytesLike,
  a1: number | AddressInput,
  a2?: unknown,
  a3?: unknown,
): Promise<number> {
  const h = s.h
  const withFlags = typeof a1 === 'number'
  return pending(
    s,
    WRITABLE,
    'sendto',
    () => {
      const b = v.bytes(data)
      const flags = (withFlags ? v.cint(a1, 'flags') : 0) | MSG_DONTWAIT
      const a = v.address(withFlags ? a2 : a1, s.family, 'address')
      return () => {
        try {
          return settled(native.sockTrySendto(h, b, flags, a[0], a[1], a[2], a[3]), 'sendto')
        } catch (e) {
          throw e instanceof SocketError ? e : fail(s, e, 'sendto', a)
        }
      }
    },
    withFlags ? a3 : a2,
  )
}

/** The body of `Socket.acceptAsync`; `wrap` makes the Socket of an accepted handle. */
export function acceptAsync<T>(
  s: State,
  wrap: (s: State, conn: NativeSocket) => T,
  options?: AsyncOptions,
): Promise<T> {
  return pending(
    s,
    READABLE,
    'accept',
    () => () => {
      const conn = tryAccept(s.h)
      if (typeof conn === 'number') {
        settled(conn, 'accept')
        return AGAIN
      }
      return wrap(s, conn)
    },
    options,
  )
}

/** The body of `Socket.connectAsync`. */
export function connectAsync(
  s: State,
  address: AddressInput,
  options?: AsyncOptions,
): Promise<void> {
  const h = s.h
  let started = false
  // pending makes the socket non-blocking before the attempt's connect(2).
  return pending(
    s,
    WRITABLE,
    'connect',
    () => {
      const a = v.address(address, s.family, 'address')
      const where = (err: number) =>
        s.family === AF_UNIX
          ? errnoError(err, 'connect', a[0])
          : errnoError(err, 'connect', a[0], a[1])
      return () => {
        if (!started) {
          started = true
          let err: number
          try {
            err = native.sockConnectEx(h, a[0], a[1], a[2], a[3])
          } catch (e) {
            throw fail(s, e, 'connect', a)
          }
          if (err === 0) return undefined
          if (err === EINPROGRESS || err === EAGAIN) return AGAIN
          throw where(err)
        }
        const err = native.sockGetsockoptInt(h, SOL_SOCKET, SO_ERROR)
        if (err === 0) return undefined
        throw where(err)
      }
    },
    options,
  )
}
