// Readiness from Node's event loop: the addon keeps one uv_poll per watched socket and
// calls `dispatch` once per loop turn with every ready [id, events] pair (crates/node/src/reactor.rs).
import { type NativeSocket, native } from './binding.js'
import { type Deadline, setRef } from './deadlines.js'
import { SocketError, toSocketError } from './errors.js'

/** The event bits of a watch and of `dispatch` (crates/node/src/reactor.rs): libuv's. */
export const READABLE = native.REACTOR_READABLE
export const WRITABLE = native.REACTOR_WRITABLE
/** The peer shut down its side (libuv's `UV_DISCONNECT`, EPOLLRDHUP), asked with readable. */
export const DISCONNECT = native.REACTOR_DISCONNECT
/** libuv reported an error and stopped the handle: retry both queues (the syscall tells the errno), re-arm. */
export const ERROR = native.REACTOR_ERROR

/** A pending operation: `run` tries the non-blocking call; true once it has settled its promise. */
export interface Op {
  run(): boolean
  fail(err: SocketError): void
  /** The op's timeout, ref'ed like the socket. */
  deadline: Deadline | undefined
}

/** What a watch id's events go to. `flush` runs once per turn after every event was delivered. */
export interface Target {
  ready(events: number): void
  flush?(): void
}

const { reactorSetRef } = native

const batch = new Int32Array(2 * 4096)
/** Weak, so a Socket dropped without close() can still be collected; `active` roots those with pending ops. */
const targets = new Map<number, WeakRef<Target>>()
/** Looked up first: the first `WeakRef.deref()` of a turn allocates (V8 keeps the target for the job). */
const active = new Map<number, Target>()
/** Targets to flush at the end of this turn; one may appear more than once (flush is idempotent). */
const flushing: Target[] = []
let nextId = 1
let ready = false

function dispatch(count: number): void {
  for (let i = 0; i < count; i++) {
    const id = batch[2 * i] as number
    const t = active.get(id) ?? targets.get(id)?.deref()
    if (t) {
      t.ready(batch[2 * i + 1] as number)
      if (t.flush) flushing.push(t)
    } else {
      targets.delete(id)
      native.reactorPause(id)
    }
  }
  if (flushing.length > 0) flushAll()
}

/**
 * Flushes every target even if one throws (a Poller callback): each error becomes an uncaught
 * exception of its own, as from separate event handlers, once every callback has run.
 */
function flushAll(): void {
  for (const t of flushing) {
    try {
      t.flush?.()
    } catch (e) {
      queueMicrotask(() => {
        throw e
      })
    }
  }
  flushing.length = 0
}

/**
 * A new watch id whose events go to `target` (held weakly: root it with `setActive` while
 * something waits on it). The native watch itself is started with the returned id.
 */
export function register(target: Target): number {
  if (!ready) {
    native.reactorInit(dispatch, batch)
    ready = true
  }
  const id = nextId++
  targets.set(id, new WeakRef(target))
  return id
}

/**
 * A new watch id for a target that is rooted for as long as it is registered (a transport,
 * a server's listener): no WeakRef, so nothing more per connection than the map entry.
 */
export function registerRooted(target: Target): number {
  const id = register(target)
  targets.delete(id)
  active.set(id, target)
  return id
}

/** Forgets `id`: later events for it are dropped (and its native watch paused). */
export function unregister(id: number): void {
  targets.delete(id)
  active.delete(id)
}

/** Roots the target of `id` while it has pending work, so the GC cannot drop it mid-wait. */
export function setActive(id: number, target: Target, on: boolean): void {
  if (on) active.set(id, target)
  else active.delete(id)
}

/**
 * The SocketError for a refused native watch, with what to do about the usual cause; `before`
 * names what needs the watch (`'async calls'`, `'serving it'`).
 */
export function watchError(e: unknown, before = 'async calls'): unknown {
  const err = toSocketError(e, 'watch')
  if (err instanceof SocketError && err.code === 'EEXIST') {
    err.message +=
      ': the fd is registered with a watching Poller (libuv takes one watch per fd); ' +
      `unregister it from the Poller, or call poller.unwatch(), before ${before}`
  }
  return err
}

/**
 * Starts, changes or (`events` 0) pauses the watch `id` on `fd`, for a target that watches
 * by fd (a transport, a server's listener); a refusal is {@link watchError}'s SocketError.
 */
