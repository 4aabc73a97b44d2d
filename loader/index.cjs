// Loads the addon through the loader napi-rs generates (../native/index.cjs), which picks
// NAPI_RS_NATIVE_LIBRARY_PATH if set, else native/bsd-sockets.<platform>.node next to it (a
// local build), else the platform package bsd-sockets-<platform> from optionalDependencies.
// This wrapper only turns a failure into a message naming what was detected and what exists.
'use strict'

// The platform packages published (package.json "napi.targets").
const PACKAGES = [
  'linux-x64-gnu',
  'linux-x64-musl',
  'linux-arm64-gnu',
  'linux-arm64-musl',
  'darwin-x64',
  'darwin-arm64',
  'freebsd-x64',
  'win32-x64-msvc',
]

function libc() {
  if (process.platform !== 'linux') return ''
  try {
    const header = process.report?.getReport?.().header
    return header?.glibcVersionRuntime ? 'gnu' : 'musl'
  } catch {
    return 'unknown'
  }
}

function describe(cause) {
  const c = libc()
  // Official Node for Windows is built with MSVC, and napi's loader asks for that package there.
  const abi = process.platform === 'win32' ? 'msvc' : c
  const wanted = [process.platform, process.arch, abi].filter(Boolean).join('-')
  const override = process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  const lines = [
    `bsd-sockets: no native binary loaded for platform=${process.platform} arch=${process.arch}` +
      (c ? ` libc=${c}` : '') +
      '.',
    override
      ? `  NAPI_RS_NATIVE_LIBRARY_PATH=${override} is set and could not be loaded.`
      : PACKAGES.includes(wanted)
        ? `  Expected the optional dependency bsd-sockets-${wanted}; it is missing or failed to load` +
          ' (installed with --no-optional / --omit=optional, or a lockfile made on another' +
          ' platform: reinstall without them).'
        : `  No prebuilt package exists for ${wanted}.`,
    `  Prebuilt packages: ${PACKAGES.map((p) => `bsd-sockets-${p}`).join(', ')}.`,
    '  To use a local build, set NAPI_RS_NATIVE_LIBRARY_PATH to the .node file.',
    `  Loader said: ${cause?.message ?? cause}`,
  ]
  const error = new Error(lines.join('\n'))
  error.code = 'ERR_BSD_SOCKETS_NO_BINARY'
  error.cause = cause
  return error
}

try {
  module.exports = require('../native/index.cjs')
} catch (cause) {
  // A version mismatch between the main and the platform package is already explicit.
  if (/version mismatch/.test(String(cause?.message))) throw cause
  throw describe(cause)
}
