// The hand-registered fd calls (crates/node/src/fast.rs) and accept's result slots: the only
// module that makes them (Socket and transports alike), and so the only one that knows their
// packed results, the kept buffer and the ACCEPTED layout. Every call takes the fd, not the
// handle, and returns `-errno` rather than throwing.
import type { SocketAddress } from './address.js'
import { type NativeSocket, native } from './binding.js'
import { errno, MSG_DONTWAIT } from './constants.js'
import { errnoError } from './errors.js'
import type { State } from './socket-state.js'

// Bound once: a property load on `native` per call is measurable.
const {
  recvAtFd,
  recvIntoFd,
  recvKeepFd,
  recvKeptFd,
  sendFd,
  sendallFd,
  sendmsgFd,
  sendStrFd,
  recvmsgIntoFd,
  recvFdsFd,
} = native

// The packing of the calls' answers and accept's slots, as crates/node/src/fast.rs exports
// them: each value is declared once, in Rust (see its doc comments).
const {
  ACCEPTED_FD,
  ACCEPTED_IPV4,
  ACCEPTED_IS_IPV4,
  ACCEPTED_LEN,
  ACCEPTED_PORT,
  NOT_KEPT,
  RECVMSG_FLAGS_RADIX,
  SEND_STR_RADIX,
  SENDALL_SENT_RADIX,
} = native

const EAGAIN = errno.EAGAIN as number
const EWOULDBLOCK = errno.EWOULDBLOCK as number

/** Whether a `-errno` result says the call would block (`EAGAIN`, or its alias `EWOULDBLOCK`). */
export function wouldBlock(n: number): boolean {
  return n === -EAGAIN || n === -EWOULDBLOCK
}

/**
 * recv(2) into `buf`, at most `nbytes`; `timeout` in seconds, 0 = never wait, negative =
 * block: bytes or `-errno`. The native function itself.
 */
export const recvInto: (
  fd: number,
  buf: Uint8Array,
  nbytes: number,
  flags: number,
  timeout: number,
) => number = recvIntoFd

/** send(2) of `buf` (`timeout` as `recvInto`'s): bytes sent or `-errno`. The native function itself. */
export const send: (fd: number, buf: Uint8Array, flags: number, timeout: number) => number = sendFd

/**
 * recv(2) into `buf[offset..offset + nbytes]` (cut to its end), so a slab many reads share
 * needs no view per read: bytes or `-errno`. The native function itself.
 */
export const recvAt: (
  fd: number,
  buf: Uint8Array,
  offset: number,
  nbytes: number,
  flags: number,
) => number = recvAtFd

/** Whether sendmsg exists here: Windows has none (EOPNOTSUPP). */
const VECTORED = process.platform !== 'win32'

/**
 * One sendmsg(2) of `bufs` (a writev), no control data: bytes sent or `-errno`. Without
 * sendmsg (Windows), send(2) of each buffer in turn until one goes out partly or not at all,
 * as a writev stops; `-errno` only if nothing went (a later error comes again next call).
 */
export function writev(fd: number, bufs: Uint8Array[], flags: number): number {
  if (VECTORED) return sendmsgFd(fd, bufs, null, flags, 0)
  let total = 0
  for (const buf of bufs) {
    const n = sendFd(fd, buf, flags, 0)
    if (n < 0) return total > 0 ? total : n
    total += n
    if (n < buf.length) break
  }
  return total
}

/** The UTF-8 length of the string the last `sendStr` encoded. */
export let strLength = 0

/**
 * One send(2) of `str` (well formed, short enough for the native stack buffer) as UTF-8,
 * encoded natively, no Buffer made: bytes sent (all went if equal to `strLength`) or `-errno`.
 */
export function sendStr(fd: number, str: string, flags: number): number {
  const r = sendStrFd(fd, str, flags)
  if (r < 0) return r
  const sent = r % SEND_STR_RADIX
  strLength = (r - sent) / SEND_STR_RADIX
  return sent
}

/** Sends all of `buf`; throws the error with `bytesSent` set. */
export function sendall(fd: number, buf: Uint8Array, flags: number, timeout: number): void {
  const r = sendallFd(fd, buf, flags, timeout)
  if (r < 0) {
    const e = errnoError(-r % SENDALL_SENT_RADIX, 'send')
    e.bytesSent = Math.floor(-r / SENDALL_SENT_RADIX)
    throw e
  }
}

/** sendmsg(2) of `bufs` with `rights` as one SCM_RIGHTS message (none for `null`), no address: bytes sent. */
export function sendmsg(
  fd: number,
  bufs: Uint8Array[],
  rights: Uint8Array | null,
  flags: number,
  timeout: number,
): number {
  const n = sendmsgFd(fd, bufs, rights, flags, timeout)
  if (n < 0) throw errnoError(-n, 'sendmsg')
  return n
}

