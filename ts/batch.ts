// Batched datagrams (recvmanyInto / sendmany): the argument shapes and their checks, and the
// calls in their three forms (throwing, try*, async) on a Socket's State.
import type { AddressArgs, AddressInput, SocketAddress } from './address.js'
import { type AsyncOptions, isOptions, last, pending, settled } from './async.js'
import { native } from './binding.js'
import { AF_UNIX, MSG_DONTWAIT } from './constants.js'
import { errnoError } from './errors.js'
import { READABLE, WRITABLE } from './reactor.js'
import { fail, type State } from './socket-state.js'
import * as v from './validate.js'

/** Most datagrams one `recvmanyInto` / `sendmany` call takes (Linux's UIO_MAXIOV). */
export const MAX_BATCH = v.MAX_BUFFERS

/** Where `recvmanyInto` reports more than the lengths. Reuse one object across calls. */
export interface RecvManyOptions {
  /** Filled in place: `addresses[i]` is the sender of datagram `i`. Omit it to skip decoding. */
  addresses?: (SocketAddress | null)[]
  /** Filled in place: `msgFlags[i]` holds datagram `i`'s flags (`MSG_TRUNC` when cut short). */
  msgFlags?: Int32Array
  /** recv flags for the call (`MSG_PEEK`, `MSG_TRUNC`, ...). Default 0. */
  flags?: number
}

/** An Int32Array with room for `n` entries. */
export function int32s(value: unknown, name: string, n: number): Int32Array {
  if (!(value instanceof Int32Array)) {
    throw new TypeError(
      `The "${name}" argument must be an Int32Array. Received ${v.typeName(value)}`,
    )
  }
  if (value.length < n) {
    throw new RangeError(
      `The "${name}" argument has ${value.length} entries; ${n} buffers need as many`,
    )
  }
  return value
}

/** The options of `recvmanyInto`: `[msgFlags, addresses, flags]`. */
export function recvOptions(
  options: unknown,
  n: number,
): [Int32Array | undefined, (SocketAddress | null)[] | undefined, number] {
  const o = v.options<RecvManyOptions>(options)
  if (o === undefined) return [undefined, undefined, 0]
  const { addresses, msgFlags, flags } = o
  if (addresses !== undefined && !Array.isArray(addresses)) {
    throw new TypeError(
      `The "options.addresses" property must be an array. Received ${v.typeName(addresses)}`,
    )
  }
  return [
    msgFlags === undefined ? undefined : int32s(msgFlags, 'options.msgFlags', n),
    addresses,
    flags === undefined ? 0 : v.cint(flags, 'options.flags'),
  ]
}

/** One address (`[host, port...]` or a path) rather than a list of them. */
function isOne(address: unknown, family: number): boolean {
  return family === AF_UNIX
    ? typeof address === 'string'
    : typeof (address as unknown[])[0] === 'string'
}

/** Whether two address inputs are the same object or hold the same items. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Checks `address[i]`; its name is built only for the error message. */
function item(value: unknown, family: number, i: number): AddressArgs {
  try {
    return v.address(value, family)
  } catch {
    // The same check again, now naming the item: it throws the same error.
    return v.address(value, family, `address[${i}]`)
  }
}

/**
 * `sendmany`'s destination as the native call's `[hosts, nums]`: none (connected), one for
 * all, or one per buffer (`nums` holds `[port, flowinfo, scopeId]` per host). A list whose
 * items are all the same address (an echo of `recvmanyInto`'s senders, say) is sent as one.
 */
export function destinations(address: unknown, family: number, n: number): [string[], number[]] {
  if (address === undefined) return [[], []]
  let list: AddressArgs[]
  if (!Array.isArray(address) || isOne(address, family)) {
    list = [v.address(address, family, 'address')]
  } else {
    if (address.length !== n) {
      throw new RangeError(
        `The "address" argument lists ${address.length} addresses for ${n} buffers; give one per buffer, or one address`,
      )
    }
    const first = address[0]
    let i = 1
    while (i < n && same(address[i], first)) i++
    list =
      i >= n
        ? [item(first, family, 0)]
        : (address as AddressInput[]).map((a, j) => item(a, family, j))
  }
  const hosts: string[] = []
  const nums: number[] = []
  for (const a of list) {
    hosts.push(a[0])
    nums.push(a[1], a[2], a[3])
  }
  return [hosts, nums]
}

