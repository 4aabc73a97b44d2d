// select(): Python's select.select on poll(2).
import { native } from './binding.js'
import { errno } from './constants.js'
import { errnoError, toSocketError } from './errors.js'
import * as v from './validate.js'

/** Anything select() can watch: a Socket, an fd number, or an object with `fileno()`. */
export type Selectable =
  | number
  | {
      /** The fd to watch; -1 (a closed Socket) is `EBADF`. */
      fileno(): number
    }

/** The fd of `list[i]`: a number, or what its fileno() says. Names are built only for errors. */
function fdOf(x: unknown, list: string, i: number): number {
  if (typeof x === 'number') return v.isInt(x, 0, v.INT32_MAX) ? x : v.fd(x, `${list}[${i}]`)
  if (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as { fileno?: unknown }).fileno === 'function'
  ) {
    const fd = (x as { fileno(): unknown }).fileno()
    if (v.isInt(fd, 0, v.INT32_MAX)) return fd
    // A closed Socket answers -1: that is EBADF, as the kernel would say for a stale number.
    if (fd === -1) throw errnoError(errno.EBADF as number, 'select')
    return v.fd(fd, `${list}[${i}].fileno()`)
  }
  throw new TypeError(
    `The "${list}[${i}]" argument must be an fd number or have a fileno() method. Received ${v.typeName(x)}`,
  )
}

/**
 * A copy of `list` (read once, before any fileno() runs: one may change the list) and its
 * fds, in order. A hole is refused by name like any other item that is no fd.
 */
function fds(list: unknown, name: string): [unknown[], number[]] {
  if (!Array.isArray(list)) {
    throw new TypeError(`The "${name}" argument must be an array. Received ${v.typeName(list)}`)
  }
  const items: unknown[] = new Array(list.length)
  for (let i = 0; i < items.length; i++) items[i] = list[i]
  const out: number[] = new Array(items.length)
  for (let i = 0; i < items.length; i++) out[i] = fdOf(items[i], name, i)
  return [items, out]
}

/**
 * Waits until some of the given objects are ready: Python's `select.select(rlist, wlist,
 * xlist, timeout)`. Returns the very objects given, in three lists (all empty on timeout).
 * Built on poll(2): no FD_SETSIZE limit, fds above 1024 work. `timeout` is in seconds,
 * `null`/omitted to wait forever. Blocks the calling thread.
 * @throws {SocketError} `EBADF` if an fd is closed.
 */
export function select<R extends Selectable, W extends Selectable, X extends Selectable>(
  rlist: readonly R[],
  wlist: readonly W[],
  xlist: readonly X[],
  timeout?: number | null,
): [R[], W[], X[]] {
  const [rs, r] = fds(rlist, 'rlist')
  const [ws, w] = fds(wlist, 'wlist')
  const [xs, x] = fds(xlist, 'xlist')
  const t = v.timeout(timeout)
  let ready: [number[], number[], number[]]
  try {
    ready = native.select(r, w, x, t)
  } catch (e) {
    throw toSocketError(e, 'select')
  }
  // The objects read before polling: the lists may have changed since.
  return [
    ready[0].map((i) => rs[i] as R),
    ready[1].map((i) => ws[i] as W),
    ready[2].map((i) => xs[i] as X),
  ]
}
