// Poller: Python's select.epoll / select.poll over the core Poller (crates/core/src/poller),
// plus watch(cb), which delivers the same readiness on Node's event loop through ts/reactor.ts.
import { native } from './binding.js'
import { onClose } from './close-hooks.js'
import { errno, POLLERR, POLLHUP, POLLIN, POLLOUT } from './constants.js'
import { errnoError, SocketError, toSocketError } from './errors.js'
import {
  DISCONNECT,
  ERROR,
  READABLE,
  register as registerTarget,
  setActive,
  type Target,
  unregister as unregisterTarget,
  WRITABLE,
} from './reactor.js'
import { Socket } from './socket.js'
import * as v from './validate.js'

type NativePoller = InstanceType<typeof native.NativePoller>

/**
 * Event-mask flag: edge-triggered. Report an fd when it becomes ready, not at every poll while
 * it stays ready; drain it until `EAGAIN` (see {@link Poller}). epoll's `EPOLLET`, kqueue's
 * `EV_CLEAR`. A bit above poll(2)'s 16, so it never clashes with a `POLL*` constant.
 */
export const POLLER_EDGE: number = native.POLLER_EDGE
/**
 * Event-mask flag: one-shot. After one report the fd stays silent until {@link Poller.modify}
 * re-arms it. epoll's `EPOLLONESHOT`, kqueue's `EV_DISPATCH`.
 */
export const POLLER_ONESHOT: number = native.POLLER_ONESHOT

/** A readiness backend: epoll (Linux), kqueue (macOS/BSD), poll(2) (every Unix). */
export type PollerBackend = 'epoll' | 'kqueue' | 'poll'

/** Options of `new Poller()`. */
export interface PollerOptions {
  /** Forces a backend (e.g. `'poll'` to test the fallback); default: the platform's best. */
  backend?: PollerBackend
}

/** One ready fd: `[fd, revents]`, `revents` in poll(2) bits (`POLLIN`, `POLLOUT`, `POLLERR`, `POLLHUP`). */
export type PollEvent = [fd: number, events: number]

/** What `watch()` calls, once per event-loop turn, with that turn's ready fds. */
export type PollCallback = (events: PollEvent[]) => void

/** Anything a Poller can watch: a Socket, an fd number, or an object with `fileno()`. */
export type Pollable =
  | number
  | {
      /** The fd to watch; -1 (a closed Socket) is `EBADF`. */
      fileno(): number
    }

const BACKENDS: readonly PollerBackend[] = ['epoll', 'kqueue', 'poll']

/** The syscall named in a backend's errors: creation, registration, waiting. */
const SYSCALLS: Record<PollerBackend, { create: string; ctl: string; wait: string }> = {
  epoll: { create: 'epoll_create1', ctl: 'epoll_ctl', wait: 'epoll_wait' },
  kqueue: { create: 'kqueue', ctl: 'kevent', wait: 'kevent' },
  poll: { create: 'poll', ctl: 'poll', wait: 'poll' },
}

/** The syscall named in watch() errors, which are libuv's (a second uv_poll on one fd is `EEXIST`). */
const UV_SYSCALL = 'watch'

const EBADF = errno.EBADF as number
const MASK_BITS = 0xffff | POLLER_EDGE | POLLER_ONESHOT
const DEFAULT_MASK = POLLIN | POLLOUT
/** Most events one `poll()` returns; the rest come with the next calls. */
const MAX_EVENTS = 65536

/** poll(2) revents for each combination of the reactor's 4 event bits. */
const REVENTS = Array.from(
  { length: 16 },
  (_, ev) =>
    (ev & READABLE ? POLLIN : 0) |
    (ev & WRITABLE ? POLLOUT : 0) |
    (ev & DISCONNECT ? POLLHUP : 0) |
    (ev & ERROR ? POLLERR : 0),
)

/** The uv_poll events an event mask asks for. */
function uvEvents(mask: number): number {
  return (mask & POLLIN ? READABLE | DISCONNECT : 0) | (mask & POLLOUT ? WRITABLE : 0)
}

function checkMask(value: unknown): number {
  const mask = v.int(value, 'eventmask', 0, 2 ** 31 - 1)
  if (mask & ~MASK_BITS) {
    throw new RangeError(
      `The value of "eventmask" is out of range. It must hold poll(2) bits (<= 0xffff), POLLER_EDGE and POLLER_ONESHOT. Received ${mask}`,
    )
  }
  return mask
}

