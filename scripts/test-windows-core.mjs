// crates/core's Windows tests (crates/core/tests/windows.rs: Winsock's codes and names, the
// calls that stand in for what Windows lacks, WSAEOPNOTSUPP for the rest, on real loopback
// sockets), built for x86_64-pc-windows-gnu and run under wine, so the Windows port keeps
// compiling and passing while the Unix code moves on. The addon itself does not build for
// Windows yet (issue 15); this is the part that does.
//
//   npm run test:windows-core      (the toolchain comes from scripts/windows-toolchain.mjs)
import { join } from 'node:path'
import { capture, Failure, main, ROOT, run, step } from './toolchain.mjs'
import { runWindows, setupWindows, WINDOWS_TRIPLE } from './windows-toolchain.mjs'

await main(async () => {
  const tools = setupWindows()
  step(`cargo zigbuild --target ${WINDOWS_TRIPLE} -p bsd-sockets-core --test windows`)
  const env = { ...process.env, PATH: tools.path }
  const args = ['zigbuild', '--target', WINDOWS_TRIPLE, '-p', 'bsd-sockets-core']
  run('cargo', [...args, '--test', 'windows'], { what: 'the Windows test build', env })
  // The test executable's path, from cargo's own report of what it built.
  const json = capture('cargo', [...args, '--test', 'windows', '--message-format=json'], { env })
  const exe = json.out
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
