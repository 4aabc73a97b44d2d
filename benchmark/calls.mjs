// Per-call costs that decide the hot path's shape, with tinybench:
// how much crossing into Rust costs per binding shape, and a thrown error against a
// returned -errno on the EAGAIN path. Uses the built package: npm run build first.
//
//   node benchmark/calls.mjs [--time ms]
import { Bench } from 'tinybench'
import { native } from '../dist/binding.js'
import { AF_INET, errno, SOCK_STREAM, socket } from '../dist/index.js'

const time = Number(process.argv[process.argv.indexOf('--time') + 1]) || 1000

const srv = socket(AF_INET, SOCK_STREAM)
srv.bind(['127.0.0.1', 0])
srv.listen(1)
const client = socket(AF_INET, SOCK_STREAM)
client.connect(srv.getsockname())
const [peer] = srv.accept()
client.setblocking(false)
const fd = client.fileno()
const buf = Buffer.allocUnsafe(65536)
const handle = native.sockNew(AF_INET, SOCK_STREAM, 0)
const EAGAIN = -errno.EAGAIN

const bench = new Bench({ time })
bench
  // Crossing cost per shape, each with the cheapest call of that shape.
  .add('#[napi] free function on the socket handle (sockInfo)', () => native.sockInfo(handle))
  .add('creating a socket handle (sockNew + its close)', () =>
    native.sockClose(native.sockNew(AF_INET, SOCK_STREAM, 0)),
  )
  .add('#[napi] free function (errnoName)', () => native.errnoName(11))
  .add('hand-registered N-API callback (reactorSetRef, unknown id)', () =>
    native.reactorSetRef(0, false),
  )
  // The EAGAIN path, the same recv(2) each time.
  .add('raw recvIntoFd(fd, buf) -> -EAGAIN', () => native.recvIntoFd(fd, buf, buf.length, 0, 0))
  .add('sock.tryRecvInto(buf) -> -EAGAIN', () => {
    if (client.tryRecvInto(buf) !== EAGAIN) throw new Error('expected -EAGAIN')
  })
  .add('sock.recvInto(buf) throws BlockingIOError', () => {
    try {
      client.recvInto(buf)
    } catch {}
  })

await bench.run()
console.table(
  bench.tasks.map((t) => ({
    call: t.name,
    'ns/call': Math.round(t.result.latency.mean * 1e6),
    'calls/s': Math.round(t.result.throughput.mean).toLocaleString('en-US'),
  })),
)
for (const s of [client, peer, srv]) s.close()
native.sockClose(handle)