/**
 * recvmsg(2) into `bufs` with no control buffer (a stream's: no address either):
 * `[nbytes, [], msgFlags, null]`, recvmsgInto's result.
 */
export function recvmsgInto(
  fd: number,
  bufs: Uint8Array[],
  flags: number,
  timeout: number,
): [nbytes: number, ancdata: [], msgFlags: number, address: null] {
  const r = recvmsgIntoFd(fd, bufs, flags, timeout)
  if (r < 0) throw errnoError(-r, 'recvmsg')
  return [r % RECVMSG_FLAGS_RADIX, [], Math.floor(r / RECVMSG_FLAGS_RADIX), null]
}

/**
 * recv_fds on a stream socket: recvmsg(2) into `buf` with room for `fds.length - 1` fds,
 * written to `fds[1..]` with their count in `fds[0]`: `[nbytes, msgFlags]`.
 */
export function recvFds(
  fd: number,
  buf: Uint8Array,
  fds: Int32Array,
  flags: number,
  timeout: number,
): [nbytes: number, msgFlags: number] {
  // Packed as recvmsgIntoFd's result.
  const r = recvFdsFd(fd, buf, fds, flags, timeout)
  if (r < 0) throw errnoError(-r, 'recvmsg')
  return [r % RECVMSG_FLAGS_RADIX, Math.floor(r / RECVMSG_FLAGS_RADIX)]
}

/** Kept-buffer tokens (recvKeepFd): one per Socket that keeps one, never reused. */
let keepers = 0

/**
 * recv into all of `buffer` without waiting: bytes or `-errno`. A buffer used again (the
 * usual loop) is not passed again: the native side kept it, and holding it in `s` and
 * checking its length (0 once detached) keeps that memory live and attached.
 */
export function recvAll(s: State, buffer: Uint8Array): number {
  if (buffer === s.kept && buffer.length === s.keptLen) {
    const got = recvKeptFd(s.fd, s.keeper, MSG_DONTWAIT)
    if (got !== NOT_KEPT) return got
  }
  s.kept = buffer
  s.keptLen = buffer.length
  if (s.keeper === 0) s.keeper = ++keepers
  return recvKeepFd(s.fd, s.keeper, buffer, MSG_DONTWAIT)
}

/** Lets go of the kept buffer: the fd is closed or given away. */
export function unkeep(s: State): void {
  s.kept = undefined
}

/**
 * Where accept reports, instead of returning a tuple (two JS arrays built by N-API cost
 * ~0.7 µs a connection, measured 2026-11-25): `[fd, port, IPv4 bits, 1]` for an IPv4
 * peer, `[fd, 0, 0, 0]` for others (then `acceptedAddress()` has the peer), or `[-errno]`
 * when tryAccept got none; the slot indices are the addon's `ACCEPTED_*`.
 */
const ACCEPTED = new Int32Array(ACCEPTED_LEN)

/** accept(2), waiting as the socket's timeout says: the new handle (see `peer`, `acceptedFd`); throws the native error. */
export function accept(h: NativeSocket): NativeSocket {
  return native.sockAccept(h, ACCEPTED)
}

/** accept(2) without waiting: the new handle (see `peer`, `acceptedFd`), or `-errno`. */
export function tryAccept(h: NativeSocket): NativeSocket | number {
  return native.sockTryAccept(h, ACCEPTED) ?? (ACCEPTED[ACCEPTED_FD] as number)
}

/** The fd of `conn`, the connection `accept` or `tryAccept` just returned. */
export function acceptedFd(): number {
  return ACCEPTED[ACCEPTED_FD] as number
}

/** The peer address of `conn`, the connection `accept` or `tryAccept` just returned. */
export function peer(conn: NativeSocket): SocketAddress {
  const port = ACCEPTED[ACCEPTED_PORT] as number
  const ip = ACCEPTED[ACCEPTED_IPV4] as number
  const v4 = ACCEPTED[ACCEPTED_IS_IPV4] as number
  return (v4 ? [ipv4(ip), port] : native.sockAcceptedAddress(conn)) as SocketAddress
}

/** Dotted IPv4 host strings by address bits: a server sees the same few peers again and again. */
const hosts = new Map<number, string>()

function ipv4(bits: number): string {
  let host = hosts.get(bits)
  if (host === undefined) {
    host = `${bits >>> 24}.${(bits >>> 16) & 255}.${(bits >>> 8) & 255}.${bits & 255}`
    if (hosts.size >= 1024) hosts.clear()
    hosts.set(bits, host)
  }
  return host
}
