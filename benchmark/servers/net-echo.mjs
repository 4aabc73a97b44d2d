// The node:net peer of crates/bench's bench-server: the same work on Node's own sockets.
//
//   node benchmark/servers/net-echo.mjs [--mode echo|sink|close] [--port 0] [--backlog 4096]
//
// Prints `PORT <n>` once listening on 127.0.0.1, then serves until killed or until stdin
// reaches end of file (the runner holds a pipe on it). Modes, as for every benchmark server:
//   echo   send back every byte received (ping-pong, fan-out)
//   sink   read and discard; close at end of stream (stream)
//   close  close every accepted connection at once (accept rate)
import net from 'node:net'
import { exitWhenStdinCloses, serverOptions } from './contract.mjs'

const opts = serverOptions('net-echo')

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

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => {}) // a client's RST is not our failure
  handler(socket)
})
server.listen({ host: '127.0.0.1', port: opts.port, backlog: opts.backlog }, () => {
  process.stdout.write(`PORT ${server.address().port}\n`)
})

exitWhenStdinCloses()
