// Argument checks: TypeError / RangeError before any native call, naming the bad argument.
import type { AddressArgs } from './address.js'
import { native } from './binding.js'
import { AF_INET, AF_INET6, AF_UNIX } from './constants.js'

/** Largest receive buffer one call allocates: `recv(2 ** 40)` must not ask for a terabyte.
 * No datagram is this large, and a stream read returning less than asked is normal. */
const MAX_RECV_ALLOC = 16 * 1024 * 1024

/** Data to send: a string (sent as UTF-8), any ArrayBufferView, or an ArrayBuffer. */
export type BytesLike = string | ArrayBufferView | ArrayBuffer
/** A buffer to receive into: any ArrayBufferView, or an ArrayBuffer. */
export type BufferLike = ArrayBufferView | ArrayBuffer

const INT32_MIN = -(2 ** 31)
export const INT32_MAX = 2 ** 31 - 1
const UINT32_MAX = 2 ** 32 - 1

/**
 * What `v` is, for "Received ..." in an error message, as Node's ERR_INVALID_ARG_TYPE says it
 * (`an instance of Map`, `type number (3)`, `undefined`). Where Node's says nothing (a
 * generator's constructor has an empty name), the object's toStringTag does: `an instance of
 * Generator`. Never throws: a Proxy or getter that does is not asked again.
 */
export function typeName(v: unknown): string {
  if (v === null) return 'null'
  if (v === undefined) return 'undefined'
  if (typeof v === 'function') return `function ${v.name || '(anonymous)'}`
  if (typeof v === 'string') {
    const s = v.length > 28 ? `${v.slice(0, 25)}...` : v
    return `type string (${s.includes("'") ? JSON.stringify(s) : `'${s}'`})`
  }
  if (typeof v === 'bigint') return `type bigint (${v}n)`
  if (typeof v === 'number') return `type number (${Object.is(v, -0) ? '-0' : v})`
  if (typeof v !== 'object') return `type ${typeof v} (${String(v)})`
  try {
    if (Array.isArray(v)) return `an array of ${v.length} item${v.length === 1 ? '' : 's'}`
    const name: unknown = v.constructor?.name
    if (typeof name === 'string' && name !== '') return `an instance of ${name}`
    if (Object.getPrototypeOf(v) === null) return 'an object with a null prototype'
    return `an instance of ${Object.prototype.toString.call(v).slice(8, -1)}`
  } catch {
    return 'an object'
  }
}

/** `String.prototype.isWellFormed` (Node >= 20; ES2024, above this project's `lib`). */
const isWellFormed = (String.prototype as unknown as { isWellFormed(this: string): boolean })
  .isWellFormed

/**
 * The TypeError for a string holding a lone surrogate, which has no UTF-8 form: converting
 * it would put U+FFFD in its place and the call would go on with another name or other bytes.
 * Python refuses such a string (UnicodeEncodeError); so do we. `what` names the argument:
 * `The "host" argument`, `The host in "address"`.
 */
function notUtf8(what: string, value: string): TypeError {
  const at = loneSurrogate(value)
  const code = value.charCodeAt(at).toString(16).toUpperCase()
  return new TypeError(
    `${what} must be well-formed Unicode: it holds a lone surrogate (U+${code} at index ${at}), which has no UTF-8 form`,
  )
}

/** The index of the first surrogate in `s` that is not half of a pair, or -1. */
function loneSurrogate(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xdc00 && c <= 0xdfff) return i
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1) // NaN past the end
      if (!(next >= 0xdc00 && next <= 0xdfff)) return i
      i++
    }
  }
  return -1
}

/** Whether `s` converts to UTF-8 as it is (no lone surrogate). */
export function wellFormed(s: string): boolean {
  return isWellFormed.call(s)
}

/** A string that converts to UTF-8 as it is (no lone surrogate); `what` as `notUtf8` takes it. */
export function utf8(value: string, what: string): string {
  if (!isWellFormed.call(value)) throw notUtf8(what, value)
  return value
}

/** Whether `value` is an integer in [min, max]: for hot paths that build an argument's name
 * (for the error `int` throws) only when the check fails. */
export function isInt(value: unknown, min: number, max: number): value is number {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max
}

/** An integer in [min, max]. */
export function int(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') {
    throw new TypeError(
      `The "${name}" argument must be of type number. Received ${typeName(value)}`,
    )
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `The value of "${name}" is out of range. It must be an integer >= ${min} and <= ${max}. Received ${value}`,
    )
  }
  return value
}

