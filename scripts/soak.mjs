// Memory soak: a long loop of socket operations, sampling RSS and the fd count, failing if
// either grows. Not part of `npm test` (which runs a 100k-op version, __test__/soak.test.ts).
//
//   npm run soak                                   # build, then 1,000,000 operations
//   node --expose-gc scripts/soak.mjs [ops] [--json]
//
// Each round does, on loopback: send + select + recvInto on an AF_UNIX pair (sync), trySend +
// tryRecvInto, sendallAsync + recvIntoAsync on a TCP pair (event loop), and churn: a socket
// opened and closed every round, a socketpair every 10 rounds, a TCP connect/accept every 100
// (connectAsync/acceptAsync). RSS is read after a forced GC (with --expose-gc) every 1/20 of
// the run. The first quarter is warm-up (JIT, V8 heap sizing, allocator pools); the run fails
// (exit 1) if RSS then grows by more than MAX_GROWTH_MB, or the fd count at the end differs
// from the start. The last line of output is the result as JSON.
import { existsSync, readdirSync } from 'node:fs'

const lib = await import(new URL('../dist/index.js', import.meta.url).href)
const { AF_INET, AF_UNIX, SOCK_STREAM, socket, socketpair, select } = lib

const OPS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 1_000_000)
const JSON_ONLY = process.argv.includes('--json')
/**
 * Allowed RSS growth after warm-up. Measured on Linux x64 (Node 20): growth after warm-up
 * stays within a few MB over 1M ops (allocator and V8 old-space noise); a leak of one 64-byte
 * buffer, one promise or one fd wrapper per operation would add 50+ MB over the run.
 */
const MAX_GROWTH_MB = Number(process.env.SOAK_MAX_GROWTH_MB ?? 20)
const SAMPLES = 20

const fdCount = () => (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : -1)
const gc = globalThis.gc ?? (() => {})
const mb = (bytes) => bytes / (1024 * 1024)
const log = (...a) => {
  if (!JSON_ONLY) console.log(...a)
}

/** A connected TCP pair over loopback, through the event loop. */
async function tcpPair() {
  const srv = socket(AF_INET, SOCK_STREAM)
  srv.bind(['127.0.0.1', 0])
  srv.listen(1)
  const c = socket(AF_INET, SOCK_STREAM)
  const accepting = srv.acceptAsync()
  await c.connectAsync(srv.getsockname())
  const [s] = await accepting
  srv.close()
  return [c, s]
}

const payload = Buffer.alloc(64, 'x')
const buf = Buffer.alloc(64)
const abuf = Buffer.alloc(64)

/** One round; returns the number of operations it did. */
async function round(r, sync, tcp) {
  let ops = 0
  const [a, b] = sync
  a.send(payload)
  select([b], [], [], 0)
  if (b.recvInto(buf) !== 64) throw new Error('short sync recv')
  if (a.trySend(payload) !== 64) throw new Error('short trySend')
  if (b.tryRecvInto(buf) !== 64) throw new Error('short tryRecvInto')
  ops += 5
  const [c, s] = tcp
  await c.sendallAsync(payload)
  let got = 0
  while (got < 64) got += await s.recvIntoAsync(got === 0 ? abuf : abuf.subarray(got))
  ops += 2
  socket(AF_INET, SOCK_STREAM).close()
  ops += 2
  if (r % 10 === 0) {
    const [x, y] = socketpair(AF_UNIX, SOCK_STREAM)
    x.close()
    y.close()
    ops += 3
  }
  if (r % 100 === 0) {
    const [x, y] = await tcpPair()
    x.close()
    y.close()
    ops += 8
  }
  return ops
}

const startFds = fdCount()
const sync = socketpair(AF_UNIX, SOCK_STREAM)
const tcp = await tcpPair()
const samples = []
const t0 = Date.now()
let ops = 0
let nextSample = 0
for (let r = 0; ops < OPS; r++) {
  if (ops >= nextSample) {
    gc()
    samples.push({ ops, rssMB: mb(process.memoryUsage().rss), fds: fdCount() })
    nextSample += OPS / SAMPLES
  }
  ops += await round(r, sync, tcp)
}
for (const s of [...sync, ...tcp]) s.close()
gc()
await new Promise((r) => setImmediate(r))
samples.push({ ops, rssMB: mb(process.memoryUsage().rss), fds: fdCount() })
const seconds = (Date.now() - t0) / 1000

const warm = samples.find((s) => s.ops >= OPS / 4) ?? samples[0]
const afterWarm = samples.filter((s) => s.ops >= warm.ops)
const growthMB = Math.max(...afterWarm.map((s) => s.rssMB)) - warm.rssMB
const endFds = fdCount()
const ok = growthMB <= MAX_GROWTH_MB && endFds === startFds

log('ops        RSS MB   fds')
for (const s of samples) {
  log(
    `${String(s.ops).padStart(9)}  ${s.rssMB.toFixed(1).padStart(7)}  ${String(s.fds).padStart(4)}`,
  )
}
log(
  `${ops} ops in ${seconds.toFixed(1)} s; RSS growth after warm-up (${warm.ops} ops): ` +
    `${growthMB.toFixed(1)} MB (bound ${MAX_GROWTH_MB} MB); fds ${startFds} -> ${endFds}` +
    `${globalThis.gc ? '' : ' (run with --expose-gc for steadier RSS)'}: ${ok ? 'OK' : 'FAIL'}`,
)
console.log(
  JSON.stringify({
    ok,
    ops,
    seconds,
    growthMB,
    maxGrowthMB: MAX_GROWTH_MB,
    startFds,
    endFds,
    samples,
  }),
)
process.exitCode = ok ? 0 : 1
