// The node:net peer of crates/bench's bench-server: the same work on Node's own sockets.
//
//   node benchmark/servers/net-echo.mjs [--mode echo|sink|close] [--port 0] [--backlog 4096]
//
// Prints `PORT <n>` once listening on 127.0.0.1, then serves until killed or until stdin
// reaches end of file (the runner holds a pipe on it). Modes, as for every benchmark server:
//   echo   send back every byte received (ping-pong, fan-out)
//   sink   read and discard; close at end of stream (stream)
//   close  close every accepted connection at once (accept rate)
import { fstatSync } from 'node:fs'
import net from 'node:net'

const opts = { mode: 'echo', port: '0', backlog: '4096' }
const argv = process.argv.slice(2)
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '')
  if (!(key in opts) || argv[i + 1] === undefined) {
    console.error(`net-echo: bad option ${argv[i]}`)
    process.exit(2)
  }
  opts[key] = argv[i + 1]
}

/** @type {Record<string, (socket: net.Socket) => void>} */
const handlers = {
  echo(socket) {
    socket.on('data', (chunk) => {
      // Back-pressure as a real echo server must: stop reading until the echo drains.
      if (!socket.write(chunk)) {
        socket.pause()
        socket.once('drain', () => socket.resume())
      }
    })
  },
  sink(socket) {
    // allowHalfOpen is false: at end of stream Node ends our side too, which the client waits for.
    socket.on('data', () => {})
  },
  close(socket) {
    socket.destroy()
  },
}

const handler = handlers[opts.mode]
if (!handler) {
  console.error(`net-echo: unknown mode ${opts.mode}`)
  process.exit(2)
}

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => {}) // a client's RST is not our failure
  handler(socket)
})
server.listen({ host: '127.0.0.1', port: Number(opts.port), backlog: Number(opts.backlog) }, () => {
  process.stdout.write(`PORT ${server.address().port}\n`)
})

// A pipe on stdin is the runner's leash: end of file stops the server. Anything else (a
// terminal, /dev/null) leaves only a signal to do it, as for bench-server.
const stdin = fstatSync(0)
if (stdin.isFIFO() || stdin.isSocket()) {
  process.stdin.on('end', () => process.exit(0))
  process.stdin.on('error', () => process.exit(0))
  process.stdin.resume()
}
