// Event-loop integration: async methods, `for await`, try* fast paths, ref/unref, workers and
// process exit, on real loopback sockets.

import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AbortError,
  AF_INET,
  ConnectionRefusedError,
  errno,
  fromfd,
  POLLIN,
  Poller,
  SO_RCVTIMEO,
  SO_REUSEADDR,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  type Socket,
  SocketError,
  select,
  socket,
  TimeoutError,
} from '../ts/index.js'
import {
  closeTracked,
  connectedPair,
  DIST,
  errname,
  hasMsg,
  hasPython,
  hasTcpInfo,
  listener,
  python,
  runWorker,
  script,
  timeval,
  track,
} from './helpers.js'

afterEach(closeTracked)

const EAGAIN = errno.EAGAIN
const EBADF = errno.EBADF

/** A tracked listening TCP socket on 127.0.0.1 port 0 (blocking until an async call). */
function server(backlog = 128): Socket {
  const s = track(socket(AF_INET, SOCK_STREAM))
  s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
  s.bind(['127.0.0.1', 0])
  s.listen(backlog)
  return s
}

function port(s: Socket): number {
  return (s.getsockname() as [string, number])[1]
}

/** Serves echo on `srv` with `for await`; resolves when the socket is closed. */
async function echoServe(srv: Socket): Promise<void> {
  for await (const [conn] of srv) {
    track(conn)
    void (async () => {
      const buf = Buffer.alloc(65536)
      try {
        for (let n = await conn.recvIntoAsync(buf); n > 0; n = await conn.recvIntoAsync(buf)) {
          await conn.sendallAsync(buf.subarray(0, n))
        }
      } catch {
        // closed by the test's cleanup
      }
      conn.close()
    })()
  }
}

/** Connects, sends `msg`, and reads back exactly its length. */
async function echoOnce(p: number, msg: string): Promise<string> {
  const c = track(socket(AF_INET, SOCK_STREAM))
  await c.connectAsync(['127.0.0.1', p])
  await c.sendallAsync(msg)
  const chunks: Buffer[] = []
  let got = 0
  while (got < Buffer.byteLength(msg)) {
    const b = await c.recvAsync(65536)
    if (b.length === 0) break
    chunks.push(b)
    got += b.length
  }
  c.close()
  return Buffer.concat(chunks).toString()
}

