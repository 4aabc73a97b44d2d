// `npm run build:targets`: every target of package.json "napi.targets", built on this one Linux
// x64 machine into artifacts/<target>/bsd-sockets.<platform>.node (the layout `napi artifacts`
// reads), each binary checked (scripts/binary-check.mjs), and the crates linted and their tests
// compiled for every target.
//
//   npm run build:targets                                  all targets
//   npm run build:targets -- --target aarch64-unknown-linux-gnu [--target ...] [--no-lint]
//
// How: `napi build -x` for every target, i.e. cargo-zigbuild with zig as the C toolchain and
// linker. zig is the one route that is right for all of them: musl binaries that need only
// musl (the host's cc links a "musl" build against glibc), glibc binaries that need nothing
// newer than glibc 2.17 (Debian's gcc would set the floor at the build machine's 2.36 symbols),
// macOS and FreeBSD from Linux with no SDK. The loader napi generates is written once, to
// artifacts/loader/ (what CI's test jobs need next to a downloaded binary).
//
// Installs what is missing: rustup targets, zig (PyPI `ziglang`), cargo-zigbuild (crates.io).
// Cargo output goes to target/cross/, never to target/release or native/ (`npm run build`'s).
//
// Then, per target: `cargo clippy --all-targets -- -D warnings` and `cargo test --no-run` (through
// cargo-zigbuild, which links the test executables) for the shipped crates, core and node, with
// the RUSTFLAGS napi uses so that musl is checked as it is built (-crt-static). The benchmark
// crates are Linux/epoll tools, linted on the host by `npm run lint`. The host target's addon
// is also loaded into this Node and called. (rustc warns, for the macOS targets, that xcrun
// cannot find a MacOSX.sdk: none is needed, zig brings the libSystem stubs to link against.)
import { spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join, relative } from 'node:path'
import { parseTriple, readNapiConfig } from '@napi-rs/cli'
import { checkBinary, MACOS_MIN } from './binary-check.mjs'
import { ensureCrossTools, Failure, main, ROOT, run, step } from './toolchain.mjs'
import { WINDOWS_TRIPLE, windowsBuildTools } from './windows-toolchain.mjs'

export const ARTIFACTS = join(ROOT, 'artifacts')
const CROSS_TARGET_DIR = join(ROOT, 'target', 'cross')
const CRATES = ['-p', 'bsd-sockets-core', '-p', 'bsd-sockets-node']

/** The triple of the Node running this, when it is one we build (the load check needs it). */
function hostTriple() {
  if (process.platform !== 'linux') return null
  const glibc = process.report.getReport().header.glibcVersionRuntime
  const arch = { x64: 'x86_64', arm64: 'aarch64' }[process.arch]
  return arch && `${arch}-unknown-linux-${glibc ? 'gnu' : 'musl'}`
}

/**
 * Official Node for Windows is built with MSVC and its napi loader asks for the `win32-x64-msvc`
 * package, so that is the target. Its binary is built for the GNU ABI, the one Windows target
 * zig links from Linux (MSVC's libraries cannot be downloaded here): the addon and node.exe
 * meet only at the C ABI of N-API and libuv, and it imports nothing but system DLLs
 * (binary-check.mjs checks), so Node loads it as it loads an MSVC build.
 */
const WINDOWS_MSVC = 'x86_64-pc-windows-msvc'
/** The import library napi-build links the Windows addon against, made once per run. */
let libnodePath
/** The triple cargo builds for `triple`. */
const cargoTriple = (triple) => (triple === WINDOWS_MSVC ? WINDOWS_TRIPLE : triple)

/** Environment for cargo and napi for `triple`: where to build and what to link against. */
function targetEnv(triple, path) {
  const env = { ...process.env, PATH: path, CARGO_TARGET_DIR: CROSS_TARGET_DIR }
  if (triple === WINDOWS_MSVC) env.LIBNODE_PATH = libnodePath ??= windowsBuildTools().libnodePath
  const arch = triple.split('-')[0]
  if (triple.includes('-apple-darwin')) env.MACOSX_DEPLOYMENT_TARGET = MACOS_MIN[arch]
  // What napi build adds for musl (a cdylib cannot link musl statically); the same flags for
  // clippy and the tests keep cargo's cache shared and check what is built.
  if (triple.endsWith('-musl'))
    env.RUSTFLAGS = `${process.env.RUSTFLAGS ?? ''} -C target-feature=-crt-static`.trim()
  return env
}

/** The Windows binary: cargo-zigbuild for the GNU triple, named as the MSVC one (see above). */
function buildWindows(triple, binaryName, path) {
  const out = join(ARTIFACTS, triple)
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  const args = ['zigbuild', '--release', '--target', WINDOWS_TRIPLE, '-p', 'bsd-sockets-node']
  run('cargo', args, {
    what: `cargo zigbuild for ${triple}`,
    nice: true,
    env: targetEnv(triple, path),
  })
  const file = join(out, `${binaryName}.${parseTriple(triple).platformArchABI}.node`)
  copyFileSync(join(CROSS_TARGET_DIR, WINDOWS_TRIPLE, 'release', 'bsd_sockets_node.dll'), file)
  return file
}

