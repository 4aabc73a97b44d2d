// The bsd-sockets protocols-and-transports peer of net-echo.mjs: loop.createServer with a
// Protocol (each read a Buffer of its own) or, with `--protocol buffered`, a BufferedProtocol
// reading into one buffer of its own (no copy). Uses the built package (npm run build first).
//
//   node benchmark/servers/bsd-transport.mjs [--mode echo|sink|close] [--port 0] [--backlog 4096]
//                                            [--protocol plain|buffered]
import { loop } from '../../dist/index.js'
import { exitWhenStdinCloses, serverOptions } from './contract.mjs'
import { tcpListener } from './listener.mjs'

const opts = serverOptions('bsd-transport', { protocol: 'plain' })

class Echo {
  connectionMade(t) {
    this.t = t
  }
  dataReceived(data) {
    this.t.write(data)
  }
}

const buf = Buffer.allocUnsafe(65536)
// The view echoed for a read of `n` bytes, kept while reads keep that size (as bsd-echo.mjs).
let view = buf

class BufferedEcho {
  connectionMade(t) {
    this.t = t
  }
  getBuffer() {
    return buf
  }
  bufferUpdated(n) {
    if (n !== view.length) view = buf.subarray(0, n)
    this.t.write(view)
  }
}

class Sink {
  dataReceived() {}
}

class CloseAtOnce {
  connectionMade(t) {
    t.abort()
  }
  dataReceived() {}
}

const factory = {
  echo: opts.protocol === 'buffered' ? () => new BufferedEcho() : () => new Echo(),
  sink: () => new Sink(),
  close: () => new CloseAtOnce(),
}[opts.mode]

const server = await loop.createServer(factory, { sock: tcpListener(opts) })
process.stdout.write(`PORT ${server.sockets[0].getsockname()[1]}\n`)
exitWhenStdinCloses()