export function watchFd(id: number, fd: number, events: number, before: string): void {
  try {
    native.reactorWatchFd(id, fd, events)
  } catch (e) {
    throw watchError(e, before)
  }
}

function runQueue(q: Op[]): void {
  while (q.length > 0 && (q[0] as Op).run()) q.shift()
}

/** The event-loop state of one socket: its FIFO read and write queues and what is armed. */
export class Watcher implements Target {
  readonly id: number
  readonly reads: Op[] = []
  readonly writes: Op[] = []
  #armed = 0
  #refed = false
  /** The user's `ref()`/`unref()` choice: a ref'ed socket with pending ops keeps Node alive. */
  keepAlive = true
  /** How often a read tried before waiting found data: an average over the last ~8, in 1/256. */
  #hits = 256
  #skips = 0

  /**
   * Whether a read should try the syscall before waiting for readiness. A try that finds
   * data saves a loop turn (a ping-pong peer has usually answered); one that finds nothing
   * wastes a syscall (many connections, each waiting on its peer). Below a 1-in-8 hit rate
   * only every 8th read tries, to notice the peer getting faster.
   */
  tryFirst(): boolean {
    return this.#hits >= 32 || (++this.#skips & 7) === 0
  }

  /** Records whether a read tried before waiting found data (or an error). */
  tried(hit: boolean): void {
    this.#hits += ((hit ? 256 : 0) - this.#hits) >> 3
  }

  constructor(private readonly h: NativeSocket) {
    this.id = register(this)
  }

  /**
   * Queues an op and arms the direction it waits for. If libuv refuses the watch, nothing
   * stays queued and the error says why (`EEXIST`: a watching Poller has the fd).
   */
  add(op: Op, queue: Op[]): void {
    queue.push(op)
    try {
      this.#update(0)
    } catch (e) {
      queue.pop()
      throw watchError(e)
    }
  }

  /** Removes an op that timed out or was aborted. */
  remove(op: Op): void {
    for (const q of [this.reads, this.writes]) {
      const i = q.indexOf(op)
      if (i !== -1) q.splice(i, 1)
    }
    this.#update(0)
  }

  ready(ev: number): void {
    // A direction that fired with nothing waiting is the only one to disarm.
    const idle =
      (this.reads.length === 0 ? READABLE : 0) | (this.writes.length === 0 ? WRITABLE : 0)
    if (ev & ERROR) this.#armed = 0
    if (ev & (READABLE | ERROR)) runQueue(this.reads)
    if (ev & (WRITABLE | ERROR)) runQueue(this.writes)
    this.#update(ev & idle)
  }

  /** Rejects every pending op (closed or detached), each with its own error, and forgets this watcher. */
  failAll(error: () => SocketError): void {
    const ops = [...this.reads, ...this.writes]
    this.reads.length = 0
    this.writes.length = 0
    for (const op of ops) op.fail(error())
    unregister(this.id)
  }

  setKeepAlive(keep: boolean): void {
    this.keepAlive = keep
    for (const op of [...this.reads, ...this.writes]) {
      if (op.deadline) setRef(op.deadline, keep)
    }
    this.#update(0)
  }

  /**
   * Arms what pending ops wait for. A direction is disarmed lazily, only when it fired with
   * nothing waiting (`unwanted`): re-arming costs two epoll_ctl calls, and a ping-pong
   * reader is back at once. An armed watch with nothing pending is unref'ed, so it never
   * keeps the process alive by itself.
   */
  #update(unwanted: number): void {
    const want = (this.reads.length > 0 ? READABLE : 0) | (this.writes.length > 0 ? WRITABLE : 0)
    const armed = (this.#armed & ~(unwanted & ~want)) | want
    const refed = want !== 0 && this.keepAlive
    if (armed !== this.#armed) {
      native.sockWatch(this.h, this.id, armed)
      this.#armed = armed
      // A new uv handle starts ref'ed: set the flag explicitly after every (re)start.
      reactorSetRef(this.id, refed)
      this.#refed = refed
    } else if (refed !== this.#refed) {
      reactorSetRef(this.id, refed)
      this.#refed = refed
    }
    setActive(this.id, this, want !== 0)
  }
}
