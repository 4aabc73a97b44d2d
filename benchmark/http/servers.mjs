// The HTTP servers benchmark/http.mjs compares, one per process: `node servers.mjs <kind>`
// prints `PORT <n>` and serves until stdin closes. Each does the same parsing (parse.mjs)
// but node:http, which is Node's own full HTTP stack (the usual choice, for reference).
import http from 'node:http'
import net from 'node:net'
import { loop } from '../../dist/index.js'
import { exitWhenStdinCloses } from '../servers/contract.mjs'
import { BODY, HttpParser } from './parse.mjs'

const kind = process.argv[2]
let port

if (kind === 'transport') {
  class Http {
    parser = new HttpParser()
    connectionMade(t) {
      this.t = t
    }
    dataReceived(data) {
      const [replies, close] = this.parser.feed(data)
      if (replies) this.t.write(replies)
      if (close) this.t.close()
    }
  }
  const server = await loop.createServer(() => new Http(), '127.0.0.1', 0, { backlog: 4096 })
  port = server.sockets[0].getsockname()[1]
} else if (kind === 'net') {
  const server = net.createServer({ noDelay: true }, (c) => {
    const parser = new HttpParser()
    c.on('data', (data) => {
      const [replies, close] = parser.feed(data)
      if (replies) c.write(replies)
      if (close) c.end()
    })
    c.on('error', () => {})
  })
  await new Promise((r) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, r))
  port = server.address().port
} else if (kind === 'http') {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': BODY.length })
    res.end(BODY)
  })
  server.keepAliveTimeout = 30_000
  await new Promise((r) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, r))
  port = server.address().port
} else {
  console.error(`servers.mjs: unknown kind ${kind} (transport, net, http)`)
  process.exit(2)
}
process.stdout.write(`PORT ${port}\n`)
exitWhenStdinCloses()
