// Ancillary data: the shapes of sendmsg/recvmsg, CMSG_LEN/CMSG_SPACE, and the sendmsg/recvmsg
// calls in their sync and async forms on a Socket's State (send_fds/recv_fds: ts/fds.ts).
import { endianness } from 'node:os'
import type { AddressArgs, SocketAddress } from './address.js'
import { type AsyncOptions, again, isOptions, last, pending } from './async.js'
import { native } from './binding.js'
import { MSG_DONTWAIT, SCM_RIGHTS, SOCK_STREAM, SOL_SOCKET } from './constants.js'
import * as fast from './fast.js'
import { READABLE, WRITABLE } from './reactor.js'
import { fail, type State, shrink } from './socket-state.js'
import type { BufferLike } from './validate.js'
import * as v from './validate.js'

/** A control message to send: `[level, type, data]` (`[SOL_SOCKET, SCM_RIGHTS, Int32Array.of(fd)]`). */
export type AncillaryInput = [level: number, type: number, data: BufferLike]
/** A control message received. SCM_RIGHTS data holds C ints: fds now open in this process. */
export type Ancillary = [level: number, type: number, data: Buffer]
/** What `recvmsg` returns: `[data, ancdata, msgFlags, address]` (address `null` when none). */
export type RecvmsgResult = [
  data: Buffer,
  ancdata: Ancillary[],
  msgFlags: number,
  address: SocketAddress | null,
]
/** What `recvmsgInto` returns: `[nbytes, ancdata, msgFlags, address]`. */
export type RecvmsgIntoResult = [
  nbytes: number,
  ancdata: Ancillary[],
  msgFlags: number,
  address: SocketAddress | null,
]

/** The process at the other end of an AF_UNIX socket, as the kernel recorded it at connect time. */
export interface PeerCredentials {
  /** Its process id; `null` where the platform does not tell (FreeBSD, NetBSD, OpenBSD). */
  pid: number | null
  /** Its effective user id. */
  uid: number
  /** Its effective group id. */
  gid: number
}

/** Bytes of a C int, the unit of SCM_RIGHTS data. */
export const INT = 4
export const LITTLE = endianness() === 'LE'

/**
 * The largest `length` CMSG_LEN / CMSG_SPACE take: CPython's bounds, which keep the size
 * within a C int (its SOCKLEN_T_LIMIT), from this platform's own sizes: INT_MAX - CMSG_LEN(0),
 * and INT_MAX - CMSG_SPACE(1) (padding before and after the data). Above them Python raises
 * OverflowError.
 */
const CMSG_LEN_MAX = v.INT32_MAX - (native.cmsgLen(0) as number)
const CMSG_SPACE_MAX = v.INT32_MAX - (native.cmsgSpace(1) as number)

function cmsgSize(
  length: unknown,
  f: (n: number) => number | null,
  name: string,
  max: number,
): number {
  const n = v.int(length, 'length', 0, max)
  const size = f(n)
  if (size === null) {
    throw new RangeError(`The value of "length" (${n}) is too large for ${name}`)
  }
  return size
}

/**
 * `CMSG_LEN(length)`: the size of a control message carrying `length` bytes of data, without
 * trailing padding (Python's `socket.CMSG_LEN`). `recvmsg(n, CMSG_LEN(4 * k))` receives up to
 * `k` fds.
 * @throws {RangeError} when `length` is negative or the size would not fit a C int (Python's
 * OverflowError): above `2 ** 31 - 1 - CMSG_LEN(0)`.
 */
export function CMSG_LEN(length: number): number {
  return cmsgSize(length, native.cmsgLen, 'CMSG_LEN', CMSG_LEN_MAX)
}

/**
 * `CMSG_SPACE(length)`: the room a control message with `length` bytes of data takes,
 * padding included; sum them to size `ancbufsize` for several messages (Python's `socket.CMSG_SPACE`).
 * @throws {RangeError} when `length` is negative or the size would not fit a C int (Python's
 * OverflowError): above `2 ** 31 - 1 - CMSG_SPACE(1)`.
 */
export function CMSG_SPACE(length: number): number {
  return cmsgSize(length, native.cmsgSpace, 'CMSG_SPACE', CMSG_SPACE_MAX)
}

/** The C ints of `data`, in this machine's byte order; a partial trailing int is dropped. */
function ints(data: Buffer): number[] {
  const out: number[] = []
  for (let at = 0; at + INT <= data.length; at += INT) {
    out.push(LITTLE ? data.readInt32LE(at) : data.readInt32BE(at))
  }
  return out
}

/** Every fd of the SCM_RIGHTS messages in `ancdata`. */
export function fdsOf(ancdata: readonly Ancillary[]): number[] {
  return ancdata.flatMap(([level, type, data]) =>
    level === SOL_SOCKET && type === SCM_RIGHTS ? ints(data) : [],
  )
}

/** The body of `Socket.sendmsg`. */
export function sendmsg(
  s: State,
  buffers: unknown,
  ancdata: unknown,
  flags: number,
  address: unknown,
): number {
  const [send, a] = msgArgs(s, buffers, ancdata, flags, address)
  try {
    return send(flags)
  } catch (e) {
    throw fail(s, e, 'sendmsg', a)
  }
}

