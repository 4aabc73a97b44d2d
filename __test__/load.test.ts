// Load and faults against the async echo server (acceptAsync / recvIntoAsync / sendallAsync on
// Node's event loop), with a Python child (selectors, non-blocking sockets) as the clients:
// - 5,000 connections held open at once, every byte echoed exactly, none lost;
// - a connect flood of 2,000 against listen(8), half of it reset: the server keeps serving;
// - mixed faulty peers at once: resets mid-stream (SO_LINGER 0), half-closes (the server sees
//   EOF and still sends), silent peers (the server's recvIntoAsync `{ timeout }` rejects with
//   ETIMEDOUT and it closes them), next to normal clients.
// Loopback only, bounded in count and time, no timing assertion; the fd count of this process
// is back to its start after each test. The sync-API faults (reset, half-close, silent peer,
// flood of listen(4), a blocked recv released by shutdown) are in lifecycle.test.ts.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  errno,
  SHUT_WR,
  SOCK_STREAM,
  type Socket,
  SocketError,
  socket,
} from '../ts/index.js'
import { canCountFds, closeTracked, errname, hasPython, openFdCount, track } from './helpers.js'

afterEach(closeTracked)

const CONNECTIONS = 5000

/** This process's soft RLIMIT_NOFILE (Linux), or Infinity where /proc is missing. */
function nofileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    return m ? Number(m[1]) : Number.POSITIVE_INFINITY
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

const fdCount = () => (canCountFds ? openFdCount() : 0)

interface Stats {
  accepted: number
  open: number
  peakOpen: number
  bytesIn: number
  bytesOut: number
  /** Per error code, what ended a connection other than EOF. */
  errors: Record<string, number>
  /** Connections that reached EOF and got the trailer. */
  halfClosed: number
}

interface EchoServer {
  address: [string, number]
  stats: Stats
  /** Closes the listener and waits for every connection handler to end. */
  stop(): Promise<void>
}

/**
 * An async echo server on 127.0.0.1: echoes until EOF, then sends `trailer` (a half-closed
 * peer can still read) and closes. `idle` (seconds): a recv that waits longer rejects with
 * ETIMEDOUT and the connection is closed.
 */
function echoServer(backlog: number, trailer = '', idle?: number): EchoServer {
  const srv = socket(AF_INET, SOCK_STREAM)
  srv.bind(['127.0.0.1', 0])
  srv.listen(backlog)
  const stats: Stats = {
    accepted: 0,
    open: 0,
    peakOpen: 0,
    bytesIn: 0,
    bytesOut: 0,
    errors: {},
    halfClosed: 0,
  }
  const handlers: Promise<void>[] = []
  const opts = idle === undefined ? undefined : { timeout: idle }
  async function handle(conn: Socket): Promise<void> {
    stats.open++
    stats.peakOpen = Math.max(stats.peakOpen, stats.open)
    const buf = Buffer.alloc(4096)
    try {
      for (;;) {
        const n = opts ? await conn.recvIntoAsync(buf, 0, 0, opts) : await conn.recvIntoAsync(buf)
        if (n === 0) break
        stats.bytesIn += n
        await conn.sendallAsync(buf.subarray(0, n))
        stats.bytesOut += n
      }
      if (trailer) await conn.sendallAsync(trailer)
      stats.halfClosed++
    } catch (e) {
      if (!(e instanceof SocketError)) throw e
      stats.errors[e.code] = (stats.errors[e.code] ?? 0) + 1
    } finally {
      conn.close()
      stats.open--
    }
  }
  const accepting = (async () => {
    for await (const [conn] of srv) {
      stats.accepted++
      handlers.push(handle(conn))
    }
  })()
  return {
    address: srv.getsockname() as [string, number],
    stats,
    async stop() {
      srv.close()
      await accepting
      await Promise.all(handlers)
    },
  }
}

/** Runs `python3 -c code ...args` (killed after `limitS`); resolves its last stdout line as JSON. */
function pythonJson(
  code: string,
  args: (string | number)[],
  limitS: number,
): Promise<Record<string, unknown>> {
  const script = `import signal, resource\nsignal.alarm(${limitS})\n${RAISE_NOFILE}\n${code}`
  const child = spawn('python3', ['-c', script, ...args.map(String)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d
    })
    child.on('error', reject)
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? ''))
      } catch {
        reject(new Error(`python exited ${code} without JSON:\n${out}\n${err}`))
      }
    })
  })
}

