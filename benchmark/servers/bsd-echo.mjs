// The bsd-sockets peer of net-echo.mjs: the same work with this package's async methods on
// Node's event loop (uses the built package: npm run build first).
//
//   node benchmark/servers/bsd-echo.mjs [--mode echo|sink|close] [--port 0] [--backlog 4096]
import { IPPROTO_TCP, TCP_NODELAY } from '../../dist/index.js'
import { exitWhenStdinCloses, serverOptions } from './contract.mjs'
import { tcpListener } from './listener.mjs'

const opts = serverOptions('bsd-echo')

/** @type {Record<string, (conn: import('../../dist/index.js').Socket) => Promise<void>>} */
const handlers = {
  async echo(conn) {
    const buf = Buffer.allocUnsafe(65536)
    // The view echoed for a read of `n` bytes, kept while reads keep that size (as ping-pong's do).
    let view = buf
    for (;;) {
      const n = await conn.recvIntoAsync(buf)
      if (n === 0) return
      if (n !== view.length) view = buf.subarray(0, n)
      await conn.sendallAsync(view)
    }
  },
  async sink(conn) {
    const buf = Buffer.allocUnsafe(65536)
    while ((await conn.recvIntoAsync(buf)) > 0);
  },
}

const handler = handlers[opts.mode]

const srv = tcpListener(opts)
process.stdout.write(`PORT ${srv.getsockname()[1]}\n`)

exitWhenStdinCloses()

for await (const [conn] of srv) {
  // As bench-server and bsd-poller.mjs do: a connection closed at once gets no options.
  if (opts.mode === 'close') {
    conn.close()
    continue
  }
  conn.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
  handler(conn)
    .catch(() => {}) // a client's RST is not our failure
    .finally(() => conn.close())
}
