// The blocking (sync) API on the same work: one connection at a time, served by plain blocking
// accept/recvInto/sendall calls in a worker thread, where blocking calls belong. The main
// thread only watches stdin. Serves ping-pong on one connection, accept and stream.
//
//   node benchmark/servers/bsd-sync.mjs [--mode echo|sink|close] [--port 0] [--backlog 4096]
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { IPPROTO_TCP, TCP_NODELAY } from '../../dist/index.js'
import { exitWhenStdinCloses, serverOptions } from './contract.mjs'
import { tcpListener } from './listener.mjs'

if (isMainThread) {
  const opts = serverOptions('bsd-sync')
  const worker = new Worker(new URL(import.meta.url), { workerData: opts })
  worker.on('message', (port) => process.stdout.write(`PORT ${port}\n`))
  worker.on('error', (e) => {
    console.error(`bsd-sync: ${e.message}`)
    process.exit(1)
  })
  exitWhenStdinCloses()
} else {
  const { mode } = workerData
  const srv = tcpListener(workerData)
  parentPort.postMessage(srv.getsockname()[1])
  const buf = Buffer.allocUnsafe(65536)
  for (;;) {
    const [conn] = srv.accept()
    try {
      if (mode === 'echo') {
        conn.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
        for (;;) {
          const n = conn.recvInto(buf)
          if (n === 0) break
          conn.sendall(n === buf.length ? buf : buf.subarray(0, n))
        }
      } else if (mode === 'sink') {
        while (conn.recvInto(buf) > 0);
      }
    } catch {
      // a client's RST is not our failure
    } finally {
      conn.close()
    }
  }
}
