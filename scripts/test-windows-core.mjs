// crates/core's Windows tests (crates/core/tests/windows.rs: Winsock's codes and names, the
// calls that stand in for what Windows lacks, WSAEOPNOTSUPP for the rest, on real loopback
// sockets), built for x86_64-pc-windows-gnu and run under wine, so the Windows port keeps
// compiling and passing while the Unix code moves on. The addon itself does not build for
// Windows yet (issue 15); this is the part that does.
//
//   npm run test:windows-core      (the toolchain comes from scripts/windows-toolchain.mjs)
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { Failure, main, ROOT, step } from './toolchain.mjs'
import { runWindows, setupWindows, WINDOWS_TRIPLE } from './windows-toolchain.mjs'

await main(async () => {
  const tools = setupWindows()
  step(`cargo zigbuild --target ${WINDOWS_TRIPLE} -p bsd-sockets-core --test windows`)
  // One build: cargo's progress and diagnostics go to the terminal, its JSON report (which
  // names the test executable) to us.
  const build = spawnSync(
    'cargo',
    [
      'zigbuild',
      '--target',
      WINDOWS_TRIPLE,
      '-p',
      'bsd-sockets-core',
      '--test',
      'windows',
      '--message-format=json-render-diagnostics',
    ],
    {
      cwd: ROOT,
      env: { ...process.env, PATH: tools.path },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 << 20,
    },
  )
  if (build.error) throw new Failure(`could not start cargo: ${build.error.message}`)
  if (build.status !== 0) throw new Failure(`the Windows test build failed (exit ${build.status})`)
  const exe = build.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
    .find((m) => m.reason === 'compiler-artifact' && m.target?.name === 'windows')?.executable
  if (!exe) throw new Failure('cargo did not report the Windows test executable')
  step(`${exe.slice(ROOT.length + 1)} under wine`)
  const r = runWindows(exe, [], { cwd: join(ROOT, 'crates', 'core') })
  process.stdout.write(r.output)
  const summary = /test result: (ok|FAILED)\. (\d+) passed; (\d+) failed/.exec(r.output)
  if (r.status !== 0 || !summary || summary[1] !== 'ok' || Number(summary[2]) === 0)
    throw new Failure(`the Windows core tests failed under wine (exit ${r.status})`)
  console.log(`Windows core tests: ${summary[2]} passed under wine`)
})
