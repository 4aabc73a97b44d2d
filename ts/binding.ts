// The only file that loads the addon. The loader napi-rs generates (native/index.cjs) picks
// the .node file for this platform, or the platform package from npm.
import { createRequire } from 'node:module'
import type * as Native from '../native/index.cjs'

export type NativeSocket = Native.NativeSocket

export const native: typeof Native = createRequire(import.meta.url)('../native/index.cjs')
