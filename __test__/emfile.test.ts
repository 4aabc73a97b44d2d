// Servers out of file descriptors: a child Node process under `ulimit -n 40` serves 60 clients
// at once, with the README's `for await` loop, with its Poller + tryAccept pattern, and as a
// transport server (loop.createServer). None may die or spin while the listener stays readable
// and accept(2) says EMFILE; all serve everyone once fds are freed.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { AF_INET, SOCK_STREAM, type Socket, socket } from '../ts/index.js'
import { closeTracked, DIST, script, track } from './helpers.js'

afterEach(closeTracked)

const CLIENTS = 60

/** Echoes each connection until EOF; what a server does per connection in both variants. */
const FOR_AWAIT = `
import { createServer } from '${DIST}'
const srv = createServer(['127.0.0.1', 0])
console.log(srv.getsockname()[1])
for await (const [conn] of srv) {
  ;(async () => {
    const buf = Buffer.alloc(64)
    let n
    while ((n = await conn.recvIntoAsync(buf)) > 0) await conn.sendallAsync(buf.subarray(0, n))
    conn.close()
  })()
}
`

const POLLER = `
import { createServer, errno, Poller, POLLIN } from '${DIST}'
const srv = createServer(['127.0.0.1', 0])
console.log(srv.getsockname()[1])
const poller = new Poller()
const conns = new Map()
const buf = Buffer.alloc(64)
poller.register(srv, POLLIN)
poller.watch((events) => {
  for (const [fd] of events) {
    if (fd === srv.fileno()) {
      let r = srv.tryAccept()
      for (; typeof r !== 'number'; r = srv.tryAccept()) {
        conns.set(r[0].fileno(), r[0])
        poller.register(r[0], POLLIN)
      }
      if (r === -errno.EMFILE || r === -errno.ENFILE) {
        // The README's pattern: the listener stays readable, so stop watching it a moment.
        poller.modify(srv, 0)
        setTimeout(() => poller.modify(srv, POLLIN), 100)
      }
      continue
    }
    const conn = conns.get(fd)
    const n = conn.tryRecvInto(buf)
    if (n > 0) conn.trySend(buf.subarray(0, n))
    else if (n !== -errno.EAGAIN) {
      conns.delete(fd)
      conn.close()
    }
  }
})
`

/** A transport server (loop.createServer): its Server pauses accepting on EMFILE by itself. */
const TRANSPORT = `
import { loop } from '${DIST}'
const echo = () => {
  let t
  return { connectionMade: (x) => { t = x }, dataReceived: (d) => t.write(d) }
}
const server = await loop.createServer(echo, '127.0.0.1', 0)
console.log(server.sockets[0].getsockname()[1])
`

/** CPU time (user + system) of `pid` in clock ticks, from /proc. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// Windows: no `ulimit -n` (nor sh, nor /proc for the CPU check) to run a child out of fds.
describe.skipIf(process.platform === 'win32').each([
  ['for await (const [conn] of srv)', FOR_AWAIT, false],
  ['a Poller with tryAccept, as the README shows', POLLER, false],
  ['a loop.createServer echo server, which reports the pause to stderr', TRANSPORT, true],
])('out of fds (ulimit -n 40, %s)', (_name, code, reportsPause) => {
  it(`serves ${CLIENTS} clients: pauses on EMFILE without spinning, resumes as fds free up`, async () => {
    const child = spawn(
      'sh',
      ['-c', 'ulimit -n 40 && exec "$0" "$1"', process.execPath, script(code)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    let stderr = ''
    const pauseReports = () => stderr.split('pausing until fds are freed').length - 1
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    const exited = new Promise<string>((resolve) =>
      child.on('exit', (c, sig) => resolve(`server exited (${c ?? sig}): ${stderr}`)),
    )
    try {
      const port = await Promise.race([
        new Promise<number>((resolve) =>
          child.stdout.setEncoding('utf8').once('data', (d: string) => resolve(Number(d))),
        ),
        exited.then((why) => Promise.reject(new Error(why))),
      ])
      const clients: Socket[] = []
      const answered = new Set<number>()
      let hangUp = false
      const replies = Array.from({ length: CLIENTS }, (_, i) => {
        const c = track(socket(AF_INET, SOCK_STREAM))
        clients.push(c)
        c.connect(['127.0.0.1', port]) // completes from the backlog, accepted or not
        c.sendall(`${i}`.padStart(2, '0'))
        return c.recvAsync(2, 0, { timeout: 20 }).then((b) => {
          answered.add(i)
          if (hangUp) c.close()
          return b.toString()
        })
      })
      const failed = Promise.race([
        exited.then((why) => Promise.reject(new Error(why))),
        Promise.all(replies).then(() => Promise.reject(new Error('no fd ran out'))),
      ])
      failed.catch(() => {})
      // Wait until the answers stop coming: the server holds every fd it may have.
      for (let last = -1, i = 0; i < 200 && answered.size !== last; i++) {
        last = answered.size
        await Promise.race([sleep(200), failed])
      }
      expect(answered.size).toBeGreaterThan(0)
      expect(answered.size).toBeLessThan(CLIENTS)
      // Stalled on EMFILE with the listener readable: a spinning loop would burn a core here.
      const reported = pauseReports()
      const before = cpuTicks(child.pid as number)
      await Promise.race([sleep(1000), exited])
      expect(cpuTicks(child.pid as number) - before).toBeLessThan(30) // of ~100 ticks in 1 s
      // The Server reports a pause to the exception handler (the default logs to stderr),
      // once: retries that still find no fd are the same pause, not a log line each.
      if (reportsPause) expect(reported).toBeGreaterThan(0)
      expect(pauseReports()).toBe(reported)
      // Freeing fds (each answered client hangs up) lets it serve the rest.
      hangUp = true
      for (const i of answered) clients[i]?.close()
      const all = await Promise.race([
        Promise.all(replies),
        exited.then((w) => Promise.reject(new Error(w))),
      ])
      expect(all).toEqual(Array.from({ length: CLIENTS }, (_, i) => `${i}`.padStart(2, '0')))
      if (!reportsPause) expect(stderr).toBe('')
    } finally {
      clearTimeout(killer)
      child.kill('SIGKILL')
    }
  })
})
