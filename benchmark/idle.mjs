// Memory per idle connection: a server holds N connections that each echoed one byte and
// then went quiet; this prints how much its RSS and JS heap grew per connection, for the
// transport server (one shared read buffer, nothing per idle connection but the transport,
// the Socket and libuv's poll handle) and node:net. Kernel socket buffers are kernel
// memory, not in the RSS.
//
//   npm run build && node benchmark/idle.mjs [--conns 10000]
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { AF_INET, SOCK_STREAM, socket } from '../dist/index.js'

const { values: opt } = parseArgs({
  options: { conns: { type: 'string', default: '10000' }, child: { type: 'string' } },
})

if (opt.child) await child(opt.child)
else await main(Number(opt.conns))

/** The server process: `transport` or `net`; answers `mem` on stdin with a JSON line. */
async function child(kind) {
  let port
  if (kind === 'transport') {
    const { loop } = await import('../dist/index.js')
    class Echo {
      connectionMade(t) {
        this.t = t
      }
      dataReceived(d) {
        this.t.write(d)
      }
    }
    const server = await loop.createServer(() => new Echo(), '127.0.0.1', 0, { backlog: 4096 })
    port = server.sockets[0].getsockname()[1]
  } else {
    const net = await import('node:net')
    const server = net.createServer({ noDelay: true }, (c) => c.on('data', (d) => c.write(d)))
    await new Promise((r) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, r))
    port = server.address().port
  }
  console.log(JSON.stringify({ port }))
  for await (const line of createInterface({ input: process.stdin })) {
    if (line !== 'mem') continue
    // Twice: the first full GC may leave finalizable garbage for the second.
    globalThis.gc()
    globalThis.gc()
    const m = process.memoryUsage()
    console.log(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external }))
  }
  process.exit(0)
}

async function main(conns) {
  console.log(`${conns} idle connections, each after one 1-byte echo (node ${process.version})`)
  console.log('| server | RSS per connection | JS heap per connection |')
  console.log('| --- | --- | --- |')
  for (const kind of ['transport', 'net']) {
    const proc = spawn(process.execPath, ['--expose-gc', import.meta.filename, '--child', kind], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]()
    const next = async () => JSON.parse((await lines.next()).value)
    const { port } = await next()
    const clients = []
    const open = (n) => {
      for (let i = 0; i < n; i++) {
        const s = socket(AF_INET, SOCK_STREAM)
        s.settimeout(10)
        s.connect(['127.0.0.1', port])
        s.send('x')
        if (s.recv(1).length !== 1) throw new Error('no echo')
        clients.push(s)
      }
    }
    open(100) // warm: code compiled, pools and tables past their first sizes
    proc.stdin.write('mem\n')
    const before = await next()
    open(conns)
    proc.stdin.write('mem\n')
    const after = await next()
    const per = (k) => `${((after[k] - before[k]) / conns).toFixed(0)} B`
    console.log(
      `| ${kind === 'net' ? 'node:net' : 'bsd-sockets transport'} | ${per('rss')} | ${per('heapUsed')} |`,
    )
    for (const s of clients) s.close()
    proc.stdin.end()
    await new Promise((r) => proc.on('exit', r))
  }
}
