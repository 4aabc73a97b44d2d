// The only file that loads the addon. The loader napi-rs generates (native/index.cjs) picks
// the .node file for this platform, or the platform package from npm.
import { createRequire } from 'node:module'
import type * as Native from '../native/index.cjs'

export type NativeSocket = Native.NativeSocket

/** The hot calls registered by hand (crates/node/src/fast.rs): bytes or `-errno`. */
interface FdCalls {
  tryRecvIntoFd(fd: number, buf: Uint8Array, nbytes: number, flags: number): number
  trySendFd(fd: number, buf: Uint8Array, flags: number): number
}

export const native: typeof Native & FdCalls = createRequire(import.meta.url)('../native/index.cjs')