/** The child may need more fds than a default soft limit allows: raise it to the hard one. */
const RAISE_NOFILE = `
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
`

/** Clients: connect all N (at most 256 connects in progress), then echo, verify, close. */
const LOAD_CLIENT = `
import hashlib, json, selectors, socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def payload(i):
    size = 1 + (i * 7919) % 2048
    seed = hashlib.sha256(str(i).encode()).digest()
    return (seed * (size // 32 + 1))[:size]

sel = selectors.DefaultSelector()
conns, pending, failed, started = [], 0, {}, 0
while len(conns) + sum(failed.values()) < n:
    while started < n and pending < 256:
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((host, port))
        sel.register(s, selectors.EVENT_WRITE, started)
        started += 1
        pending += 1
    for key, _ in sel.select(10):
        s = key.fileobj
        sel.unregister(s)
        pending -= 1
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            failed[err] = failed.get(err, 0) + 1
            s.close()
        else:
            conns.append((key.data, s))
held = len(conns)

state = {}
for i, s in conns:
    state[s] = [payload(i), 0, bytearray()]
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
left, mismatched, total = len(conns), 0, 0
while left:
    for key, ev in sel.select(10):
        s = key.fileobj
        st = state[s]
        if ev & selectors.EVENT_WRITE and st[1] < len(st[0]):
            st[1] += s.send(st[0][st[1]:])
            if st[1] == len(st[0]):
                sel.modify(s, selectors.EVENT_READ)
        if ev & selectors.EVENT_READ:
            got = s.recv(65536)
            st[2] += got
            if not got or len(st[2]) >= len(st[0]):
                sel.unregister(s)
                left -= 1
                total += len(st[0])
                if bytes(st[2]) != st[0]:
                    mismatched += 1
for _, s in conns:
    s.close()
print(json.dumps({"held": held, "failed": failed, "mismatched": mismatched, "bytes": total}))
`

describe.skipIf(!hasPython)('load', () => {
  const limit = nofileLimit()
  it.skipIf(limit < CONNECTIONS + 500)(
    `${CONNECTIONS} concurrent connections on the async echo server: every byte echoed (skipped if RLIMIT_NOFILE < ${CONNECTIONS + 500})`,
    async () => {
      const before = fdCount()
      // The kernel caps the backlog at net.core.somaxconn; the client paces its connects.
      const server = echoServer(4096)
      const client = await pythonJson(LOAD_CLIENT, [...server.address, CONNECTIONS], 55)
      await server.stop()
      const expectedBytes = Array.from(
        { length: CONNECTIONS },
        (_, i) => 1 + ((i * 7919) % 2048),
      ).reduce((a, b) => a + b, 0)
      expect(client).toEqual({ held: CONNECTIONS, failed: {}, mismatched: 0, bytes: expectedBytes })
      expect(server.stats).toEqual({
        accepted: CONNECTIONS,
        open: 0,
        // Every connection was open at the same time: the client closes none before all echoed.
        peakOpen: CONNECTIONS,
        bytesIn: expectedBytes,
        bytesOut: expectedBytes,
        errors: {},
        halfClosed: CONNECTIONS,
      })
      expect(fdCount()).toBe(before)
    },
    60_000,
  )
})

/** Fires N non-blocking connects at once, waits up to 3 s for them, closes them (every other one with RST). */
const FLOOD_CLIENT = `
import json, selectors, socket, struct, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sel = selectors.DefaultSelector()
socks, results = [], {}
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    r = s.connect_ex((host, port))
    results[r] = results.get(r, 0) + 1
    sel.register(s, selectors.EVENT_WRITE)
    socks.append(s)
done, deadline = 0, time.monotonic() + 3
while done < n and time.monotonic() < deadline:
    for key, _ in sel.select(0.2):
        sel.unregister(key.fileobj)
        done += 1
for i, s in enumerate(socks):
    if i % 2:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()
print(json.dumps({"connects": n, "completed": done, "results": {str(k): v for k, v in results.items()}}))
`

