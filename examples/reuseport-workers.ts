// Scaling across cores with SO_REUSEPORT: N worker_threads, each with its own listening
// socket on the same port, each served by node:http through listen({ fd }). The kernel
// spreads incoming connections across the listeners; the main thread sends requests (one
// connection each) and reports how many each worker served.
//
//   npm run build && npx tsc -p tsconfig.examples.json
//   node dist-examples/reuseport-workers.js [workers = cores] [requests = 200]
import http from 'node:http'
import { availableParallelism } from 'node:os'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { createServer, SO_REUSEPORT, SOL_SOCKET, socket } from 'bsd-sockets'

const BACKLOG = 1024

if (isMainThread) {
  const workers = Number(process.argv[2] ?? availableParallelism())
  const requests = Number(process.argv[3] ?? 200)

  // Reserve a port: bound with SO_REUSEPORT but not listening, so it takes no connections.
  const reserve = socket()
  if (SO_REUSEPORT === undefined) throw new Error('SO_REUSEPORT: not on this platform (Windows)')
  reserve.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)
  reserve.bind(['127.0.0.1', 0])
  const port = reserve.getsockname()[1]

  const pool = Array.from({ length: workers }, (_, id) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { id, port } })
    return { w, ready: new Promise((resolve) => w.once('message', resolve)) }
  })
  await Promise.all(pool.map((p) => p.ready))
  reserve.close()

  /** One GET on a fresh connection; resolves with the id of the worker that answered. */
  const get = () =>
    new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
          let body = ''
          res.setEncoding('utf8').on('data', (d: string) => {
            body += d
          })
          res.on('end', () => resolve(body))
        })
        .on('error', reject)
    })

  const served = new Map<string, number>()
  for (let done = 0; done < requests; ) {
    const batch = Math.min(20, requests - done)
    for (const id of await Promise.all(Array.from({ length: batch }, get))) {
      served.set(id, (served.get(id) ?? 0) + 1)
    }
    done += batch
  }
  for (let id = 0; id < workers; id++) {
    console.log(`worker ${id}: ${served.get(String(id)) ?? 0} connections`)
  }
  await Promise.all(pool.map(({ w }) => w.terminate()))
} else {
  const { id, port } = workerData as { id: number; port: number }
  // Each worker its own listener on the shared port; Node's http serves it from here on.
  const listener = createServer(['127.0.0.1', port], { reusePort: true, backlog: BACKLOG })
  const server = http.createServer((_req, res) => res.end(String(id)))
  // Pass the backlog again: Node calls listen(2) on the fd and would use its default (511).
  server.listen({ fd: listener.detach() }, BACKLOG, () => parentPort?.postMessage('ready'))
}