/** Checks sendmsg's arguments; returns the native call (given its flags) and the address. */
function msgArgs(
  s: State,
  buffers: unknown,
  ancdata: unknown,
  flags: unknown,
  address: unknown,
): [(flags: number) => number, AddressArgs | undefined] {
  const bufs = v.bufferList(buffers)
  const [levels, types, datas] = v.ancdata(ancdata)
  v.cint(flags, 'flags')
  const rights =
    levels.length === 0
      ? null
      : levels.length === 1 && levels[0] === SOL_SOCKET && types[0] === SCM_RIGHTS
        ? (datas[0] as Uint8Array)
        : undefined
  if (address == null && rights !== undefined) {
    // No address and no control data but fds: the hand-registered fd call (ts/fast.ts).
    return [(f) => fast.sendmsg(s.fd, bufs, rights, f, s.timeout), undefined]
  }
  const a = address == null ? undefined : v.address(address, s.family, 'address')
  const h = s.h
  return [
    (f) =>
      native.sockSendmsg(
        h,
        bufs,
        levels,
        types,
        datas,
        f,
        a?.[0],
        a?.[1] ?? 0,
        a?.[2] ?? 0,
        a?.[3] ?? 0,
      ),
    a,
  ]
}

/** The body of `Socket.recvmsg`. */
export function recvmsg(
  s: State,
  bufsize: number,
  ancbufsize: number,
  flags: number,
): RecvmsgResult {
  const n = v.recvSize(bufsize)
  const anc = v.ancbufsize(ancbufsize)
  v.cint(flags, 'flags')
  const buf = Buffer.allocUnsafe(n)
  return withData(buf, receive(s, [buf], anc, flags))
}

/** The body of `Socket.recvmsgInto`. */
export function recvmsgInto(
  s: State,
  buffers: unknown,
  ancbufsize: number,
  flags: number,
): RecvmsgIntoResult {
  const bufs = v.writableList(buffers)
  const anc = v.ancbufsize(ancbufsize)
  v.cint(flags, 'flags')
  return receive(s, bufs, anc, flags)
}

function receive(
  s: State,
  bufs: Uint8Array[],
  ancbufsize: number,
  flags: number,
): RecvmsgIntoResult {
  // No control data and no address (streams report none): the hand-registered fd call.
  if (ancbufsize === 0 && s.type === SOCK_STREAM)
    return fast.recvmsgInto(s.fd, bufs, flags, s.timeout)
  let r: ReturnType<typeof native.sockRecvmsgInto>
  try {
    r = native.sockRecvmsgInto(s.h, bufs, ancbufsize, flags)
  } catch (e) {
    throw fail(s, e, 'recvmsg')
  }
  return [r[0], r[1] as Ancillary[], r[2], (r[3] ?? null) as SocketAddress | null]
}

/** recvmsg's result from recvmsgInto's into `buf`: the bytes in place of their count. */
function withData(buf: Buffer, r: RecvmsgIntoResult): RecvmsgResult {
  return [shrink(buf, r[0]), r[1], r[2], r[3]]
}

/** The body of `Socket.sendmsgAsync`. */
export function sendmsgAsync(
  s: State,
  buffers: unknown,
  ancdata?: unknown,
  flags?: unknown,
  address?: unknown,
  options?: AsyncOptions,
): Promise<number> {
  if (isOptions(ancdata))
    [ancdata, flags, address, options] = [[], 0, undefined, last(ancdata, flags, address, options)]
  else if (isOptions(flags))
    [flags, address, options] = [0, undefined, last(flags, address, options)]
  else if (isOptions(address)) [address, options] = [undefined, last(address, options)]
  if (ancdata === undefined) ancdata = []
  if (flags === undefined) flags = 0
  return pending(
    s,
    WRITABLE,
    'sendmsg',
    () => {
      const [send, a] = msgArgs(s, buffers, ancdata, flags, address)
      const f = (flags as number) | MSG_DONTWAIT
      return () =>
        again(
          () => send(f),
          (e) => fail(s, e, 'sendmsg', a),
        )
    },
    options,
  )
}

/** The body of `Socket.recvmsgAsync`. */
export function recvmsgAsync(
  s: State,
  bufsize: number,
  ancbufsize?: number | AsyncOptions,
  flags?: number | AsyncOptions,
  options?: AsyncOptions,
): Promise<RecvmsgResult> {
  let buf: Buffer
  try {
    buf = Buffer.allocUnsafe(v.recvSize(bufsize))
  } catch (e) {
    return Promise.reject(e)
  }
  return recvmsgIntoAsync(s, [buf], ancbufsize, flags, options).then((r) => withData(buf, r))
}

/** The body of `Socket.recvmsgIntoAsync`. */
export function recvmsgIntoAsync(
  s: State,
  buffers: unknown,
  ancbufsize?: number | AsyncOptions,
  flags?: number | AsyncOptions,
  options?: AsyncOptions,
): Promise<RecvmsgIntoResult> {
  if (isOptions(ancbufsize)) [ancbufsize, flags, options] = [0, 0, last(ancbufsize, flags, options)]
  else if (isOptions(flags)) [flags, options] = [0, last(flags, options)]
  if (ancbufsize === undefined) ancbufsize = 0
  if (flags === undefined) flags = 0
  return pending(
    s,
    READABLE,
    'recvmsg',
    () => {
      const bufs = v.writableList(buffers)
      const anc = v.ancbufsize(ancbufsize)
      const f = v.cint(flags, 'flags') | MSG_DONTWAIT
      return () =>
        again(
          () => receive(s, bufs, anc, f),
          (e) => e,
        )
    },
    options,
  )
}