/** An options argument: `undefined` or an object (`null` is not one). */
export function options<T extends object>(value: unknown): T | undefined {
  if (value !== undefined && (value === null || typeof value !== 'object'))
    throw new TypeError('The "options" argument must be an object')
  return value as T | undefined
}

/** A C int (flags, levels, option names, family...). */
export function cint(value: unknown, name: string): number {
  return int(value, name, INT32_MIN, INT32_MAX)
}

/** A byte count for a receive. */
export function size(value: unknown, name: string): number {
  return int(value, name, 0, Number.MAX_SAFE_INTEGER)
}

/** The buffer size to allocate for `recv(bufsize)`: a checked size, capped at 16 MiB. */
export function recvSize(bufsize: unknown): number {
  return Math.min(size(bufsize, 'bufsize'), MAX_RECV_ALLOC)
}

/** A file descriptor number. */
export function fd(value: unknown, name = 'fd'): number {
  return int(value, name, 0, INT32_MAX)
}

/** Longest timeout, in seconds: Python's limit (nanoseconds in an int64, ~292 years). Larger
 * values would overflow the native side's deadline (`Instant + Duration` panics). */
const MAX_TIMEOUT = 9_223_372_036

/** Python's timeout: `null`/`undefined` = blocking, else seconds in [0, MAX_TIMEOUT]. */
export function timeout(value: unknown, name = 'timeout'): number | null {
  if (value === null || value === undefined) return null
  if (typeof value !== 'number') {
    throw new TypeError(
      `The "${name}" argument must be a number of seconds or null. Received ${typeName(value)}`,
    )
  }
  if (!(value >= 0) || !(value <= MAX_TIMEOUT)) {
    throw new RangeError(
      `The value of "${name}" is out of range. It must be >= 0 and <= ${MAX_TIMEOUT} seconds. Received ${value}`,
    )
  }
  return value
}

/** Its bytes as a Uint8Array. A view over a detached ArrayBuffer (transferred away) makes V8
 * throw a TypeError that names no argument; this one does. (A Uint8Array over one is passed
 * through as is: its length is 0.) */
function view(value: ArrayBufferView | ArrayBuffer | SharedArrayBuffer, name: string): Uint8Array {
  try {
    return ArrayBuffer.isView(value)
      ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
      : new Uint8Array(value)
  } catch {
    throw new TypeError(`The "${name}" argument is over a detached ArrayBuffer`)
  }
}

/** `value`'s bytes when it is a Buffer, TypedArray, DataView or (Shared)ArrayBuffer. */
function bufferBytes(value: unknown, name: string, accepted: string): Uint8Array {
  if (value instanceof Uint8Array) return value
  if (
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    value instanceof SharedArrayBuffer
  )
    return view(value, name)
  throw new TypeError(`The "${name}" argument must be ${accepted}. Received ${typeName(value)}`)
}

/**
 * Data to send: any ArrayBufferView, an ArrayBuffer, or a string (UTF-8), as bytes without
 * copying. A string with a lone surrogate is refused (one isWellFormed call per string: V8
 * answers a one-byte string at once).
 */
export function bytes(value: unknown, name = 'data'): Uint8Array {
  if (typeof value === 'string') {
    if (!isWellFormed.call(value)) throw notUtf8(`The "${name}" argument`, value)
    return Buffer.from(value, 'utf8')
  }
  return bufferBytes(value, name, 'a string, Buffer, TypedArray, DataView or ArrayBuffer')
}

/** A buffer to receive into: any ArrayBufferView (strings are immutable). */
export function writable(value: unknown, name = 'buffer'): Uint8Array {
  return bufferBytes(value, name, 'a Buffer, TypedArray, DataView or ArrayBuffer')
}

function host(value: unknown, name: string): string {
  if (typeof value !== 'string') {
    throw new TypeError(`The host in "${name}" must be a string. Received ${typeName(value)}`)
  }
  if (value.includes('\0')) throw new TypeError(`The host in "${name}" must not contain null bytes`)
  if (!isWellFormed.call(value)) throw notUtf8(`The host in "${name}"`, value)
  return value
}