/** Rejection of `p`, or fails if it resolves. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (e) {
    return e
  }
  throw new Error('expected a rejection')
}

function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r))
}

describe('echo server on the event loop', () => {
  it('serves clients with for-await while timers and node:net run', async () => {
    const srv = server(1024)
    const p = port(srv)
    const serving = echoServe(srv)
    let ticks = 0
    const iv = setInterval(() => ticks++, 1)
    try {
      // Keep echoing until the interval has visibly fired (bounded).
      for (let i = 0; i < 10_000 && ticks < 3; i++) {
        expect(await echoOnce(p, `hello ${i}`)).toBe(`hello ${i}`)
      }
      expect(ticks).toBeGreaterThanOrEqual(3)
      const viaNet = await new Promise<string>((resolve, reject) => {
        const c = net.connect(p, '127.0.0.1', () => c.write('from node:net'))
        let data = ''
        c.setEncoding('utf8')
        c.on('data', (d) => {
          data += d
          if (data.length >= 13) {
            c.end()
            resolve(data)
          }
        })
        c.on('error', reject)
      })
      expect(viaNet).toBe('from node:net')
      // A node:net server on the same thread also keeps working.
      const ns = net.createServer((c) => c.pipe(c))
      await new Promise<void>((r) => ns.listen(0, '127.0.0.1', r))
      const nsPort = (ns.address() as net.AddressInfo).port
      expect(await echoOnce(nsPort, 'to node:net')).toBe('to node:net')
      await new Promise((r) => ns.close(r))
    } finally {
      clearInterval(iv)
      srv.close()
    }
    await serving
  })

  it('many pending ops on many sockets', async () => {
    const pairs = Array.from({ length: 50 }, () => connectedPair())
    const reads = pairs.map(([, b]) => b.recvAsync(100))
    await tick()
    pairs.forEach(([a], i) => {
      a.sendall(`msg${i}`)
    })
    const got = await Promise.all(reads)
    expect(got.map((b) => b.toString())).toEqual(pairs.map((_, i) => `msg${i}`))
    // And the reverse direction, all at once with async sends.
    const back = pairs.map(([a]) => a.recvAsync(100))
    await Promise.all(pairs.map(([, b], i) => b.sendAsync(`re${i}`)))
    expect((await Promise.all(back)).map((b) => b.toString())).toEqual(
      pairs.map((_, i) => `re${i}`),
    )
  })

  const nofile = (() => {
    try {
      const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
      return m?.[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m?.[1] ?? 0)
    } catch {
      return 0
    }
  })()

  it.skipIf(nofile < 2500)(
    '1000 concurrent connections',
    async () => {
      const srv = server(4096)
      const p = port(srv)
      const serving = echoServe(srv)
      try {
        const N = 1000
        const results = await Promise.all(
          Array.from({ length: N }, async (_, i) => {
            const c = track(socket(AF_INET, SOCK_STREAM))
            await c.connectAsync(['127.0.0.1', p], { timeout: 20 })
            const msg = `conn-${i}`
            await c.sendallAsync(msg, 0, { timeout: 20 })
            let got = ''
            while (got.length < msg.length) {
              const b = await c.recvAsync(64, 0, { timeout: 20 })
              if (b.length === 0) break
              got += b.toString()
            }
            c.close()
            return got
          }),
        )
        expect(results).toEqual(Array.from({ length: N }, (_, i) => `conn-${i}`))
      } finally {
        srv.close()
      }
      await serving
    },
    25_000,
  )
})

describe('queues, close, timeout, abort', () => {
  it('two pending reads on one socket are served in order', async () => {
    const [a, b] = connectedPair()
    const first = b.recvAsync(10)
    const second = b.recvAsync(10)
    await tick()
    a.sendall('a')
    expect((await first).toString()).toBe('a')
    a.sendall('b')
    expect((await second).toString()).toBe('b')
  })

  it('closing a socket rejects its pending ops with EBADF', async () => {
    const [a, b] = connectedPair()
    const srv = server()
    const r1 = b.recvAsync(10)
    const r2 = b.recvIntoAsync(Buffer.alloc(10))
    const acc = srv.acceptAsync()
    await tick()
    b.close()
    srv.close()
    for (const e of await Promise.all([r1, r2, acc].map(rejection))) {
      expect(e).toBeInstanceOf(SocketError)
      expect((e as SocketError).code).toBe(errname('EBADF'))
    }
    // Calls after close reject at once with EBADF too.
    expect(((await rejection(b.recvAsync(1))) as SocketError).code).toBe(errname('EBADF'))
    a.sendall('x') // the peer is unaffected
  })

  it('timeout rejects with TimeoutError ETIMEDOUT and the socket still works', async () => {
    const [a, b] = connectedPair()
    const e = await rejection(b.recvAsync(10, 0, { timeout: 0.05 }))
    expect(e).toBeInstanceOf(TimeoutError)
    expect((e as SocketError).code).toBe(errname('ETIMEDOUT'))
    const next = b.recvAsync(10)
    a.sendall('after')
    expect((await next).toString()).toBe('after')
    // timeout: null means no timeout
    const nul = b.recvAsync(10, 0, { timeout: null as unknown as number })
    await new Promise((r) => setTimeout(r, 20))
    a.sendall('nul')
    expect((await nul).toString()).toBe('nul')
  })

  it('timeouts of one length expire in the order they started; other lengths on their own', async () => {
    const pairs = Array.from({ length: 5 }, () => connectedPair())
    const order: number[] = []
    const calls = pairs.map(([, b], i) =>
      b.recvAsync(1, { timeout: i === 4 ? 0.01 : 0.05 }).catch((e: SocketError) => {
        expect(e.code).toBe(errname('ETIMEDOUT'))
        order.push(i)
      }),
    )
    // One that completes leaves the others' timeouts in place.
    pairs[1]?.[0].sendall('x')
    await Promise.all(calls)
    expect(order).toEqual([4, 0, 2, 3])
  })

  it('a timeout longer than setTimeout allows (30 days) does not fire early', async () => {
    const [a, b] = connectedPair()
    const r = b.recvAsync(10, { timeout: 30 * 86400 })
    await new Promise((resolve) => setTimeout(resolve, 30)) // an overflowed timer fires in 1 ms
    a.sendall('later')
    expect((await r).toString()).toBe('later')
  })

  it('AbortSignal rejects with AbortError and the socket still works', async () => {
    const [a, b] = connectedPair()
    const ac = new AbortController()
    const pending = b.recvAsync(10, 0, { signal: ac.signal })
    await tick()
    ac.abort()
    const e = await rejection(pending)
    expect(e).toBeInstanceOf(AbortError)
    expect((e as AbortError).name).toBe('AbortError')
    expect((e as AbortError).code).toBe('ABORT_ERR')
    // Already aborted: rejects at once, nothing consumed.
    a.sendall('kept')
    const e2 = await rejection(b.recvAsync(10, 0, { signal: AbortSignal.abort() }))
    expect(e2).toBeInstanceOf(AbortError)
    expect((await b.recvAsync(10)).toString()).toBe('kept')
    // An abort of a queued second op leaves the first one in place.
    const ac2 = new AbortController()
    const first = b.recvAsync(10)
    const second = rejection(b.recvAsync(10, 0, { signal: ac2.signal }))
    ac2.abort()
    expect(await second).toBeInstanceOf(AbortError)
    a.sendall('first')
    expect((await first).toString()).toBe('first')
  })

  it('sendallAsync stopped by timeout, abort or close says how much went in bytesSent', async () => {
    const data = Buffer.alloc(8 << 20, 7)
    for (const stopBy of ['timeout', 'abort', 'close'] as const) {
      const [, b] = connectedPair() // the peer never reads
      const ac = new AbortController()
      const sending = rejection(
        b.sendallAsync(data, 0, stopBy === 'timeout' ? { timeout: 0.05 } : { signal: ac.signal }),
      )
      await tick()
      if (stopBy === 'abort') ac.abort()
      if (stopBy === 'close') b.close()
      const e = (await sending) as SocketError | AbortError
      expect(e).toBeInstanceOf(
        { timeout: TimeoutError, abort: AbortError, close: SocketError }[stopBy],
      )
      expect(e.bytesSent).toBeGreaterThan(0)
      expect(e.bytesSent).toBeLessThan(data.length)
    }
  })

  it('an async call on a socket a watching Poller holds rejects with EEXIST, and leaves nothing behind', async () => {
    const [a, b] = connectedPair()
    const poller = new Poller()
    poller.register(b, POLLIN)
    poller.watch(() => {})
    const e = (await rejection(b.recvAsync(10))) as SocketError
    expect(e).toBeInstanceOf(SocketError)
    expect(e.code).toBe(errname('EEXIST'))
    expect(e.syscall).toBe('watch')
    expect(e.message).toMatch(/^watch EEXIST: .*unregister it from the Poller/)
    poller.close()
    // The refused read did not stay queued: the next one gets the data.
    a.sendall('hello')
    expect((await b.recvAsync(10, 0, { timeout: 1 })).toString()).toBe('hello')
  })

  it('invalid options reject with TypeError / RangeError', async () => {
    const [, b] = connectedPair()
    expect(
      await rejection(b.recvAsync(1, 0, { signal: 'x' as unknown as AbortSignal })),
    ).toBeInstanceOf(TypeError)
    expect(await rejection(b.recvAsync(1, 0, { timeout: -1 }))).toBeInstanceOf(RangeError)
    expect(await rejection(b.sendAsync('x', 0, 'nope' as unknown as object))).toBeInstanceOf(
      TypeError,
    )
    expect(await rejection(b.acceptAsync({ timeout: Number.NaN }))).toBeInstanceOf(RangeError)
  })
})

describe('options in place of the optional arguments', () => {
  const aborted = () => ({ signal: AbortSignal.abort() })
  const expectKind = async (p: Promise<unknown>, kind: new (...a: never[]) => Error) =>
    expect(await rejection(p)).toBeInstanceOf(kind)

  it('every read takes { timeout } where its flags, nbytes or ancbufsize may stand', async () => {
    const [, b] = connectedPair()
    const t = { timeout: 0.02 }
    await expectKind(b.recvAsync(10, t), TimeoutError)
    await expectKind(b.recvIntoAsync(Buffer.alloc(10), t), TimeoutError)
    await expectKind(b.recvIntoAsync(Buffer.alloc(10), 5, t), TimeoutError)
    await expectKind(b.recvIntoAsync(new Uint16Array(4), t), TimeoutError)
    // Windows has no recvmsg (EOPNOTSUPP).
    if (hasMsg) {
      await expectKind(b.recvmsgAsync(10, t), TimeoutError)
      await expectKind(b.recvmsgAsync(10, 64, t), TimeoutError)
      await expectKind(b.recvmsgIntoAsync([Buffer.alloc(10)], t), TimeoutError)
      await expectKind(b.recvmsgIntoAsync([Buffer.alloc(10)], 64, t), TimeoutError)
    }
    const udp = track(socket(AF_INET, SOCK_DGRAM))
    udp.bind(['127.0.0.1', 0])
    await expectKind(udp.recvfromAsync(10, t), TimeoutError)
  })

  it('every send takes { signal } where its flags, ancdata or address may stand', async () => {
    const [, b] = connectedPair()
    await expectKind(b.sendAsync('x', aborted()), AbortError)
    await expectKind(b.sendallAsync('x', aborted()), AbortError)
    await expectKind(b.sendallAsync(Buffer.from('x'), aborted()), AbortError)
    // Windows has no sendmsg (EOPNOTSUPP).
    if (hasMsg) {
      await expectKind(b.sendmsgAsync(['x'], aborted()), AbortError)
      await expectKind(b.sendmsgAsync(['x'], [], aborted()), AbortError)
      await expectKind(b.sendmsgAsync(['x'], [], 0, aborted()), AbortError)
    }
    const udp = track(socket(AF_INET, SOCK_DGRAM))
    udp.connect(['127.0.0.1', 9])
    await expectKind(udp.sendmanyAsync(['x'], aborted()), AbortError)
    await expectKind(udp.sendmanyAsync(['x'], ['127.0.0.1', 9], aborted()), AbortError)
    // Nothing went out: the aborted calls made no syscall (Windows: no tcpInfo to tell).
    if (hasTcpInfo) expect(b.tcpInfo().bytesSent ?? 0).toBe(0)
  })

  it('calls with options in place work, and options followed by more is a TypeError', async () => {
    const [a, b] = connectedPair()
    await b.sendallAsync('hello', { timeout: 5 })
    expect((await a.recvAsync(10, { timeout: 5 })).toString()).toBe('hello')
    await b.sendAsync('again', { timeout: 5 })
    const buf = Buffer.alloc(10)
    expect(await a.recvIntoAsync(buf, { timeout: 5 })).toBe(5)
    // Data already queued comes at once with options, as without.
    b.sendall('queued')
    expect(await a.recvIntoAsync(buf, { signal: new AbortController().signal })).toBe(6)
    // Untyped callers: the options object must come last.
    const loose = (f: unknown) => f as (...args: unknown[]) => Promise<unknown>
    await expectKind(loose(a.recvAsync).call(a, 1, { timeout: 1 }, 0), TypeError)
    await expectKind(loose(a.recvIntoAsync).call(a, buf, { timeout: 1 }, 0), TypeError)
    await expectKind(loose(b.sendmsgAsync).call(b, ['x'], { timeout: 1 }, 0), TypeError)
    await expectKind(b.sendallAsync(buf, { timeout: -1 }), RangeError)
  })
})

describe('connect, EOF, bulk, UDP', () => {
  it('connectAsync: ECONNREFUSED then success', async () => {
    const s = server()
    const p = port(s)
    s.close()
    const c = track(socket(AF_INET, SOCK_STREAM))
    const e = await rejection(c.connectAsync(['127.0.0.1', p]))
    expect(e).toBeInstanceOf(ConnectionRefusedError)
    expect((e as SocketError).code).toBe(errname('ECONNREFUSED'))
    expect((e as SocketError).address).toBe('127.0.0.1')
    expect((e as SocketError).port).toBe(p)

    const srv = server()
    const c2 = track(socket(AF_INET, SOCK_STREAM))
    const acc = srv.acceptAsync()
    await c2.connectAsync(srv.getsockname())
    const [conn, addr] = await acc
    track(conn)
    expect(addr).toEqual(c2.getsockname())
    expect(c2.getpeername()).toEqual(srv.getsockname())
  })

  it('recvAsync resolves with an empty Buffer at EOF', async () => {
    const [a, b] = connectedPair()
    const p = b.recvAsync(10)
    await tick()
    a.close()
    const got = await p
    expect(Buffer.isBuffer(got)).toBe(true)
    expect(got.length).toBe(0)
    expect(await b.recvIntoAsync(Buffer.alloc(4))).toBe(0)
  })

  it('sendallAsync of 16 MiB to a slow reader on the same thread arrives intact', async () => {
    const [a, b] = connectedPair()
    const data = Buffer.alloc(16 << 20)
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i)
    const sent = a.sendallAsync(data)
    const h = createHash('sha256')
    const buf = Buffer.alloc(8192)
    let total = 0
    let reads = 0
    while (total < data.length) {
      const n = await b.recvIntoAsync(buf)
      if (n === 0) break
      h.update(buf.subarray(0, n))
      total += n
      if (++reads % 64 === 0) await new Promise((r) => setTimeout(r, 1))
    }
    await sent
    expect(total).toBe(data.length)
    expect(h.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'))
  })

  it.skipIf(!hasPython)(
    'sendallAsync of 16 MiB to a slow python reader arrives intact',
    async () => {
      const srv = server()
      const data = Buffer.alloc(16 << 20)
      for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 40503 + 7) >>> 0, i)
      const child = python(
        `
import socket, sys, time, hashlib
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
h = hashlib.sha256(); n = 0; i = 0
while True:
    b = s.recv(16384)
    if not b: break
    h.update(b); n += len(b); i += 1
    if i % 128 == 0: time.sleep(0.002)
print(n, h.hexdigest())
`,
        [String(port(srv))],
      )
      const [conn] = await srv.acceptAsync({ timeout: 10 })
      track(conn)
      await conn.sendallAsync(data, 0, { timeout: 20 })
      conn.close()
      const res = await child
      expect(res.code).toBe(0)
      expect(res.stdout.trim()).toBe(
        `${data.length} ${createHash('sha256').update(data).digest('hex')}`,
      )
    },
  )

  it('UDP sendtoAsync / recvfromAsync with addresses', async () => {
    const a = track(socket(AF_INET, SOCK_DGRAM))
    const b = track(socket(AF_INET, SOCK_DGRAM))
    a.bind(['127.0.0.1', 0])
    b.bind(['127.0.0.1', 0])
    const r = b.recvfromAsync(100)
    await tick()
    expect(await a.sendtoAsync('ping', b.getsockname())).toBe(4)
    const [data, from] = await r
    expect(data.toString()).toBe('ping')
    expect(from).toEqual(a.getsockname())
    // The flags form, and the reply.
    const r2 = a.recvfromAsync(100)
    expect(await b.sendtoAsync(Buffer.from('pong'), 0, from)).toBe(4)
    const [d2, from2] = await r2
    expect(d2.toString()).toBe('pong')
    expect(from2).toEqual(b.getsockname())
  })
})

describe('sync interop and try* fast paths', () => {
  it('a socket used with async methods is non-blocking and works with select()', async () => {
    const [a, b] = connectedPair()
    const p = b.recvAsync(10)
    expect(b.gettimeout()).toBe(0)
    a.sendall('one')
    expect((await p).toString()).toBe('one')
    a.sendall('two')
    const [r] = select([b], [], [], 5)
    expect(r).toEqual([b])
    expect(b.recv(10).toString()).toBe('two')
    const [r2, w2] = select([b], [b], [], 0)
    expect(r2).toEqual([])
    expect(w2).toEqual([b])
  })

  it('setblocking(true) after async calls: the next async call is non-blocking again', async () => {
    const srv = listener()
    // Backstop: were acceptAsync to call a blocking accept(2), it would give up after 2 s.
    srv.setsockopt(SOL_SOCKET, SO_RCVTIMEO, timeval(2))
    const c = track(socket(AF_INET, SOCK_STREAM))
    c.connect(srv.getsockname())
    const [conn] = await srv.acceptAsync()
    track(conn)
    const recvd = conn.recvAsync(10)
    srv.setblocking(true)
    conn.setblocking(true)
    expect([srv.gettimeout(), conn.gettimeout()]).toEqual([null, null])
    // Nothing to accept: a pending promise, and the socket is non-blocking again.
    const accepting = srv.acceptAsync()
    expect(srv.gettimeout()).toBe(0)
    const c2 = track(socket(AF_INET, SOCK_STREAM))
    c2.connect(srv.getsockname())
    track((await accepting)[0])
    const buf = Buffer.alloc(10)
    const hot = conn.recvIntoAsync(buf) // the hot path
    expect(conn.gettimeout()).toBe(0)
    c.sendall('ab')
    expect((await recvd).toString()).toBe('ab')
    c.sendall('cd')
    expect(buf.subarray(0, await hot).toString()).toBe('cd')
  })

  it('reads that wait every time stop trying first, and still get data already queued', async () => {
    const [a, b] = connectedPair()
    const buf = Buffer.alloc(16)
    // 24 reads that each find the socket empty and wait: the watcher stops trying first.
    for (let i = 0; i < 24; i++) {
      const pending = b.recvIntoAsync(buf)
      await new Promise((r) => setImmediate(r))
      a.sendall(`m${i}`)
      expect(buf.toString('latin1', 0, await pending)).toBe(`m${i}`)
    }
    // Data already there when the read starts: skipped or tried, it arrives, in order.
    for (let i = 0; i < 24; i++) {
      a.sendall(`q${i}`)
      expect(buf.toString('latin1', 0, await b.recvIntoAsync(buf))).toBe(`q${i}`)
    }
    a.sendall('xyz')
    expect(buf.toString('latin1', 0, await b.recvIntoAsync(buf))).toBe('xyz')
  })

  it('accepts that wait every time stop trying first, and still take a queued connection', async () => {
    const srv = listener()
    for (let i = 0; i < 24; i++) {
      const pending = srv.acceptAsync()
      await new Promise((r) => setImmediate(r))
      const c = track(socket(AF_INET, SOCK_STREAM))
      c.connect(srv.getsockname())
      track((await pending)[0])
    }
    // Already queued when the accept starts: tried or not, it is taken.
    const c = track(socket(AF_INET, SOCK_STREAM))
    c.connect(srv.getsockname())
    const [conn, addr] = await srv.acceptAsync()
    track(conn)
    expect(addr).toEqual(c.getsockname())
  })

  it('tryRecvInto: -EAGAIN, bytes, -EBADF after close', () => {
    const [a, b] = connectedPair()
    const buf = Buffer.alloc(16)
    expect(b.tryRecvInto(buf)).toBe(-EAGAIN)
    a.sendall('data')
    // Loopback delivery is synchronous once send returns.
    expect(b.tryRecvInto(buf)).toBe(4)
    expect(buf.subarray(0, 4).toString()).toBe('data')
    b.close()
    expect(b.tryRecvInto(buf)).toBe(-EBADF)
  })

  it('the buffer kept for the hot receive is the one passed: swapped, detached, shrunk', () => {
    const [a, b] = connectedPair()
    const one = Buffer.alloc(16)
    const two = Buffer.alloc(16)
    expect(b.tryRecvInto(one)).toBe(-EAGAIN) // `one` is kept
    a.sendall('xy')
    expect(b.tryRecvInto(two)).toBe(2) // a different buffer is used, and kept
    a.sendall('zw')
    expect(b.tryRecvInto(one)).toBe(2)
    expect([one.toString('latin1', 0, 2), two.toString('latin1', 0, 2)]).toEqual(['zw', 'xy'])
    // On-heap (small) and off-heap typed arrays, kept, then their memory transferred away:
    // the old memory must never be written again.
    for (const size of [16, 65536]) {
      const view = new Uint8Array(size)
      expect(b.tryRecvInto(view)).toBe(-EAGAIN)
      const moved = new Uint8Array(structuredClone(view.buffer, { transfer: [view.buffer] }))
      expect(view.length).toBe(0)
      a.sendall('data')
      expect(b.tryRecvInto(view)).toBe(0) // detached: an empty buffer, as recv_into of 0 bytes
      expect(moved.every((x) => x === 0)).toBe(true)
      expect(b.recv(16).toString()).toBe('data')
    }
    // Two Sockets on one fd number (fromfd of a live socket's fd: a misuse, but reachable):
    // each reads into its own kept buffer, never into the other's.
    const alias = fromfd(b.fileno())
    const mine = Buffer.alloc(8)
    const theirs = Buffer.alloc(8)
    expect(b.tryRecvInto(mine)).toBe(-EAGAIN)
    expect(alias.tryRecvInto(theirs)).toBe(-EAGAIN)
    a.sendall('ab')
    expect(b.tryRecvInto(mine)).toBe(2)
    expect([mine.toString('latin1', 0, 2), theirs.every((x) => x === 0)]).toEqual(['ab', true])
    alias.detach()
    // A resizable buffer that shrank is measured again, not written past its new end.
    // ES2024 resizable ArrayBuffer (Node 20 has it; this project's TS lib is older).
    type Resizable = ArrayBuffer & { resize(n: number): void }
    const Rab = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable
    const rab = new Rab(8, { maxByteLength: 64 })
    const tracking = new Uint8Array(rab)
    expect(b.tryRecvInto(tracking)).toBe(-EAGAIN)
    rab.resize(2)
    a.sendall('abcd')
    expect(b.tryRecvInto(tracking)).toBe(2)
    rab.resize(8)
    expect(Buffer.from(rab).toString('latin1', 0, 4)).toBe('ab\0\0')
    expect(b.recv(8).toString()).toBe('cd')
  })

  it('trySend: bytes sent, -EAGAIN when full, -EBADF after close', () => {
    const [a, b] = connectedPair()
    expect(a.trySend('hey')).toBe(3)
    expect(b.recv(10).toString()).toBe('hey')
    const chunk = Buffer.alloc(1 << 20)
    let n = 0
    let r = 0
    for (let i = 0; i < 1000; i++) {
      r = a.trySend(chunk)
      if (r < 0) break
      n += r
    }
    expect(r).toBe(-EAGAIN)
    expect(n).toBeGreaterThan(0)
    a.close()
    expect(a.trySend('x')).toBe(-EBADF)
  })

  it('tryAccept: -EAGAIN then [Socket, address]', () => {
    const srv = listener()
    expect(srv.tryAccept()).toBe(-EAGAIN)
    expect(srv.gettimeout()).toBe(0)
    const c = track(socket(AF_INET, SOCK_STREAM))
    c.connect(srv.getsockname())
    const r = srv.tryAccept()
    expect(Array.isArray(r)).toBe(true)
    const [conn, addr] = r as [Socket, unknown]
    track(conn)
    expect(addr).toEqual(c.getsockname())
    conn.sendall('via tryAccept')
    expect(c.recv(100).toString()).toBe('via tryAccept')
  })
})

describe('worker_threads', () => {
  it('a worker runs its own async echo server and client, then exits', async () => {
    const { messages, exited } = runWorker(`
import { parentPort } from 'node:worker_threads'
import { socket, AF_INET, SOCK_STREAM } from '${DIST}'
const srv = socket(AF_INET, SOCK_STREAM)
srv.bind(['127.0.0.1', 0]); srv.listen(16)
const serving = (async () => {
  for await (const [conn] of srv) {
    const buf = Buffer.alloc(1024); let n
    while ((n = await conn.recvIntoAsync(buf)) > 0) await conn.sendallAsync(buf.subarray(0, n))
    conn.close()
  }
})()
const c = socket(AF_INET, SOCK_STREAM)
await c.connectAsync(srv.getsockname())
await c.sendallAsync('worker echo')
const got = await c.recvAsync(100)
c.close()
srv.close()
await serving
parentPort.postMessage(got.toString())
`)
    expect(await exited).toBe(0)
    expect(messages).toEqual(['worker echo'])
  })

  it('a worker exiting with pending ops and watched sockets does not crash the process', async () => {
    const code = (how: string) => `
import { parentPort } from 'node:worker_threads'
import { socket, AF_INET, SOCK_STREAM } from '${DIST}'
const srv = socket(AF_INET, SOCK_STREAM)
srv.bind(['127.0.0.1', 0]); srv.listen(16)
srv.acceptAsync().catch(() => {})
const c = socket(AF_INET, SOCK_STREAM)
await c.connectAsync(srv.getsockname())
c.recvAsync(10).catch(() => {})
setTimeout(() => {
  parentPort.postMessage('ready')
  ${how}
}, 5)
`
    const one = runWorker(code('process.exit(3)'))
    expect(await one.exited).toBe(3)
    expect(one.messages).toEqual(['ready'])
    const two = runWorker(code(''), (m, w) => {
      if (m === 'ready') void w.terminate()
    })
    expect(await two.exited).toBe(1)
    // Several at once.
    const many = Array.from({ length: 4 }, () => runWorker(code('process.exit(0)')))
    expect(await Promise.all(many.map((m) => m.exited))).toEqual([0, 0, 0, 0])
  })

  it('the main thread still works after workers exited', async () => {
    const srv = server()
    const serving = echoServe(srv)
    try {
      expect(await echoOnce(port(srv), 'still alive')).toBe('still alive')
    } finally {
      srv.close()
    }
    await serving
  })
})

/** Spawns `node file`; collects output; resolves on exit. */
function runNode(file: string): {
  child: ChildProcess
  done: Promise<{ code: number | null; signal: string | null; out: string }>
  ready: Promise<void>
} {
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let onReady: () => void = () => {}
  const ready = new Promise<void>((r) => {
    onReady = r
  })
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d
    if (out.includes('ready')) onReady()
  })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const done = new Promise<{ code: number | null; signal: string | null; out: string }>(
    (resolve) => {
      child.on('exit', (code, signal) => {
        clearTimeout(killer)
        onReady()
        resolve({ code, signal, out: out + err })
      })
    },
  )
  return { child, done, ready }
}