/** One normal exchange from this process (async: the server runs on this same loop). */
async function served(address: [string, number], trailer = ''): Promise<void> {
  const c = track(socket(AF_INET, SOCK_STREAM))
  await c.connectAsync(address, { timeout: 10 })
  await c.sendallAsync('still serving')
  c.shutdown(SHUT_WR)
  const chunks: Buffer[] = []
  for (let b = await c.recvAsync(100); b.length > 0; b = await c.recvAsync(100)) chunks.push(b)
  expect(Buffer.concat(chunks).toString()).toBe(`still serving${trailer}`)
  c.close()
}

describe.skipIf(!hasPython)('faults', () => {
  it('a flood of 2,000 connects against listen(8), half of them reset: the server serves after', async () => {
    const before = fdCount()
    const server = echoServer(8, '.')
    const flood = await pythonJson(FLOOD_CLIENT, [...server.address, 2000], 30)
    expect(flood.connects).toBe(2000)
    // Far more connects than the queue holds: some completed, the rest waited on SYN retries.
    expect(flood.completed).toBeGreaterThan(0)
    for (const k of Object.keys(flood.results as object)) {
      expect(['0', String(errno.EINPROGRESS), String(errno.EAGAIN)]).toContain(k)
    }
    await served(server.address, '.')
    await server.stop()
    const { stats } = server
    expect(stats.accepted).toBeGreaterThan(1)
    expect(stats.open).toBe(0)
    // Each flood connection it accepted ended in EOF or a reset, never anything else.
    for (const code of Object.keys(stats.errors))
      expect(['ECONNRESET', 'EPIPE'].map(errname)).toContain(code)
    expect(
      stats.halfClosed +
        (stats.errors[errname('ECONNRESET')] ?? 0) +
        (stats.errors[errname('EPIPE')] ?? 0),
    ).toBe(stats.accepted)
    expect(fdCount()).toBe(before)
  }, 40_000)

  it('resets mid-stream, half-closes and silent peers at once, next to normal clients', async () => {
    const before = fdCount()
    // A peer silent for 2 s is dropped.
    const server = echoServer(256, 'END', 2)
    const r = await pythonJson(MIXED_CLIENT, [...server.address, 100, 100, 50, 100], 40)
    expect(r).toEqual({ reset: 100, halfClosed: 100, silentGotEof: 50, normal: 100 })
    await served(server.address, 'END')
    await server.stop()
    expect(server.stats).toMatchObject({
      accepted: 351,
      open: 0,
      // One ECONNRESET per reset peer (each waited for its echo, so the server sat in recv),
      // one ETIMEDOUT per silent peer; the half-closed and normal ones (and ours) ended in EOF.
      errors: { ECONNRESET: 100, ETIMEDOUT: 50 },
      halfClosed: 201,
    })
    expect(server.stats.bytesIn).toBe(server.stats.bytesOut)
    expect(fdCount()).toBe(before)
  }, 50_000)
})

/**
 * S silent peers connect first and must see EOF once the server drops them; then, one after
 * the other, R peers send 100 bytes, read the echo and reset (SO_LINGER 0); H send, shutdown
 * (SHUT_WR) and read the echo plus "END" to EOF; N send, read the echo and close. Each peer's
 * steps run back to back, well inside the server's idle timeout.
 */
const MIXED_CLIENT = `
import json, socket, struct, sys
host, port, R, H, S, N = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:])

def recv_all(s):
    out = bytearray()
    while True:
        b = s.recv(65536)
        if not b:
            return bytes(out)
        out += b

def recv_n(s, n):
    out = bytearray()
    while len(out) < n:
        b = s.recv(n - len(out))
        if not b:
            break
        out += b
    return bytes(out)

connect = lambda: socket.create_connection((host, port), timeout=10)
out = {"reset": 0, "halfClosed": 0, "silentGotEof": 0, "normal": 0}
silent = [connect() for _ in range(S)]
for i in range(R):
    s = connect()
    data = bytes([i % 256]) * 100
    s.sendall(data)
    out["reset"] += recv_n(s, 100) == data
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()
for i in range(H):
    s = connect()
    data = (b'half-%d;' % i) * 50
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    out["halfClosed"] += recv_all(s) == data + b'END'
    s.close()
for i in range(N):
    s = connect()
    data = (b'normal-%d;' % i) * 20
    s.sendall(data)
    out["normal"] += recv_n(s, len(data)) == data
    s.close()
for s in silent:
    out["silentGotEof"] += recv_all(s) == b''
    s.close()
print(json.dumps(out))
`
