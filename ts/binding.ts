// The only file that loads the addon. The loader napi-rs generates (native/index.cjs) picks
// the .node file for this platform, or the platform package from npm; loader/index.cjs wraps it
// to name platform/arch/libc when nothing matches. A plain relative import (no import.meta, no
// createRequire) so the same source builds as ESM (dist/) and CommonJS (dist-cjs/): both sit
// one level below the package root, as ts/ does.
import type * as Native from '../loader/index.cjs'
import loaded from '../loader/index.cjs'

/** A socket handle (an External owning the native socket): the `sock*` functions take it. */
export type NativeSocket = Native.ExternalObject<Native.NativeSocket>

/**
 * The hot calls registered by hand (crates/node/src/fast.rs): bytes or `-errno`. The packing
 * constants named here are the addon's own exports (ts/fast.ts decodes with them).
 */
interface FdCalls {
  /** `timeout`: seconds, 0 = never wait, negative = block (Python's modes). */
  recvIntoFd(fd: number, buf: Uint8Array, nbytes: number, flags: number, timeout: number): number
  /** recv into `buf[offset..offset + nbytes]` (cut to its end); `flags` decide the waiting. */
  recvAtFd(fd: number, buf: Uint8Array, offset: number, nbytes: number, flags: number): number
  /** recv into all of `buf` without waiting, keeping `buf` as `fd`'s buffer under `token`. */
  recvKeepFd(fd: number, token: number, buf: Uint8Array, flags: number): number
  /**
   * recv without waiting into the buffer `recvKeepFd` kept for `fd` under `token`, or
   * `NOT_KEPT` if `fd` has none kept under it. Only from the Socket that owns `token`
   * and still holds that buffer, undetached (its length unchanged).
   */
  recvKeptFd(fd: number, token: number, flags: number): number
  sendFd(fd: number, buf: Uint8Array, flags: number, timeout: number): number
  /** One send(2) of `str` (well formed, at most `SEND_STR_MAX` UTF-16 units) as UTF-8, encoded
   * natively: `sent + SEND_STR_RADIX * encodedLength`, or `-errno`. */
  sendStrFd(fd: number, str: string, flags: number): number
  /** Bytes sent, or `-(errno + SENDALL_SENT_RADIX * bytesSent)` on error. */
  sendallFd(fd: number, buf: Uint8Array, flags: number, timeout: number): number
  /**
   * sendmsg(2) of `bufs` as one message, no address, with `rights` (C ints) as one
   * SCM_RIGHTS message or no control data for `null`: bytes or `-errno`.
   */
  sendmsgFd(
    fd: number,
    bufs: Uint8Array[],
    rights: Uint8Array | null,
    flags: number,
    timeout: number,
  ): number
  /** recvmsg(2) into `bufs` (no two overlapping), no control buffer: `nbytes + RECVMSG_FLAGS_RADIX * msgFlags` or `-errno`. */
  recvmsgIntoFd(fd: number, bufs: Uint8Array[], flags: number, timeout: number): number
  /**
   * recv_fds on a stream: recvmsg(2) into `buf` with room for `fds.length - 1` fds, written to
   * `fds[1..]` with their count in `fds[0]`: `nbytes + RECVMSG_FLAGS_RADIX * msgFlags` or `-errno`.
   */
  recvFdsFd(fd: number, buf: Uint8Array, fds: Int32Array, flags: number, timeout: number): number
  /** Whether the event-loop watch `id` keeps the process alive (uv_ref / uv_unref). */
  reactorSetRef(id: number, keepAlive: boolean): void
}

export const native = loaded as typeof Native & FdCalls