/** Checks an address against the socket's family; returns the native call's arguments. */
export function address(value: unknown, family: number, name = 'address'): AddressArgs {
  if (family === AF_UNIX) {
    if (typeof value !== 'string') {
      throw new TypeError(
        `The "${name}" argument must be a path string for AF_UNIX. Received ${typeName(value)}`,
      )
    }
    // A leading NUL is a Linux abstract name; one anywhere else would silently cut the path.
    if (value.indexOf('\0', 1) !== -1 && value[0] !== '\0') {
      throw new TypeError(`The "${name}" path must not contain null bytes`)
    }
    if (!isWellFormed.call(value)) throw notUtf8(`The "${name}" path`, value)
    return [value, 0, 0, 0]
  }
  if (family === AF_INET) {
    if (!Array.isArray(value) || value.length !== 2) {
      throw new TypeError(
        `The "${name}" argument must be a [host, port] array for AF_INET. Received ${typeName(value)}`,
      )
    }
    return [host(value[0], name), int(value[1], `${name}[1] (port)`, 0, 65535), 0, 0]
  }
  if (family === AF_INET6) {
    if (!Array.isArray(value) || value.length < 2 || value.length > 4) {
      throw new TypeError(
        `The "${name}" argument must be a [host, port, flowinfo?, scopeId?] array for AF_INET6. Received ${typeName(value)}`,
      )
    }
    return [
      host(value[0], name),
      int(value[1], `${name}[1] (port)`, 0, 65535),
      int(value[2] ?? 0, `${name}[2] (flowinfo)`, 0, 0xfffff),
      int(value[3] ?? 0, `${name}[3] (scopeId)`, 0, UINT32_MAX),
    ]
  }
  throw new TypeError(
    `Addresses of family ${family} are not supported (AF_INET, AF_INET6, AF_UNIX are)`,
  )
}

/** Most control data one sendmsg/recvmsg carries (Linux's own limit, optmem_max, is ~20 KiB). */
export const MAX_ANCBUFSIZE = 1024 * 1024

/** `ancbufsize` of recvmsg: 0 to 1 MiB. */
export function ancbufsize(value: unknown): number {
  return int(value, 'ancbufsize', 0, MAX_ANCBUFSIZE)
}

/** Most buffers one vectored call takes (Linux's IOV_MAX, the kernel's own limit). */
export const MAX_BUFFERS = 1024

/**
 * An array or other iterable (a Set, a generator...) as a fresh array, as Python takes any
 * iterable for a list of buffers or control messages. Arrays are read by index; other
 * iterables once, through their iterator, and stopped (its `return()` runs) past `max` items:
 * a generator that never ends meets the bound instead of hanging. Strings and views are
 * iterable but never a list here: they are refused with the other non-lists.
 */
function list(value: unknown, name: string, what: string, max: number): unknown[] {
  if (Array.isArray(value)) {
    if (value.length > max) throw tooMany(name, `${value.length}`, what, max)
    return value
  }
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function' &&
    !ArrayBuffer.isView(value)
  ) {
    const out: unknown[] = []
    for (const x of value as Iterable<unknown>) {
      if (out.length === max) throw tooMany(name, `more than ${max}`, what, max)
      out.push(x)
    }
    return out
  }
  throw new TypeError(
    `The "${name}" argument must be an array or iterable of ${what}. Received ${typeName(value)}`,
  )
}

function tooMany(name: string, count: string, what: string, max: number): RangeError {
  return new RangeError(`The "${name}" argument holds ${count} ${what}; at most ${max} per call`)
}

/**
 * A list of views (an array or any iterable) as a fresh array of Uint8Arrays (others
 * checked by `check` and rewrapped). Always a copy: the native side must read exactly what
 * was checked, and a Proxy or getter on the caller's array could answer differently the
 * second time.
 */
function viewList(
  value: unknown,
  name: string,
  check: (x: unknown, name: string) => Uint8Array,
): Uint8Array[] {
  const items = list(value, name, 'buffers', MAX_BUFFERS)
  const out: Uint8Array[] = new Array(items.length)
  for (let i = 0; i < out.length; i++) {
    const x = items[i]
    // The element's name is built only when it is needed (an error).
    out[i] = x instanceof Uint8Array ? x : check(x, `${name}[${i}]`)
  }
  return out
}

/** A list (array or iterable) of data to send, each as `bytes` takes it; their bytes, uncopied. */
export function bufferList(value: unknown, name = 'buffers'): Uint8Array[] {
  return viewList(value, name, bytes)
}

/**
 * A list (array or iterable) of buffers to receive into, no two sharing a byte (the kernel
 * would write both).
 */
