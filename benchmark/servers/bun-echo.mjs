// The Bun peer of net-echo.mjs: the same work with Bun.listen (run under bun; the runner
// finds bun where `npm run bench:peers` installed it, or through $BUN).
//
//   bun benchmark/servers/bun-echo.mjs [--mode echo|sink|close] [--port 0] [--backlog 4096]
import { exitWhenStdinCloses, serverOptions } from './contract.mjs'

const opts = serverOptions('bun-echo')

/** Echo bytes a socket would not take yet, sent from drain (as net-echo's back-pressure). */
const pending = new Map()

const handlers = {
  echo: {
    data(socket, data) {
      const queued = pending.get(socket)
      if (queued) {
        pending.set(socket, Buffer.concat([queued, data]))
        return
      }
      const n = socket.write(data)
      if (n < data.length) pending.set(socket, data.subarray(Math.max(n, 0)))
    },
    drain(socket) {
      const queued = pending.get(socket)
      if (!queued) return
      const n = socket.write(queued)
      if (n >= queued.length) pending.delete(socket)
      else pending.set(socket, queued.subarray(Math.max(n, 0)))
    },
    close(socket) {
      pending.delete(socket)
    },
  },
  sink: { data() {} },
  close: {
    open(socket) {
      socket.end()
    },
    data() {},
  },
}[opts.mode]

const server = Bun.listen({
  hostname: '127.0.0.1',
  port: opts.port,
  socket: { error() {}, ...handlers },
})
process.stdout.write(`PORT ${server.port}\n`)
exitWhenStdinCloses()