/** One registered fd; while watching, also its reactor target. */
class Entry implements Target {
  /** The reactor watch id while watching, else 0. */
  id = 0
  /** The uv events the native watch runs with; 0 while stopped or never started. */
  uv = 0

  constructor(
    readonly state: State,
    readonly fd: number,
    public mask: number,
    /** The object registered (a Socket, say), to find the entry once its fileno() is -1. */
    readonly obj: object | undefined,
  ) {}

  /** Removes the Socket close hook that unregisters this entry. */
  off: (() => void) | undefined

  ready(ev: number): void {
    const s = this.state
    s.pending.push([this.fd, (REVENTS[ev & 15] as number) & (this.mask | POLLERR | POLLHUP)])
    if (this.mask & POLLER_ONESHOT) {
      // One report, then silent until modify() re-arms it.
      if (!(ev & ERROR)) native.reactorWatchFd(this.id, this.fd, 0)
      this.uv = 0
    } else if (ev & ERROR) {
      // Level-triggered: a lasting error is reported again, once libuv's handle is restarted.
      this.uv = 0
      s.rearm.push(this)
    }
  }

  flush(): void {
    this.state.flush()
  }
}

/** A Poller's state, shared with its entries (the reactor's targets). */
class State {
  readonly entries = new Map<number, Entry>()
  cb: PollCallback | undefined = undefined
  /** This turn's events, handed to `cb` by the first flush. */
  pending: PollEvent[] = []
  /** Entries whose handle libuv stopped on an error this turn. */
  rearm: Entry[] = []
  keepAlive = true

  constructor(
    public h: NativePoller | undefined,
    readonly backend: PollerBackend,
  ) {}

  get sys(): { create: string; ctl: string; wait: string } {
    return SYSCALLS[this.backend]
  }

  native(): NativePoller {
    if (!this.h) throw errnoError(EBADF, this.sys.ctl)
    return this.h
  }

  flush(): void {
    const events = this.pending
    if (events.length === 0) return
    this.pending = []
    const rearm = this.rearm
    if (rearm.length > 0) this.rearm = []
    try {
      this.cb?.(events)
    } finally {
      for (const e of rearm) this.restart(e)
    }
  }

  /**
   * Sets the native watch of `e` to `uv` events (0 stops it). libuv aborts the process if it
   * is started on a closed fd, so every caller has just had the fd checked by the kernel (a
   * register or modify of the core poller succeeded).
   */
  arm(e: Entry, uv: number): void {
    if (uv === e.uv) return
    try {
      native.reactorWatchFd(e.id, e.fd, uv)
    } catch (err) {
      throw toSocketError(err, UV_SYSCALL)
    }
    // A new handle starts ref'ed: set the flag whenever one (re)starts.
    if (e.uv === 0 && uv !== 0) native.reactorSetRef(e.id, this.keepAlive)
    e.uv = uv
  }

  /** Gives `e` a reactor watch started as its mask asks (the fd was just checked). */
  start(e: Entry): void {
    e.id = registerTarget(e)
    setActive(e.id, e, true)
    try {
      this.arm(e, uvEvents(e.mask))
    } catch (err) {
      this.stop(e)
      throw err
    }
  }

  /** Ends the reactor watch of `e`, if any. */
  stop(e: Entry): void {
    if (e.id === 0) return
    native.reactorUnwatch(e.id)
    unregisterTarget(e.id)
    e.id = 0
    e.uv = 0
  }

  /** After an error stopped libuv's handle: restart it if `e` is still watched and its fd open. */
  restart(e: Entry): void {
    if (e.id === 0 || e.uv !== 0 || this.entries.get(e.fd) !== e || !this.h) return
    try {
      this.h.modify(e.fd, e.mask)
      this.arm(e, uvEvents(e.mask))
    } catch {
      // The fd was closed without unregister(): the kernel dropped it; it stays silent.
    }
  }

  /** Forgets `e` (unregistered, or found closed). */
  drop(e: Entry): void {
    e.off?.()
    this.stop(e)
    if (this.entries.get(e.fd) === e) this.entries.delete(e.fd)
  }

  unwatch(): void {
    this.cb = undefined
    this.pending = []
    this.rearm = []
    for (const e of this.entries.values()) this.stop(e)
  }
}

