// What an accept loop (Socket's async iterator, Server) does when accept(2) fails: skip the
// connection, pause until fds are freed, or give up; and the Socket's accept loop itself.
import { onClose } from './close-hooks.js'
import { errno } from './constants.js'
import { SocketError } from './errors.js'
import type { State } from './socket-state.js'

/**
 * How long (ms) an accept loop out of fds waits before trying again if no Socket of this
 * thread closed meanwhile (an fd freed elsewhere, by node:net or fs, wakes nothing).
 */
const ACCEPT_RETRY_DELAY = 100

/** This platform's numbers of the errno names that exist here (Winsock's on Windows). */
const numbers = (names: string[]): Set<number> =>
  new Set(names.map((n) => errno[n]).filter((n): n is number => n !== undefined))

/** accept(2) errors that concern only the connection being accepted (Linux's accept(2) lists
 * the network errors to treat "like EAGAIN by retrying"). By number: a code's name is
 * Winsock's on Windows (WSAECONNABORTED). */
const ACCEPT_SKIP = numbers([
  'ECONNABORTED',
  'EPROTO',
  'ENETDOWN',
  'ENOPROTOOPT',
  'EHOSTDOWN',
  'ENONET',
  'EHOSTUNREACH',
  'ENETUNREACH',
])
/** accept(2) errors that last until the process or system frees fds or memory. */
const ACCEPT_PAUSE = numbers(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM'])

/**
 * What an accept loop does after accept(2) failed with errno `n`: `'skip'` that connection,
 * `'pause'` until fds are freed ({@link fdsFreed}), or `undefined`: the error is real.
 */
export function acceptErrorKind(n: number): 'skip' | 'pause' | undefined {
  return ACCEPT_SKIP.has(n) ? 'skip' : ACCEPT_PAUSE.has(n) ? 'pause' : undefined
}

/** Accept loops waiting for an fd to be freed; a Socket's close() wakes them all. */
const fdWaiters: (() => void)[] = []

/** Wakes the accept loops waiting in `fdsFreed` (a Socket of this thread closed). */
export function fdClosed(): void {
  if (fdWaiters.length > 0) for (const wake of fdWaiters.splice(0)) wake()
}

/** Resolves when a Socket of this thread closes, `listener` closes, or after ACCEPT_RETRY_DELAY. */
export function fdsFreed(listener: object, keepAlive: boolean): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer)
      removeHook()
      const i = fdWaiters.indexOf(wake)
      if (i !== -1) fdWaiters.splice(i, 1)
      resolve()
    }
    const timer = setTimeout(wake, ACCEPT_RETRY_DELAY)
    if (!keepAlive) timer.unref()
    const removeHook = onClose(listener, wake)
    fdWaiters.push(wake)
  })
}

/** The loop of a Socket's `[Symbol.asyncIterator]` (its TSDoc says what it survives). */
export async function* accepting<T>(
  sock: { fileno(): number; acceptAsync(): Promise<T> },
  s: State,
): AsyncGenerator<T> {
  while (sock.fileno() !== -1) {
    let conn: T
    try {
      conn = await sock.acceptAsync()
    } catch (e) {
      if (!(e instanceof SocketError)) throw e
      if (sock.fileno() === -1 && e.errno === errno.EBADF) return
      const kind = acceptErrorKind(e.errno)
      if (kind === 'skip') continue
      if (kind === undefined) throw e
      await fdsFreed(sock, s.keepAlive)
      continue
    }
    yield conn
  }
}
