// Ancillary data: the shapes of sendmsg/recvmsg, CMSG_LEN/CMSG_SPACE, and the sendmsg/recvmsg
// calls in their sync and async forms on a Socket's State, and Python's send_fds/recv_fds.
import { endianness } from 'node:os'
import type { AddressArgs, AddressInput, SocketAddress } from './address.js'
import { type AsyncOptions, again, isOptions, last, pending } from './async.js'
import { native } from './binding.js'
import { MSG_DONTWAIT, SCM_RIGHTS, SOCK_STREAM, SOL_SOCKET } from './constants.js'
import * as fast from './fast.js'
import { READABLE, WRITABLE } from './reactor.js'
import { RECV_FDS, Socket } from './socket.js'
import { fail, type State, shrink } from './socket-state.js'
import * as v from './validate.js'

/** A control message to send: `[level, type, data]` (`[SOL_SOCKET, SCM_RIGHTS, Int32Array.of(fd)]`). */
export type AncillaryInput = [level: number, type: number, data: ArrayBufferView | ArrayBuffer]
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

/**
 * Sends `buffers` with the descriptors `fds` as one SCM_RIGHTS message; returns the bytes
 * sent. Python's `socket.send_fds(sock, buffers, fds, flags, address)`. The fds stay open here:
 * the receiver gets new descriptors for the same open files.
 * @throws {SocketError} as `sendmsg`: `EBADF` (an fd that is not open), `EPIPE`, `ENOTCONN`, ...
 */
export function sendFds(
  sock: Socket,
  buffers: Iterable<string | ArrayBufferView | ArrayBuffer>,
  fds: Iterable<number>,
  flags = 0,
  address?: AddressInput,
): number {
  checkSocket(sock)
  const list = Array.isArray(fds) ? fds : fdList(fds)
  if (list.length > MAX_FDS) throw tooManyFds(`${list.length}`)
  // A Buffer (from Node's pool) rather than a new Int32Array: V8 keeps small typed arrays
  // in its heap and must move one out when N-API asks where its bytes are (~0.5 µs).
  const rights = Buffer.allocUnsafe(list.length * INT)
  for (let i = 0; i < list.length; i++) {
    const item = list[i]
    // The name is built only for the error: a string per fd costs as much as the check.
    const fd = v.isInt(item, 0, v.INT32_MAX) ? item : v.fd(item, `fds[${i}]`)
    if (LITTLE) rights.writeInt32LE(fd, i * INT)
    else rights.writeInt32BE(fd, i * INT)
  }
  return sock.sendmsg(buffers, [[SOL_SOCKET, SCM_RIGHTS, rights]], flags, address)
}

/**
 * Receives up to `bufsize` bytes and up to `maxfds` descriptors:
 * `[data, fds, msgFlags, address]`. Python's `socket.recv_fds(sock, bufsize, maxfds, flags)`.
 * The fds are new in this process, CLOEXEC, and yours to close (`fs.closeSync`,
 * `fromfd`, `new net.Socket({ fd })`). If more were sent than fit, the kernel closes the
 * rest and `msgFlags` has `MSG_CTRUNC`.
 * @throws {SocketError} as `recvmsg`.
 */
export function recvFds(
  sock: Socket,
  bufsize: number,
  maxfds: number,
  flags = 0,
): [data: Buffer, fds: number[], msgFlags: number, address: SocketAddress | null] {
  checkSocket(sock)
  const max = v.int(maxfds, 'maxfds', 0, MAX_FDS)
  if (sock.type === SOCK_STREAM) {
    // Streams report no address: the fd call, which writes the fds into an Int32Array.
    const data = Buffer.allocUnsafe(v.recvSize(bufsize))
    v.cint(flags, 'flags')
    if (FDS.length <= max) FDS = new Int32Array(2 ** Math.ceil(Math.log2(max + 1)))
    const [n, msgFlags] = sock[RECV_FDS](data, FDS.subarray(0, max + 1), flags)
    return [
      data.subarray(0, n),
      Array.from(FDS.subarray(1, 1 + (FDS[0] as number))),
      msgFlags,
      null,
    ]
  }
  const [data, ancdata, msgFlags, address] = sock.recvmsg(bufsize, CMSG_LEN(max * INT), flags)
  return [data, fdsOf(ancdata), msgFlags, address]
}

/**
 * Where the stream path of `recvFds` gets its fds: `[count, fd...]`. Kept (and grown) rather
 * than allocated per call: V8 holds a small new typed array in its heap and must move it out
 * when N-API asks where its ints are.
 */
let FDS = new Int32Array(64)

/** Most fds one sendFds sends: as many C ints as 1 MiB of control data holds. */
const MAX_FDS = Math.floor(v.MAX_ANCBUFSIZE / INT) - 64

/**
 * sendFds's `fds` when not an array: any iterable, as Python's `array.array('i', fds)` takes
 * it, read once and stopped past MAX_FDS (an endless generator meets the bound).
 */
function fdList(fds: unknown): unknown[] {
  if (
    fds === null ||
    typeof fds !== 'object' ||
    typeof (fds as Iterable<unknown>)[Symbol.iterator] !== 'function'
  ) {
    throw new TypeError(
      `The "fds" argument must be an array or iterable of fds. Received ${v.typeName(fds)}`,
    )
  }
  if (ArrayBuffer.isView(fds)) {
    // A typed array of fds (Int32Array.of(fd)), read by index: one over a detached
    // ArrayBuffer is empty, where its iterator would throw a TypeError naming nothing.
    const view = fds as unknown as ArrayLike<unknown>
    if (view.length > MAX_FDS) throw tooManyFds(`${view.length}`)
    return Array.from({ length: view.length }, (_, i) => view[i])
  }
  const out: unknown[] = []
  for (const fd of fds as Iterable<unknown>) {
    if (out.length === MAX_FDS) throw tooManyFds(`more than ${MAX_FDS}`)
    out.push(fd)
  }
  return out
}

function tooManyFds(count: string): RangeError {
  return new RangeError(`The "fds" argument holds ${count} fds; at most ${MAX_FDS} per call`)
}

function checkSocket(sock: unknown): void {
  if (!(sock instanceof Socket)) {
    throw new TypeError(`The "sock" argument must be a Socket. Received ${v.typeName(sock)}`)
  }
}