export function writableList(value: unknown, name = 'buffers', known?: Disjoint): Uint8Array[] {
  const views = viewList(value, name, writable)
  if (views.length > 1 && !known?.has(views)) {
    if (overlapping(views)) {
      throw new RangeError(`The "${name}" argument must not hold overlapping buffers`)
    }
    known?.set(views)
  }
  return views
}

/**
 * The last list of receive buffers found disjoint, for a caller that passes the same list
 * on every call (a datagram server's batch): checking it again costs one pass instead of a
 * sort. The same views, in order, with the same lengths, cover the same bytes (a view's
 * offset never changes; a detached or resized one changes length and is checked again).
 */
export class Disjoint {
  #views: Uint8Array[] = []
  #lengths: number[] = []

  has(views: Uint8Array[]): boolean {
    if (views.length !== this.#views.length) return false
    for (let i = 0; i < views.length; i++) {
      const b = views[i] as Uint8Array
      if (b !== this.#views[i] || b.byteLength !== this.#lengths[i]) return false
    }
    return true
  }

  set(views: Uint8Array[]): void {
    this.#views = views
    this.#lengths = views.map((b) => b.byteLength)
  }
}

/** Whether two of `views` share a byte: pairwise for the usual few, sorted per memory beyond. */
function overlapping(views: Uint8Array[]): boolean {
  const meets = (a: Uint8Array, b: Uint8Array) =>
    a.buffer === b.buffer &&
    a.byteLength > 0 &&
    b.byteLength > 0 &&
    a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength
  if (views.length <= 16) {
    for (let i = 0; i < views.length; i++) {
      for (let j = i + 1; j < views.length; j++) if (meets(views[i], views[j])) return true
    }
    return false
  }
  const byMemory = new Map<ArrayBufferLike, Uint8Array[]>()
  for (const b of views) {
    // An empty view between two that overlap must not hide them from the adjacent check.
    if (b.byteLength === 0) continue
    const group = byMemory.get(b.buffer)
    if (group) group.push(b)
    else byMemory.set(b.buffer, [b])
  }
  for (const group of byMemory.values()) {
    group.sort((a, b) => a.byteOffset - b.byteOffset)
    for (let i = 1; i < group.length; i++) if (meets(group[i - 1], group[i])) return true
  }
  return false
}

/**
 * The control-buffer room one message with `n` bytes of data takes: CMSG_SPACE(n), from the
 * platform's own CMSG_SPACE(0) and alignment (arithmetic, not a native call per message).
 */
const CMSG_SPACE_0 = native.cmsgSpace(0) as number
const CMSG_ALIGN = (native.cmsgSpace(1) as number) - CMSG_SPACE_0
function cmsgSpace(n: number): number {
  return CMSG_SPACE_0 + Math.ceil(n / CMSG_ALIGN) * CMSG_ALIGN
}

/**
 * sendmsg's `ancdata`: a list (array or iterable) of `[level, type, data]`, as parallel
 * arrays. The messages take at most 1 MiB of control buffer in all (CMSG_SPACE of each, the
 * bound recvmsg's `ancbufsize` has), so an endless generator stops at 64 Ki empty ones.
 */
export function ancdata(value: unknown): [number[], number[], Uint8Array[]] {
  const items = list(value, 'ancdata', 'control messages', MAX_ANCBUFSIZE / CMSG_SPACE_0)
  const levels: number[] = []
  const types: number[] = []
  const datas: Uint8Array[] = []
  let total = 0
  for (let i = 0; i < items.length; i++) {
    const item = items[i]
    // The names are built only for an error (sendFds sends through here on every call).
    if (!Array.isArray(item) || item.length !== 3) {
      throw new TypeError(
        `The "ancdata[${i}]" argument must be a [level, type, data] array. Received ${typeName(item)}`,
      )
    }
    const [level, type, bytes] = item
    levels.push(
      isInt(level, INT32_MIN, INT32_MAX) ? level : cint(level, `ancdata[${i}][0] (level)`),
    )
    types.push(isInt(type, INT32_MIN, INT32_MAX) ? type : cint(type, `ancdata[${i}][1] (type)`))
    const data = bytes instanceof Uint8Array ? bytes : writable(bytes, `ancdata[${i}][2] (data)`)
    total += cmsgSpace(data.byteLength)
    if (total > MAX_ANCBUFSIZE) {
      throw new RangeError(
        `The "ancdata" argument is too large: its messages take more than ${MAX_ANCBUFSIZE} bytes of control buffer`,
      )
    }
    datas.push(data)
  }
  return [levels, types, datas]
}
