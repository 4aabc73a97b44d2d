// Batched datagrams (recvmanyInto / sendmany): the argument shapes and their checks.
import type { AddressArgs, AddressInput, SocketAddress } from './address.js'
import { AF_UNIX } from './constants.js'
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
