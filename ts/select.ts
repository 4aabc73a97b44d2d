// select(): Python's select.select on poll(2).
import { constants } from 'node:os'
import { native } from './binding.js'
import { errnoError, toSocketError } from './errors.js'
import * as v from './validate.js'

/** Anything select() can watch: a Socket, an fd number, or an object with `fileno()`. */
export type Selectable = number | { fileno(): number }

function fdOf(x: unknown, list: string): number {
  if (typeof x === 'number') return v.fd(x, `${list} entry`)
  if (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as { fileno?: unknown }).fileno === 'function'
  ) {
    const fd = (x as { fileno(): unknown }).fileno()
    // A closed Socket answers -1: that is EBADF, as the kernel would say for a stale number.
    if (fd === -1) throw errnoError(constants.errno.EBADF, 'select')
    return v.fd(fd, `${list} entry's fileno()`)
  }
  throw new TypeError(`Every ${list} entry must be an fd number or have a fileno() method`)
}

function fds(list: unknown, name: string): number[] {
  if (!Array.isArray(list)) throw new TypeError(`The "${name}" argument must be an array`)
  return list.map((x) => fdOf(x, name))
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
  const r = fds(rlist, 'rlist')
  const w = fds(wlist, 'wlist')
  const x = fds(xlist, 'xlist')
  const t = v.timeout(timeout)
  let ready: [number[], number[], number[]]
  try {
    ready = native.select(r, w, x, t)
  } catch (e) {
    throw toSocketError(e, 'select')
  }
  return [
    ready[0].map((i) => rlist[i] as R),
    ready[1].map((i) => wlist[i] as W),
    ready[2].map((i) => xlist[i] as X),
  ]
}