/**
 * Waits for readiness on many sockets at once: Python's `select.epoll` with `select.poll`'s
 * event bits, on epoll (Linux), kqueue (macOS/BSD) or poll(2) (any Unix, or forced with
 * `{ backend: 'poll' }`). Register sockets or fds with `POLLIN` / `POLLOUT`, then either
 * call {@link Poller.poll} (synchronous, blocks the thread: for workers and scripts) or
 * {@link Poller.watch} (Node's event loop) and drive non-blocking calls yourself with
 * `tryAccept()`, `tryRecvInto()` and `trySend()`, which return `-errno` instead of throwing.
 *
 * ```ts
 * const poller = new Poller()
 * poller.register(srv, POLLIN)
 * poller.watch((events) => {
 *   for (const [fd, ev] of events) { ... }   // drain each fd until -EAGAIN
 * })
 * ```
 *
 * Events are `[fd, revents]` pairs with poll(2) bits: `POLLIN`, `POLLOUT`, plus `POLLERR`
 * and `POLLHUP` (peer closed; reads reach end of stream), which come unasked with the
 * interests registered. Of the mask only `POLLIN` and `POLLOUT` select anything (`POLLPRI`
 * and the other poll bits are accepted and ignored; Python's default mask also has
 * `POLLPRI`, ours is `POLLIN | POLLOUT`); add {@link POLLER_EDGE} or {@link POLLER_ONESHOT}
 * for the other modes. Timeouts are in SECONDS, as everywhere in this API (Python's
 * `select.poll().poll()` takes milliseconds).
 *
 * Portability rules: code that follows these works the same on every backend and in
 * `watch()`.
 * - **Spurious wakeups happen.** A report means "try the call now", not "it will succeed":
 *   use the non-blocking `try*` calls and treat `-EAGAIN` as "wait for the next report". A
 *   backend may report an fd more often than its mode promises, never less.
 * - **Level-triggered is the default**: an fd is reported at every poll (every loop turn in
 *   `watch()`) for as long as it stays ready, so an fd registered for `POLLOUT` with nothing
 *   to write wakes you at every turn: register for `POLLOUT` only while you have data
 *   waiting, and `modify()` it back.
 * - **Edge-triggered ({@link POLLER_EDGE}): drain until `EAGAIN`** before waiting again;
 *   epoll and kqueue only report new arrivals, so data left unread may never be reported
 *   again. The poll(2) backend and `watch()` treat edge as level-triggered (allowed by the
 *   first rule).
 * - **One-shot ({@link POLLER_ONESHOT})**: one report, then nothing (not even hangup or
 *   errors) until `modify()` re-arms the fd; it stays registered. `poll()` and `watch()`
 *   disarm separately; `watch()` starts with every fd armed.
 * - **One event per fd per poll**, readable and writable together in one `revents`.
 * - **Ask for `POLLIN` to hear of a peer's close**: kqueue reports hangup and errors only
 *   with a read or write interest.
 * - **Unregister before closing.** Closing a registered fd drops its registration (epoll
 *   only once every duplicate is closed), but a new fd given the same number may be
 *   reported under the old entry or refused with `EEXIST`. In `watch()` the fd is also
 *   watched by libuv, which cannot see the close.
 * - **Misuse gives epoll's errno everywhere**: `EBADF` for an fd that is not open, `EEXIST`
 *   for registering an fd twice, `ENOENT` for modifying or unregistering an unknown fd.
 * - **EINTR is retried** with the time left (PEP 475); timeouts round up, never down.
 *
 * A `Poller` owns an fd (epoll, kqueue): `close()` it, or use `using`. Dropped unclosed, the
 * GC closes it, but not while it is watching.
 */
export class Poller {
  readonly #s: State

  /**
   * Creates a poller: epoll_create1(2) or kqueue(2) (the fd is CLOEXEC), nothing for poll(2).
   * @throws {TypeError} for an unknown `options.backend`.
   * @throws {SocketError} `ENOSYS` for a backend this platform lacks, `EMFILE`, `ENFILE`.
   */
  constructor(options: PollerOptions = {}) {
    const { backend } = v.options<PollerOptions>(options) ?? {}
    if (backend !== undefined && !BACKENDS.includes(backend)) {
      throw new TypeError(
        `The "options.backend" property must be one of 'epoll', 'kqueue', 'poll'. Received ${v.typeName(backend)}`,
      )
    }
    let h: NativePoller
    try {
      h = new native.NativePoller(backend)
    } catch (e) {
      throw toSocketError(e, SYSCALLS[backend ?? (Poller.available()[0] as PollerBackend)].create)
    }
    this.#s = new State(h, h.backend() as PollerBackend)
  }

  /** The backends this platform has, best first (the default is the first). */
  static available(): PollerBackend[] {
    return native.pollerBackends() as PollerBackend[]
  }

  /** The backend in use: `'epoll'`, `'kqueue'` or `'poll'`. */
  get backend(): PollerBackend {
    return this.#s.backend
  }