/** `recvmanyInto`'s checked arguments: buffers, lengths, then `recvOptions`'s three. */
type RecvManyArgs = [Uint8Array[], Int32Array, ...ReturnType<typeof recvOptions>]
/** `sendmany`'s checked arguments: buffers, `destinations`'s two, flags. */
type SendManyArgs = [Uint8Array[], ...ReturnType<typeof destinations>, number]

/** The senders `recvmanyInto` reports, copied into `options.addresses` after the call. */
const SENDERS: unknown[] = []

/** The body of `Socket.recvmanyInto`. */
export function recvmanyInto(
  s: State,
  buffers: unknown,
  lengths: unknown,
  options: unknown,
): number {
  const n = recvmany(s, recvmanyArgs(s, buffers, lengths, options), 0)
  if (n < 0) throw errnoError(-n, 'recvmmsg')
  return n
}

/** The body of `Socket.tryRecvmanyInto`. */
export function tryRecvmanyInto(
  s: State,
  buffers: unknown,
  lengths: unknown,
  options: unknown,
): number {
  return recvmany(s, recvmanyArgs(s, buffers, lengths, options), MSG_DONTWAIT)
}

/** The body of `Socket.recvmanyIntoAsync`. */
export function recvmanyIntoAsync(
  s: State,
  buffers: unknown,
  lengths: unknown,
  options: (RecvManyOptions & AsyncOptions) | undefined,
): Promise<number> {
  return pending(
    s,
    READABLE,
    'recvmmsg',
    () => {
      const args = recvmanyArgs(s, buffers, lengths, options)
      return () => settled(recvmany(s, args, MSG_DONTWAIT), 'recvmmsg')
    },
    options,
  )
}

function recvmanyArgs(
  s: State,
  buffers: unknown,
  lengths: unknown,
  options: unknown,
): RecvManyArgs {
  s.batch ??= new v.Disjoint()
  const bufs = v.writableList(buffers, 'buffers', s.batch)
  const lens = int32s(lengths, 'lengths', bufs.length)
  return [bufs, lens, ...recvOptions(options, bufs.length)]
}

/** `extra`: flags the variant adds (`MSG_DONTWAIT` for `try*`), as every `try*` call does. */
function recvmany(
  s: State,
  [bufs, lens, msgFlags, addresses, flags]: RecvManyArgs,
  extra: number,
): number {
  // The native side fills an array of ours: the caller's could run setters mid-call.
  const senders = addresses ? SENDERS : undefined
  const n = native.sockRecvmanyInto(s.h, bufs, lens, msgFlags, senders, flags | extra)
  if (addresses) for (let i = 0; i < n; i++) addresses[i] = SENDERS[i] as SocketAddress | null
  return n
}

/** The body of `Socket.sendmany`. */
export function sendmany(s: State, buffers: unknown, address: unknown, flags: unknown): number {
  const n = sendmanyCall(s, sendmanyArgs(s, buffers, address, flags), 0)
  if (n < 0) throw errnoError(-n, 'sendmmsg')
  return n
}

/** The body of `Socket.trySendmany`. */
export function trySendmany(s: State, buffers: unknown, address: unknown, flags: unknown): number {
  return sendmanyCall(s, sendmanyArgs(s, buffers, address, flags), MSG_DONTWAIT)
}

/** The body of `Socket.sendmanyAsync`. */
export function sendmanyAsync(
  s: State,
  buffers: unknown,
  address?: unknown,
  flags?: unknown,
  options?: AsyncOptions,
): Promise<number> {
  if (isOptions(address)) [address, flags, options] = [undefined, 0, last(address, flags, options)]
  else if (isOptions(flags)) [flags, options] = [0, last(flags, options)]
  if (flags === undefined) flags = 0
  return pending(
    s,
    WRITABLE,
    'sendmmsg',
    () => {
      const args = sendmanyArgs(s, buffers, address, flags)
      return () => settled(sendmanyCall(s, args, MSG_DONTWAIT), 'sendmmsg')
    },
    options,
  )
}

function sendmanyArgs(s: State, buffers: unknown, address: unknown, flags: unknown): SendManyArgs {
  const bufs = v.bufferList(buffers)
  const f = v.cint(flags, 'flags')
  return [bufs, ...destinations(address, s.family, bufs.length), f]
}

/** `extra` as in `recvmany`. */
function sendmanyCall(s: State, [bufs, hosts, nums, flags]: SendManyArgs, extra: number): number {
  try {
    return native.sockSendmany(s.h, bufs, hosts, nums, flags | extra)
  } catch (e) {
    throw fail(s, e, 'sendmmsg')
  }
}