/** `napi build -x` for `triple` into artifacts/<triple>/; the first build also writes the loader. */
function build(triple, binaryName, path, withLoader) {
  if (triple === WINDOWS_MSVC) return buildWindows(triple, binaryName, path)
  const out = join(ARTIFACTS, triple)
  rmSync(out, { recursive: true, force: true })
  // biome-ignore format: one line per group of options
  const args = [
    'build', '--platform', '--release', '-x', '--target', triple,
    '--manifest-path', 'crates/node/Cargo.toml', '--package-json-path', 'package.json',
    '--output-dir', relative(ROOT, out),
    ...(withLoader ? ['--js', 'index.cjs', '--dts', 'index.d.cts'] : ['--no-js']),
  ]
  const napi = join(ROOT, 'node_modules', '.bin', 'napi')
  run(napi, args, { what: `napi build for ${triple}`, nice: true, env: targetEnv(triple, path) })
  if (withLoader) {
    const loader = join(ARTIFACTS, 'loader')
    rmSync(loader, { recursive: true, force: true })
    mkdirSync(loader)
    for (const f of ['index.cjs', 'index.d.cts']) renameSync(join(out, f), join(loader, f))
  }
  // The type definitions napi writes beside the binary (index.d.ts) are the loader's business.
  rmSync(join(out, 'index.d.ts'), { force: true })
  const file = join(out, `${binaryName}.${parseTriple(triple).platformArchABI}.node`)
  if (!existsSync(file))
    throw new Failure(
      `napi build for ${triple} made no ${relative(ROOT, file)} (found: ${readdirSync(out).join(', ')})`,
    )
  return file
}

/** Loads `file` into this Node (same platform) and calls into it. */
function loadCheck(file) {
  const code = `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(file)});
    const name = m.exports.errnoName(require('node:os').constants.errno.EAGAIN);
    if (name !== 'EAGAIN') throw new Error('errnoName(EAGAIN) = ' + name);
    console.log('loaded into node ' + process.version + '; errnoName(EAGAIN) = ' + name)`
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' })
  return {
    name: 'load',
    ok: r.status === 0,
    detail: `${r.stdout}${r.stderr}`.trim().split('\n').at(-1),
  }
}

await main(async () => {
  const args = process.argv.slice(2)
  const config = await readNapiConfig(join(ROOT, 'package.json'))
  const all = config.targets.map((t) => t.triple)
  const wanted = args.flatMap((a, i) => (args[i - 1] === '--target' ? a.split(',') : []))
  const unknown = wanted.filter((t) => !all.includes(t))
  if (unknown.length)
    throw new Failure(`not in napi.targets: ${unknown.join(' ')} (targets: ${all.join(' ')})`)
  const triples = wanted.length ? all.filter((t) => wanted.includes(t)) : all
  const lint = !args.includes('--no-lint')
  const host = hostTriple()

  const path = ensureCrossTools(triples.map(cargoTriple), join(CROSS_TARGET_DIR, 'bin'))
  const started = Date.now()
  const rows = []
  for (const [i, triple] of triples.entries()) {
    step(`build ${triple}`)
    const t0 = Date.now()
    const file = build(triple, config.binaryName, path, i === 0)
    const checks = checkBinary(triple, file)
    if (triple === host) checks.push(loadCheck(file))
    for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(6)} ${c.detail}`)
    const row = { triple, file, size: statSync(file).size, checks, seconds: 0, lint: '-' }
    rows.push(row)
    if (lint) {
      step(`clippy -D warnings + test --no-run, ${triple}`)
      const env = targetEnv(triple, path)
      const lintArgs = [...CRATES, '--all-targets', '--target', cargoTriple(triple)]
      run('cargo', ['clippy', ...lintArgs, '--', '-D', 'warnings'], {
        what: `clippy for ${triple}`,
        nice: true,
        env,
      })
      run('cargo-zigbuild', ['test', '--no-run', ...CRATES, '--target', cargoTriple(triple)], {
        what: `cargo test --no-run for ${triple}`,
        nice: true,
        env,
      })
      row.lint = 'ok'
    }
    row.seconds = Math.round((Date.now() - t0) / 1000)
  }

  step(
    `summary (${Math.round((Date.now() - started) / 1000)} s; artifacts in ${relative(ROOT, ARTIFACTS)}/)`,
  )
  const lines = rows.map((r) => {
    const failed = r.checks.filter((c) => !c.ok).map((c) => c.name)
    const libc = r.checks.find((c) => c.name === 'libc')?.detail ?? ''
    return `${r.triple.padEnd(27)} ${`${Math.round(r.size / 1024)} KiB`.padStart(8)}  ${failed.length ? `FAILED ${failed.join('+')}` : `ok ${r.checks.map((c) => c.name).join('+')}`}  clippy+tests ${r.lint}  ${String(r.seconds).padStart(4)} s  ${libc}`
  })
  for (const line of lines) console.log(line)
  if (process.env.GITHUB_STEP_SUMMARY) {
    writeFileSync(
      process.env.GITHUB_STEP_SUMMARY,
      `### build:targets\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`,
      { flag: 'a' },
    )
  }
  const bad = rows.filter((r) => r.checks.some((c) => !c.ok))
  if (bad.length)
    throw new Failure(`binary checks failed for ${bad.map((r) => r.triple).join(' ')}`)
})