describe('process exit', () => {
  const prelude = `
import { socket, AF_INET, SOCK_STREAM } from '${DIST}'
const srv = socket(AF_INET, SOCK_STREAM)
srv.bind(['127.0.0.1', 0]); srv.listen(16)
`

  it('a pending acceptAsync keeps the process alive', async () => {
    const { child, done, ready } = runNode(
      script(
        `${prelude}srv.acceptAsync().then(() => console.log('accepted'))\nconsole.log('ready')\n`,
      ),
    )
    await ready
    await new Promise((r) => setTimeout(r, 300))
    expect(child.exitCode).toBe(null)
    child.kill('SIGTERM')
    const res = await done
    expect(res.signal).toBe('SIGTERM')
  })

  it('with unref() the process exits by itself', async () => {
    const { done } = runNode(
      script(
        `${prelude}srv.unref()\nsrv.acceptAsync().then(() => console.log('accepted'))\nconsole.log('ready')\n`,
      ),
    )
    const res = await done
    expect(res.code).toBe(0)
    expect(res.out.trim()).toBe('ready')
  })

  it('with unref() a pending op with a timeout does not keep the process alive', async () => {
    const { done } = runNode(
      script(
        `${prelude}srv.unref()\nsrv.acceptAsync({ timeout: 60 }).then(() => console.log('accepted'))\nconsole.log('ready')\n`,
      ),
    )
    const res = await done
    expect(res.code).toBe(0)
    expect(res.out.trim()).toBe('ready')
  })

  it('unref() after a timed op is pending releases its timer too', async () => {
    const { done } = runNode(
      script(
        `${prelude}srv.acceptAsync({ timeout: 60 }).then(() => console.log('accepted'))\nsrv.unref()\nconsole.log('ready')\n`,
      ),
    )
    const res = await done
    expect(res.code).toBe(0)
    expect(res.out.trim()).toBe('ready')
  })

  it('ref() after unref() keeps it alive again', async () => {
    const { child, done, ready } = runNode(
      script(`${prelude}srv.unref()\nsrv.acceptAsync()\nsrv.ref()\nconsole.log('ready')\n`),
    )
    await ready
    await new Promise((r) => setTimeout(r, 300))
    expect(child.exitCode).toBe(null)
    child.kill('SIGTERM')
    await done
  })

  it('a timed op that completed leaves no timer keeping the process alive', async () => {
    // runNode kills the child after 20 s: a 60 s timeout still armed would show as SIGKILL.
    const { done } = runNode(
      script(`${prelude}
const c = socket(AF_INET, SOCK_STREAM)
const acc = srv.acceptAsync({ timeout: 60 })
await c.connectAsync(srv.getsockname(), { timeout: 60 })
const [conn] = await acc
const r = c.recvAsync(10, { timeout: 60 })
setTimeout(() => conn.sendall('late'), 20)
console.log('got', (await r).toString())
conn.close(); c.close(); srv.close()
`),
    )
    const res = await done
    expect(res).toMatchObject({ code: 0, signal: null })
    expect(res.out.trim()).toBe('got late')
  })

  it('exits normally once the last pending op resolves', async () => {
    const { done } = runNode(
      script(`${prelude}
const c = socket(AF_INET, SOCK_STREAM)
const acc = srv.acceptAsync()
await c.connectAsync(srv.getsockname())
const [conn] = await acc
const r = c.recvAsync(10)
setTimeout(() => conn.sendall('late'), 50)
console.log('got', (await r).toString())
conn.close(); c.close(); srv.close()
`),
    )
    const res = await done
    expect(res.code).toBe(0)
    expect(res.out.trim()).toBe('got late')
  })
})
