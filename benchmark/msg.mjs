// sendmsg/recvmsg round trips on an AF_UNIX stream pair, with tinybench: three
// buffers joined then sent against the same three sent as one vectored message, and one fd
// passed and closed per message; then the fd round trip in Python's socket module on the same
// machine, for the ratio. Uses the built package: npm run build first.
//
//   node benchmark/msg.mjs [--time ms]
import { spawnSync } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { Bench } from 'tinybench'
import { recvFds, sendFds, socketpair } from '../dist/index.js'

const time = Number(process.argv[process.argv.indexOf('--time') + 1]) || 1000

const [a, b] = socketpair()
const parts = [Buffer.alloc(16, 1), Buffer.alloc(32, 2), Buffer.alloc(16, 3)]
const whole = Buffer.alloc(64)
const head = Buffer.alloc(16)
const body = Buffer.alloc(48)
const devnull = openSync('/dev/null', 'r')

const bench = new Bench({ time })
bench
  .add('send(Buffer.concat(3 parts)) + recvInto', () => {
    a.send(Buffer.concat(parts))
    b.recvInto(whole)
  })
  .add('sendmsg(3 parts) + recvInto', () => {
    a.sendmsg(parts)
    b.recvInto(whole)
  })
  .add('sendmsg(3 parts) + recvmsgInto([16 B, 48 B])', () => {
    a.sendmsg(parts)
    b.recvmsgInto([head, body])
  })
  .add('sendmsg(3 parts) + recvmsg(64)', () => {
    a.sendmsg(parts)
    b.recvmsg(64)
  })
  .add('sendFds(1 fd) + recvFds + close', () => {
    sendFds(a, parts, [devnull])
    closeSync(recvFds(b, 64, 1)[1][0])
  })

await bench.run()
console.table(
  bench.tasks.map((t) => ({
    'round trip': t.name,
    'ns/op': Math.round(t.result.latency.mean * 1e6),
    'ops/s': Math.round(t.result.throughput.mean).toLocaleString('en-US'),
  })),
)
for (const s of [a, b]) s.close()
closeSync(devnull)

// The same fd round trip in CPython (three parts, send_fds, recv_fds, os.close), best of 3 runs of 100k.
const python = spawnSync(
  'python3',
  [
    '-c',
    `import os, socket, time
a, b = socket.socketpair()
fd = os.open('/dev/null', os.O_RDONLY)
best = None
for _ in range(3):
    t = time.perf_counter()
    for _ in range(100000):
        socket.send_fds(a, [b'a' * 16, b'b' * 32, b'c' * 16], [fd])
        os.close(socket.recv_fds(b, 64, 1)[1][0])
    best = min(best or 1e9, (time.perf_counter() - t) / 100000)
print(round(best * 1e9))`,
  ],
  { encoding: 'utf8' },
)
const ours = bench.tasks.at(-1)?.result?.latency.mean
if (python.status === 0 && ours) {
  const ns = Number(python.stdout)
  console.log(
    `Python send_fds + recv_fds + os.close: ${ns} ns/op; ours ${Math.round(ours * 1e6)} ns/op (${(ns / (ours * 1e6)).toFixed(2)}x Python's rate)`,
  )
} else {
  console.log('python3 not found: no Python figure')
}
