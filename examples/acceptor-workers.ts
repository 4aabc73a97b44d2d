// One acceptor, many workers: the main thread accepts connections and passes each fd to a
// worker thread in turn (detach() -> postMessage(fd) -> fromfd(fd)); the workers echo. Use
// this when one listener must stay in one place (one queue, its options, its address) while
// the work is spread across cores. The main thread also runs the clients and reports how
// many connections each worker served.
//
//   npm run build && npx tsc -p tsconfig.examples.json
//   node dist-examples/acceptor-workers.js [workers = cores] [connections = 200]
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { isMainThread, parentPort, Worker } from 'node:worker_threads'
import { createServer, fromfd, SHUT_WR, type Socket, socket } from 'bsd-sockets'

if (isMainThread) {
  const workers = Number(process.argv[2] ?? availableParallelism())
  const connections = Number(process.argv[3] ?? 200)
  const pool = Array.from({ length: workers }, () => new Worker(new URL(import.meta.url)))

  const srv = createServer(['127.0.0.1', 0], { backlog: 1024 })
  const counts = new Array<number>(workers).fill(0)
  const acceptor = (async () => {
    let next = 0
    for await (const [conn] of srv) {
      // The fd now belongs to the worker: detach() so this thread never closes it.
      pool[next]?.postMessage(conn.detach())
      counts[next] = (counts[next] ?? 0) + 1
      next = (next + 1) % workers
    }
  })()

  /** Sends 16 KiB on a fresh connection and checks every byte comes back. */
  const client = async () => {
    const c = socket()
    try {
      await c.connectAsync(srv.getsockname())
      const data = randomBytes(16384)
      await c.sendallAsync(data)
      c.shutdown(SHUT_WR) // the worker sees end of stream once it has echoed everything
      const chunks: Buffer[] = []
      for (let b = await c.recvAsync(65536); b.length; b = await c.recvAsync(65536)) chunks.push(b)
      if (!Buffer.concat(chunks).equals(data)) throw new Error('echo mismatch')
    } finally {
      c.close()
    }
  }
  for (let done = 0; done < connections; done += 20) {
    await Promise.all(Array.from({ length: Math.min(20, connections - done) }, client))
  }
  srv.close() // ends the acceptor's loop
  await acceptor
  for (const [id, n] of counts.entries()) console.log(`worker ${id}: ${n} connections`)
  await Promise.all(pool.map((w) => w.terminate()))
} else {
  /** Echoes until the client closes its side. */
  const echo = async (conn: Socket) => {
    const buf = Buffer.alloc(65536)
    try {
      for (let n = await conn.recvIntoAsync(buf); n > 0; n = await conn.recvIntoAsync(buf)) {
        await conn.sendallAsync(buf.subarray(0, n))
      }
    } finally {
      conn.close()
    }
  }
  // fromfd() takes ownership: this worker closes the connection when done.
  parentPort?.on('message', (fd: number) => void echo(fromfd(fd)))
}
