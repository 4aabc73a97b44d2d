// What a new Socket starts from besides its arguments: the native handle it adopts when this
// package made the socket itself (accept, dup, fromfd, socketpair), which the constructor
// cannot take as an argument without showing it in the public signature, and the default
// timeout (`setdefaulttimeout`).
import { type NativeSocket, native } from './binding.js'
import { toSocketError } from './errors.js'
import * as v from './validate.js'

/** `[fd, family, type, proto, timeout]` of a handle, as `sockInfo` returns them. */
export type HandleInfo = [number, number, number, number, number]

/**
 * Set while wrapping an existing native handle (`h`), with its `info` when the caller already
 * knows it, and the `proto` Python's object would report (accept and dup copy it, socketpair
 * passes it on; unset for fromfd, which reads the kernel's). The constructor clears it.
 */
export const adoption: {
  h: NativeSocket | undefined
  info: HandleInfo | undefined
  proto: number | undefined
} = { h: undefined, info: undefined, proto: undefined }

/** The timeout every new Socket starts with (`setdefaulttimeout`); `null`: blocking. */
export const defaults: { timeout: number | null } = { timeout: null }

/**
 * The handle a `new Socket(family, type, proto)` stands for, with its info when known and the
 * proto Python's object reports: the adopted one while `wrap` set it (taken, so the next
 * Socket makes its own), else a new socket(2).
 */
export function takeHandle(
  family: number,
  type: number,
  proto: number,
): [NativeSocket, HandleInfo | undefined, number | undefined] {
  const a = adoption
  const { h, info } = a
  a.info = undefined
  if (h) {
    const given = a.proto
    a.h = undefined
    a.proto = undefined
    return [h, info, given]
  }
  v.cint(family, 'family')
  v.cint(type, 'type')
  v.cint(proto, 'proto')
  try {
    return [native.sockNew(family, type, proto), info, proto]
  } catch (e) {
    throw toSocketError(e, 'socket')
  }
}