  /** True once `close()` was called (Python's `epoll.closed`). */
  get closed(): boolean {
    return this.#s.h === undefined
  }

  /** The epoll/kqueue fd (Python's `epoll.fileno()`); -1 for poll(2) and once closed. */
  fileno(): number {
    return this.#s.h?.fileno() ?? -1
  }

  /** `[fd, the object given]`; a closed Socket (fileno() -1) is EBADF. */
  #target(target: unknown, syscall: string): [number, object | undefined] {
    if (typeof target === 'number') return [v.fd(target, 'target'), undefined]
    if (
      target !== null &&
      typeof target === 'object' &&
      typeof (target as { fileno?: unknown }).fileno === 'function'
    ) {
      const fd = (target as { fileno(): unknown }).fileno()
      if (fd === -1) throw errnoError(EBADF, syscall)
      return [v.fd(fd, 'target.fileno()'), target]
    }
    throw new TypeError(
      `The "target" argument must be an fd number or an object with a fileno() method. Received ${v.typeName(target)}`,
    )
  }

  /**
   * Starts watching `target` (a Socket, an fd, or anything with `fileno()`) for `eventmask`:
   * `POLLIN` and/or `POLLOUT`, optionally with {@link POLLER_EDGE} or {@link POLLER_ONESHOT}.
   * Python's `epoll.register(fd, eventmask)`; epoll_ctl(2) `EPOLL_CTL_ADD`. While watching,
   * the fd's event-loop watch starts too.
   * @throws {SocketError} `EEXIST` (already registered; in `watch()` also when the fd is
   *   watched by another watching Poller or has async calls pending, as libuv allows one
   *   watch per fd per loop), `EBADF` (not open), `EPERM` (epoll: a regular file), `ENOSPC`.
   */
  register(target: Pollable, eventmask: number = DEFAULT_MASK): void {
    const s = this.#s
    const [fd, obj] = this.#target(target, s.sys.ctl)
    const mask = checkMask(eventmask)
    const h = s.native()
    try {
      h.register(fd, mask)
    } catch (e) {
      throw toSocketError(e, s.sys.ctl)
    }
    // An entry left by an fd closed without unregister(), whose number came back.
    const stale = s.entries.get(fd)
    if (stale) s.drop(stale)
    const e = new Entry(s, fd, mask, obj)
    s.entries.set(fd, e)
    // Closing a registered Socket removes it from this poller first (while its fd is open).
    if (obj instanceof Socket) e.off = onClose(obj, () => this.unregister(obj))
    if (s.cb) {
      try {
        s.start(e)
      } catch (err) {
        s.entries.delete(fd)
        try {
          h.unregister(fd)
        } catch {
          // It was registered a moment ago; nothing to undo if it is already gone.
        }
        throw err
      }
    }
  }

  /**
   * Changes the event mask of a registered fd, and re-arms a one-shot fd. Python's
   * `epoll.modify(fd, eventmask)`; epoll_ctl(2) `EPOLL_CTL_MOD`.
   * @throws {SocketError} `ENOENT` (not registered), `EBADF` (not open).
   */
  modify(target: Pollable, eventmask: number): void {
    const s = this.#s
    const [fd] = this.#target(target, s.sys.ctl)
    const mask = checkMask(eventmask)
    try {
      s.native().modify(fd, mask)
    } catch (e) {
      throw toSocketError(e, s.sys.ctl)
    }
    const e = s.entries.get(fd)
    if (!e) return
    e.mask = mask
    if (e.id !== 0) s.arm(e, uvEvents(mask))
  }

  /**
   * Stops watching `target`. Python's `epoll.unregister(fd)`; epoll_ctl(2) `EPOLL_CTL_DEL`.
   * A Socket closed while registered can still be passed: its entry is removed, then
   * `EBADF` is thrown, as the kernel dropped it at the close.
   * @throws {SocketError} `ENOENT` (not registered), `EBADF` (not open).
   */
  unregister(target: Pollable): void {
    const s = this.#s
    let fd: number
    try {
      ;[fd] = this.#target(target, s.sys.ctl)
    } catch (err) {
      // A Socket closed while registered: forget it (the close ended its registration).
      if (err instanceof SocketError) {
        for (const e of s.entries.values()) {
          if (e.obj !== target) continue
          s.drop(e)
          try {
            // The poll(2) backend keeps its own table until told (or until its next poll).
            s.h?.unregister(e.fd)
          } catch {
            // EBADF: the close ended the registration.
          }
        }
      }
      throw err
    }
    const e = s.entries.get(fd)
    if (e) s.drop(e)
    try {
      s.native().unregister(fd)
    } catch (err) {
      throw toSocketError(err, s.sys.ctl)
    }
  }

  /**
   * Waits until a registered fd is ready or `timeout` SECONDS pass (`null`/omitted: forever;
   * 0: just look), and returns the ready ones as `[fd, revents][]`, `[]` on timeout. BLOCKS
   * the thread, like Python's `epoll.poll(timeout, maxevents)` (and `select.poll().poll()`,
   * which takes milliseconds). At most `maxevents` events (default: every registered fd, up
   * to 65536); the others come with the next calls. epoll_wait(2), kevent(2) or poll(2).
   * @throws {RangeError} for a negative timeout or `maxevents` outside -1, 1..65536.
   * @throws {SocketError} `EBADF` (closed), `ENOMEM`, `EINVAL` (poll(2): more fds than RLIMIT_NOFILE).
   */
  poll(timeout?: number | null, maxevents = -1): PollEvent[] {
    const s = this.#s
    const t = v.timeout(timeout)
    let max: number
    if (maxevents === -1) {
      // A power of two from the registered count, so the native buffer is rarely reallocated.
      max = Math.min(MAX_EVENTS, 2 ** Math.ceil(Math.log2(Math.max(64, s.entries.size))))
    } else {
      max = v.int(maxevents, 'maxevents', 1, MAX_EVENTS)
    }
    let flat: number[]
    try {
      flat = s.native().poll(t, max)
    } catch (e) {
      throw toSocketError(e, s.sys.wait)
    }
    const out = new Array<PollEvent>(flat.length / 2)
    for (let i = 0; i < flat.length; i += 2) out[i / 2] = [flat[i] as number, flat[i + 1] as number]
    return out
  }

  /**
   * Delivers readiness on Node's event loop: `cb(events)` runs once per loop turn in which
   * a registered fd is ready, with every `[fd, revents]` of that turn, while timers, promises
   * and `node:net` keep running. Each fd gets libuv's own `uv_poll` on the loop (no second
   * epoll), level-triggered; register/modify/unregister keep it in step. Calling `watch`
   * again replaces `cb`. While watching, an fd can have no async calls (`recvAsync`...)
   * pending and be in no other watching Poller: libuv takes one watch per fd per loop.
   * A watching poller with registered fds keeps the process alive unless `unref()`'ed.
   * Exceptions thrown by `cb` are uncaught exceptions, as from any event handler.
   * @throws {SocketError} `EEXIST` (an fd is already watched on this loop), `EBADF` (closed).
   */
  watch(cb: PollCallback): this {
    if (typeof cb !== 'function') {
      throw new TypeError(`The "cb" argument must be a function. Received ${v.typeName(cb)}`)
    }
    const s = this.#s
    const h = s.native()
    if (s.cb) {
      s.cb = cb
      return this
    }
    s.cb = cb
    try {
      for (const e of [...s.entries.values()]) {
        try {
          // Checks the fd is still open (libuv must never watch a closed one) and arms a
          // one-shot fd, as watch() starts with every fd armed.
          h.modify(e.fd, e.mask)
        } catch {
          // Closed without unregister(): the kernel dropped it, and so does this poller.
          s.drop(e)
          continue
        }
        s.start(e)
      }
    } catch (err) {
      s.unwatch()
      throw err
    }
    return this
  }

  /** Stops `watch()`: no more callbacks, and no event-loop watch is left. The fds stay registered. */
  unwatch(): this {
    this.#s.unwatch()
    return this
  }

  /** A watching poller keeps Node's event loop alive (the default), like a `net.Server`'s `ref()`. */
  ref(): this {
    this.#setKeepAlive(true)
    return this
  }

  /** Lets the process exit even while this poller watches, like a `net.Server`'s `unref()`. */
  unref(): this {
    this.#setKeepAlive(false)
    return this
  }

  #setKeepAlive(keep: boolean): void {
    const s = this.#s
    s.keepAlive = keep
    for (const e of s.entries.values()) if (e.id !== 0) native.reactorSetRef(e.id, keep)
  }

  /**
   * Stops watching and closes the epoll/kqueue fd (Python's `epoll.close()`). The registered
   * sockets stay open. Closing twice is harmless.
   */
  close(): void {
    const s = this.#s
    if (!s.h) return
    s.unwatch()
    s.entries.clear()
    s.h.close()
    s.h = undefined
  }

  /** `using poller = new Poller()` closes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.close()
  }
}
