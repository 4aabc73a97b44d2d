// Per-call cost of tryRecvInto on an empty connected TCP socket (64 KiB buffer): the
// EAGAIN path, no exception, no allocation. Prints one JSON line for benchmark/run.mjs.
//
//   node benchmark/servers/bsd-eagain.mjs [--duration 3] [--warmup 0.5]
import { AF_INET, errno, SOCK_STREAM, socket } from '../../dist/index.js'

const opts = { duration: '3', warmup: '0.5' }
const argv = process.argv.slice(2)
for (let i = 0; i < argv.length; i += 2) opts[argv[i].replace(/^--/, '')] = argv[i + 1]

const srv = socket(AF_INET, SOCK_STREAM)
srv.bind(['127.0.0.1', 0])
srv.listen(1)
const client = socket(AF_INET, SOCK_STREAM)
client.connect(srv.getsockname())
const [peer] = srv.accept()
client.setblocking(false)
const buf = Buffer.allocUnsafe(65536)
if (client.tryRecvInto(buf) !== -errno.EAGAIN)
  throw new Error('expected -EAGAIN on an empty socket')

/** Calls in batches of 1000 until `seconds` pass; returns [calls, seconds, cpuSeconds]. */
function run(seconds) {
  const t0 = process.hrtime.bigint()
  const c0 = process.cpuUsage()
  const end = t0 + BigInt(Math.round(seconds * 1e9))
  let calls = 0
  let now = t0
  while (now < end) {
    for (let i = 0; i < 1000; i++) {
      client.tryRecvInto(buf)
    }
    calls += 1000
    now = process.hrtime.bigint()
  }
  const cpu = process.cpuUsage(c0)
  return [calls, Number(now - t0) / 1e9, (cpu.user + cpu.system) / 1e6]
}

run(Number(opts.warmup))
const [calls, secs, cpu] = run(Number(opts.duration))
console.log(
  JSON.stringify({ rate: calls / secs, unit: 'calls/s', ops: calls, client_cpu: cpu / secs }),
)
for (const s of [client, peer, srv]) s.close()
