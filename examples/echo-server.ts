// An echo server on Node's event loop: every client served concurrently by async methods,
// while timers and other I/O keep running on the same thread.
//
//   npm run build && npx tsc -p tsconfig.examples.json
//   PORT=7000 node dist-examples/echo-server.js      # then: PORT=7000 node dist-examples/echo-client.js
import { AF_INET, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET, type Socket, socket } from 'bsd-sockets'

const PORT = Number(process.env.PORT ?? 7000)

const srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.bind(['127.0.0.1', PORT])
srv.listen(1024)
console.log('echo server listening on', srv.getsockname())

/** Echoes until the client closes; one 64 KiB buffer per connection, reused for every read. */
async function serve(conn: Socket): Promise<void> {
  const buf = Buffer.alloc(65536)
  try {
    for (;;) {
      const n = await conn.recvIntoAsync(buf)
      if (n === 0) break // the client closed its side
      await conn.sendallAsync(buf.subarray(0, n))
    }
  } catch (e) {
    console.error('connection error:', (e as Error).message)
  } finally {
    conn.close()
  }
}

// Async iteration over a listening socket = acceptAsync() in a loop.
for await (const [conn] of srv) void serve(conn)
