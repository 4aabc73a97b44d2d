// Python's send_fds / recv_fds: descriptors passed over an AF_UNIX socket, on top of
// sendmsg / recvmsg (ts/msg.ts) and, for a stream's recvFds, the fd call (ts/fast.ts).
import type { AddressInput, SocketAddress } from './address.js'
import { errno, SCM_RIGHTS, SOCK_STREAM, SOL_SOCKET } from './constants.js'
import { errnoError } from './errors.js'
import * as fast from './fast.js'
import { CMSG_LEN, fdsOf, INT, LITTLE } from './msg.js'
import { Socket } from './socket.js'
import { stateOf } from './sync-socket.js'
import type { BytesLike } from './validate.js'
import * as v from './validate.js'

/**
 * Sends `buffers` with the descriptors `fds` as one SCM_RIGHTS message; returns the bytes
 * sent. Python's `socket.send_fds(sock, buffers, fds, flags, address)`; sendmsg(2). The fds
 * stay open here: the receiver gets new descriptors for the same open files.
 * @throws {SocketError} as `sendmsg`: `EBADF` (an fd that is not open), `EPIPE`, `ENOTCONN`, ...;
 *   `WSAEOPNOTSUPP` on Windows, which has no SCM_RIGHTS.
 */
export function sendFds(
  sock: Socket,
  buffers: Iterable<BytesLike>,
  fds: Iterable<number>,
  flags = 0,
  address?: AddressInput,
): number {
  checkSocket(sock)
  const list = Array.isArray(fds) ? fds : fdList(fds)
  if (list.length > MAX_FDS) throw tooManyFds(`${list.length}`)
  // A Buffer (from Node's pool) rather than a new Int32Array: V8 keeps small typed arrays
  // in its heap and must move one out when N-API asks where its bytes are (~0.5 µs, 2026-11-25).
  const rights = Buffer.allocUnsafe(list.length * INT)
  for (let i = 0; i < list.length; i++) {
    const item = list[i]
    // The name is built only for the error: a string per fd costs as much as the check.
    const fd = v.isInt(item, 0, v.INT32_MAX) ? item : v.fd(item, `fds[${i}]`)
    if (LITTLE) rights.writeInt32LE(fd, i * INT)
    else rights.writeInt32BE(fd, i * INT)
  }
  // Windows has no SCM_RIGHTS: the error sendmsg gives there for any control data.
  if (SCM_RIGHTS === undefined) throw errnoError(errno.EOPNOTSUPP as number, 'sendmsg')
  return sock.sendmsg(buffers, [[SOL_SOCKET, SCM_RIGHTS, rights]], flags, address)
}

/**
 * Receives up to `bufsize` bytes and up to `maxfds` descriptors:
 * `[data, fds, msgFlags, address]`. Python's `socket.recv_fds(sock, bufsize, maxfds, flags)`;
 * recvmsg(2).
 * The fds are new in this process, CLOEXEC, and yours to close (`fs.closeSync`,
 * `fromfd`, `new net.Socket({ fd })`). If more were sent than fit, the kernel closes the
 * rest and `msgFlags` has `MSG_CTRUNC`.
 * @throws {SocketError} as `recvmsg` (`WSAEOPNOTSUPP` on Windows, which has no SCM_RIGHTS).
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
    const s = stateOf(sock)
    const [n, msgFlags] = fast.recvFds(s.fd, data, FDS.subarray(0, max + 1), flags, s.timeout)
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
