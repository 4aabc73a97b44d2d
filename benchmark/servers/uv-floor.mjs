// The floor of any server on Node's event loop (crates/bench-floor): every accepted connection
// is handed to an addon that echoes inside libuv's poll callback, with no JS per message. The
// listener is ours (Poller + tryAccept). Echo mode only: ping-pong and fan-out. Needs
// `cargo build --release -p bsd-sockets-bench-floor` (npm run bench does it).
//
//   node benchmark/servers/uv-floor.mjs --mode echo [--port 0] [--backlog 4096]
import { fileURLToPath } from 'node:url'
import { IPPROTO_TCP, POLLIN, Poller, TCP_NODELAY } from '../../dist/index.js'
import { exitWhenStdinCloses, serverOptions } from './contract.mjs'
import { tcpListener } from './listener.mjs'

const opts = serverOptions('uv-floor')
if (opts.mode !== 'echo') {
  console.error('uv-floor: echo mode only')
  process.exit(2)
}
const floor = { exports: {} }
process.dlopen(
  floor,
  fileURLToPath(new URL('../../target/release/libbsd_sockets_bench_floor.so', import.meta.url)),
)

const srv = tcpListener(opts)
process.stdout.write(`PORT ${srv.getsockname()[1]}\n`)

exitWhenStdinCloses()

const poller = new Poller()
poller.register(srv, POLLIN)
poller.watch(() => {
  for (;;) {
    const r = srv.tryAccept()
    if (typeof r === 'number') return
    const [conn] = r
    conn.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
    floor.exports.echoInLoop(conn.detach())
  }
})
