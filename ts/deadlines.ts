// Timeouts of pending calls without a Node timer each. Calls with the same timeout expire in
// the order they started, so each duration keeps a FIFO list and one timer for its head, as
// Node's own timer lists do, minus a Timeout object, a setTimeout and a clearTimeout per
// call: a call that completes only unlinks itself. The timer is left armed when its list
// empties (the next call of that duration usually comes at once) and is unref'ed while no
// ref'ed entry is listed, so it never keeps the process alive by itself.
import { performance } from 'node:perf_hooks'

/** A timeout that runs `expire` unless cancelled first; `ref` as a Node timer's. */
export class Deadline {
  at = 0
  prev: Deadline | null = null
  next: Deadline | null = null
  list: List | null = null
  constructor(
    readonly expire: () => void,
    public ref: boolean,
  ) {}
}

/** setTimeout's longest delay; a longer wait re-arms when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1

class List {
  head: Deadline | null = null
  tail: Deadline | null = null
  timer: ReturnType<typeof setTimeout> | undefined
  /** When the timer fires (performance.now() ms). */
  firesAt = 0
  refs = 0

  constructor(readonly ms: number) {}

  fire = (): void => {
    this.timer = undefined
    // Timers may fire a little before performance.now() says the time has come: allow 1 ms.
    const now = performance.now() + 1
    for (let d = this.head; d !== null && d.at <= now; d = this.head) {
      unlink(d)
      d.expire()
    }
    // An expire() may have started an entry, and with it the timer, already.
    if (this.head !== null && this.timer === undefined) this.arm(this.head.at - performance.now())
  }

  arm(delay: number): void {
    const ms = Math.min(Math.max(Math.ceil(delay), 1), MAX_TIMER_MS)
    this.timer = setTimeout(this.fire, ms)
    this.firesAt = performance.now() + ms
    if (this.refs === 0) this.timer.unref()
  }
}

const lists = new Map<number, List>()

/** Starts `d` to expire in `ms` milliseconds (an integer). */
export function start(d: Deadline, ms: number): void {
  let list = lists.get(ms)
  if (list === undefined) {
    list = new List(ms)
    lists.set(ms, list)
  }
  d.at = performance.now() + ms
  d.list = list
  d.prev = list.tail
  if (list.tail !== null) list.tail.next = d
  else list.head = d
  list.tail = d
  if (d.ref && list.refs++ === 0) list.timer?.ref()
  // An armed timer fires no later than this entry's time (entries of one list come in order
  // of time), and re-arms for whatever is left then.
  if (list.timer === undefined || list.firesAt > d.at + 1) {
    if (list.timer !== undefined) clearTimeout(list.timer)
    list.arm(ms)
  }
}

/** Stops `d` if it is pending: it will not expire. */
export function cancel(d: Deadline): void {
  if (d.list !== null) unlink(d)
}

/** Makes `d` keep the process alive, or not, while it is pending. */
export function setRef(d: Deadline, ref: boolean): void {
  if (d.ref === ref) return
  d.ref = ref
  const list = d.list
  if (list === null) return
  if (ref && list.refs++ === 0) list.timer?.ref()
  if (!ref && --list.refs === 0) list.timer?.unref()
}

function unlink(d: Deadline): void {
  const list = d.list as List
  if (d.prev !== null) d.prev.next = d.next
  else list.head = d.next
  if (d.next !== null) d.next.prev = d.prev
  else list.tail = d.prev
  d.prev = d.next = d.list = null
  if (d.ref && --list.refs === 0) list.timer?.unref()
}
