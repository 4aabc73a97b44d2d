// Transports against real peers: datagram endpoints (UDP and AF_UNIX, Python as the peer),
// Unix stream servers, sockets made elsewhere (SO_REUSEPORT, fromfd, sockets that had async
// calls), 1,000 connections on one server, workers exiting with live transports, Python and
// curl as peers, and a paused reader under a fast writer. Loopback only; every wait is for
// an event (a byte count, a callback), never for a time.
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, lstatSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_UNIX,
  ConnectionRefusedError,
  type DatagramProtocol,
  type DatagramTransport,
  type ExceptionContext,
  errno,
  fromfd,
  loop,
  type Protocol,
  type Server,
  SO_ACCEPTCONN,
  SO_RCVBUF,
  SO_REUSEPORT,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  type Socket,
  type SocketAddress,
  type SocketError,
  socket,
  type Transport,
} from '../ts/index.js'
import {
  canCountFds,
  closeTracked,
  DIST,
  errname,
  hasPython,
  hasUnixDgram,
  hasUnixStream,
  openFdCount,
  python,
  runWorker,
  tmpUnixPath,
  track,
} from './helpers.js'

const servers: Server[] = []
/** Transports and endpoints a test left open: aborted after it. */
const open: { abort(): void }[] = []

afterEach(async () => {
  loop.setExceptionHandler(null)
  for (const t of open.splice(0)) t.abort()
  for (const s of servers.splice(0)) {
    s.close()
    s.abortClients()
    await s.waitClosed()
  }
  closeTracked()
})

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0

/** Resolves waiters whose condition holds, checked each time `notify()` says something happened. */
class Cond {
  #waiters: [() => boolean, () => void][] = []
  until(pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push([pred, resolve]))
  }
  notify(): void {
    this.#waiters = this.#waiters.filter(([pred, resolve]) => {
      if (!pred()) return true
      resolve()
      return false
    })
  }
}

/** A stream protocol that records what happens to it; `echo` writes back what it reads. */
class Peer implements Protocol {
  transport!: Transport
  chunks: Buffer[] = []
  size = 0
  events: string[] = []
  /** Every connectionLost argument (there must be exactly one). */
  lostWith: (Error | null)[] = []
  keepOpen = false
  readonly cond = new Cond()

  constructor(readonly echo = false) {}
  connectionMade(t: Transport): void {
    this.transport = t
    this.events.push('made')
    this.cond.notify()
  }
  dataReceived(data: Buffer): void {
    if (this.echo) this.transport.write(data)
    else this.chunks.push(data)
    this.size += data.length
    this.cond.notify()
  }
  eofReceived(): boolean {
    this.events.push('eof')
    this.cond.notify()
    return this.keepOpen
  }
  connectionLost(err: Error | null): void {
    this.events.push('lost')
    this.lostWith.push(err)
    this.cond.notify()
  }
  pauseWriting(): void {
    this.events.push('pause')
    this.cond.notify()
  }
  resumeWriting(): void {
    this.events.push('resume')
    this.cond.notify()
  }
  received(): Buffer {
    return Buffer.concat(this.chunks)
  }
  waitFor(n: number): Promise<void> {
    return this.cond.until(() => this.size >= n)
  }
  async lost(): Promise<Error | null> {
    await this.cond.until(() => this.lostWith.length > 0)
    return this.lostWith[0] as Error | null
  }
}

/** A datagram protocol that records what it receives; `echo` sends each datagram back. */
class Datagrams implements DatagramProtocol {
  transport!: DatagramTransport
  got: [Buffer, SocketAddress | null][] = []
  errors: SocketError[] = []
  lostWith: (Error | null)[] = []
  readonly cond = new Cond()

  constructor(readonly echo = false) {}
  connectionMade(t: DatagramTransport): void {
    this.transport = t
  }
  datagramReceived(data: Buffer, address: SocketAddress | null): void {
    this.got.push([data, address])
    if (this.echo && address !== null) this.transport.sendto(data, address)
    this.cond.notify()
  }
  errorReceived(err: SocketError): void {
    this.errors.push(err)
    this.cond.notify()
  }
  connectionLost(err: Error | null): void {
    this.lostWith.push(err)
    this.cond.notify()
  }
  waitFor(n: number): Promise<void> {
    return this.cond.until(() => this.got.length >= n)
  }
  async lost(): Promise<Error | null> {
    await this.cond.until(() => this.lostWith.length > 0)
    return this.lostWith[0] as Error | null
  }
}

const turn = () => new Promise((r) => setImmediate(r))

async function endpoint(
  p: Datagrams,
  options: Parameters<typeof loop.createDatagramEndpoint>[1],
): Promise<DatagramTransport> {
  const [t] = await loop.createDatagramEndpoint(() => p, options)
  open.push(t)
  return t
}

/** A tracked UDP socket bound to loopback port 0, timed. */
function udp(): Socket {
  const s = track(socket(AF_INET, SOCK_DGRAM))
  s.settimeout(5)
  s.bind(['127.0.0.1', 0])
  return s
}

async function serve(
  factory: () => Protocol,
  options: Parameters<typeof loop.createServer>[3] = {},
): Promise<[Server, number]> {
  const server = await loop.createServer(factory, '127.0.0.1', 0, options)
  servers.push(server)
  return [server, (server.sockets[0] as Socket).getsockname()[1] as number]
}

async function connect(port: number, p = new Peer()): Promise<Peer> {
  const [t] = await loop.createConnection(() => p, '127.0.0.1', port)
  open.push(t)
  return p
}

/** Writes `msg` through a new connection to `port` and checks the echo; then closes. */
async function echoOnce(port: number, msg: string): Promise<void> {
  const c = await connect(port)
  c.transport.write(msg)
  await c.waitFor(msg.length)
  expect(c.received().toString()).toBe(msg)
  c.transport.close()
  expect(await c.lost()).toBe(null)
}

describe('datagram endpoints (loop.createDatagramEndpoint)', () => {
  it.skipIf(!hasPython)(
    'echoes for a Python UDP client: sendto with the address it came from',
    async () => {
      const p = new Datagrams(true)
      const t = await endpoint(p, { localAddr: ['127.0.0.1', 0] })
      const [, port] = t.getExtraInfo('sockname') as [string, number]
      const r = await python(
        `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.bind(('127.0.0.1', 0))
to = ('127.0.0.1', int(sys.argv[1]))
ok = 0
for i in range(50):
    msg = (b'%d:' % i) * (i * 20 + 1)
    s.sendto(msg, to)
    d, a = s.recvfrom(65536)
    ok += d == msg and a == to
print(ok, s.getsockname()[1])
`,
        [port],
      )
      const [ok, pyPort] = r.stdout.trim().split(' ').map(Number)
      expect(r.stderr).toBe('')
      expect(ok).toBe(50)
      expect(p.got.map(([, a]) => a)).toEqual(Array(50).fill(['127.0.0.1', pyPort]))
      expect(p.got.map(([d]) => d.length)).toEqual(
        Array.from({ length: 50 }, (_, i) => `${i}:`.length * (i * 20 + 1)),
      )
    },
  )

  it.skipIf(!hasPython)(
    'a connected endpoint sends with no address to a Python echo peer and hears its replies',
    async () => {
      // The peer's socket is made here and handed over as its fd 3, so its address is known.
      const u = udp()
      const peerAddr = u.getsockname()
      const py = python(
        `
import socket, sys
s = socket.socket(fileno=3)
s.settimeout(5)
for _ in range(int(sys.argv[1])):
    d, a = s.recvfrom(65536)
    s.sendto(d.upper(), a)
print('done')
`,
        [20],
        { fds: [u.fileno()] },
      )
      u.close() // the child has its own copy
      const p = new Datagrams()
      const t = await endpoint(p, { remoteAddr: peerAddr })
      expect(t.getExtraInfo('peername')).toEqual(peerAddr)
      const msgs = Array.from({ length: 20 }, (_, i) => `datagram ${i} `.repeat(i + 1))
      // One at a time: the peer is single-threaded, and UDP may drop what no buffer holds.
      for (const [i, m] of msgs.entries()) {
        t.sendto(m)
        await p.waitFor(i + 1)
      }
      expect((await py).stdout).toBe('done\n')
      expect(p.got.map(([d]) => d.toString())).toEqual(msgs.map((m) => m.toUpperCase()))
      expect(p.got.map(([, a]) => a)).toEqual(Array(20).fill(peerAddr))
      expect(p.errors).toEqual([])
    },
  )

  it('many datagrams sent in one turn arrive in order, each with its sender (batched reads)', async () => {
    const p = new Datagrams()
    const t = await endpoint(p, { localAddr: ['127.0.0.1', 0] })
    // Room for every datagram in the kernel, so none is dropped before the first read.
    t.getExtraInfo('socket')?.setsockopt(SOL_SOCKET, SO_RCVBUF, 1 << 20)
    const to = t.getExtraInfo('sockname') as SocketAddress
    const senders = [udp(), udp(), udp()]
    const sent: [string, SocketAddress][] = []
    for (let i = 0; i < 200; i++) {
      const s = senders[i % 3] as Socket
      s.sendto(`#${i}`.repeat((i % 7) + 1), to)
      sent.push([`#${i}`.repeat((i % 7) + 1), s.getsockname()])
    }
    expect(p.got).toEqual([]) // all queued in the kernel before the endpoint's first read
    await p.waitFor(200)
    expect(p.got.map(([d, a]) => [d.toString(), a])).toEqual(sent)
  })

  // Windows: an ICMP port unreachable comes back as WSAECONNRESET (SIO_UDP_CONNRESET), and
  // wine 8 reports none.
  it.skipIf(process.platform === 'win32')(
    'errorReceived gets ECONNREFUSED on a connected endpoint after sending to a closed port',
    async () => {
      const gone = udp()
      const addr = gone.getsockname()
      gone.close()
      const p = new Datagrams()
      const t = await endpoint(p, { remoteAddr: addr })
      t.sendto('anyone there?') // ICMP port unreachable comes back
      await p.cond.until(() => p.errors.length > 0)
      const err = p.errors[0] as SocketError
      expect(err).toBeInstanceOf(ConnectionRefusedError)
      expect(err.code).toBe(errname('ECONNREFUSED'))
      expect(err.errno).toBe(errno.ECONNREFUSED)
      // The endpoint lives on: an error is not the end of a datagram endpoint.
      expect(t.isClosing()).toBe(false)
      expect(p.lostWith).toEqual([])
      t.close()
      expect(await p.lost()).toBe(null)
    },
  )

  it('sendto with no address on an unconnected endpoint reaches errorReceived (EDESTADDRREQ)', async () => {
    const p = new Datagrams()
    const t = await endpoint(p, { localAddr: ['127.0.0.1', 0] })
    t.sendto('where to?')
    // Winsock answers this misuse with WSAENOTCONN (wine 8: WSAEINVAL), not WSAEDESTADDRREQ.
    const codes =
      process.platform === 'win32' ? ['EDESTADDRREQ', 'ENOTCONN', 'EINVAL'] : ['EDESTADDRREQ']
    expect(p.errors).toHaveLength(1)
    expect(codes.map(errname)).toContain(p.errors[0]?.code)
    expect(t.isClosing()).toBe(false)
  })

  it.skipIf(!hasUnixDgram)(
    'an AF_UNIX datagram endpoint: paths as addresses, an unbound sender is null',
    async () => {
      const path = tmpUnixPath('dgram')
      const p = new Datagrams(true)
      const t = await endpoint(p, { localAddr: path })
      expect(t.getExtraInfo('socket')?.family).toBe(AF_UNIX)
      expect(t.getExtraInfo('sockname')).toBe(path)
      const named = track(socket(AF_UNIX, SOCK_DGRAM))
      named.settimeout(5)
      const namedPath = tmpUnixPath('client')
      named.bind(namedPath)
      named.sendto('from a path', path)
      const [back, from] = await named.recvfromAsync(100)
      expect([back.toString(), from]).toEqual(['from a path', path])
      // An unbound sender has no address, also in a read slot that held a named one before.
      const anon = track(socket(AF_UNIX, SOCK_DGRAM))
      anon.sendto('from nowhere', path)
      await p.waitFor(2)
      expect(p.got.map(([d, a]) => [d.toString(), a])).toEqual([
        ['from a path', namedPath],
        ['from nowhere', null],
      ])
      // A connected AF_UNIX endpoint: sendto with no address.
      const q = new Datagrams()
      const c = await endpoint(q, { localAddr: tmpUnixPath('connected'), remoteAddr: path })
      c.sendto('connected')
      await q.waitFor(1)
      expect(q.got.map(([d, a]) => [d.toString(), a])).toEqual([['connected', path]])
    },
  )

  it('close() and abort() end with connectionLost(null), once; later sends do nothing', async () => {
    for (const how of ['close', 'abort'] as const) {
      const p = new Datagrams()
      const t = await endpoint(p, { localAddr: ['127.0.0.1', 0] })
      const sock = t.getExtraInfo('socket') as Socket
      t[how]()
      expect(t.isClosing()).toBe(true)
      t.close()
      t.abort()
      t.sendto('too late', ['127.0.0.1', 9])
      expect(await p.lost()).toBe(null)
      await turn()
      expect(p.lostWith).toEqual([null])
      expect(p.errors).toEqual([])
      expect(sock.fileno()).toBe(-1)
    }
  })

  it('a datagramReceived that throws: reported to the exception handler, then connectionLost(err)', async () => {
    const reports: ExceptionContext[] = []
    loop.setExceptionHandler((ctx) => reports.push(ctx))
    const boom = new Error('boom')
    const p = new Datagrams()
    p.datagramReceived = () => {
      throw boom
    }
    const t = await endpoint(p, { localAddr: ['127.0.0.1', 0] })
    udp().sendto('x', t.getExtraInfo('sockname') as SocketAddress)
    expect(await p.lost()).toBe(boom)
    expect(reports).toHaveLength(1)
    expect(reports[0]?.message).toMatch(/datagramReceived/)
    expect(reports[0]?.exception).toBe(boom)
    expect(reports[0]?.transport).toBe(t)
    expect(t.getExtraInfo('socket')?.fileno()).toBe(-1)
    await turn()
    expect(p.lostWith).toEqual([boom])
  })
})

describe.skipIf(!hasUnixStream)('Unix stream servers', () => {
  it('createUnixServer / createUnixConnection echo; the socket file goes with server.close()', async () => {
    const path = tmpUnixPath()
    const server = await loop.createUnixServer(() => new Peer(true), path)
    servers.push(server)
    expect(lstatSync(path).isSocket()).toBe(true)
    const c = new Peer()
    const [t] = await loop.createUnixConnection(() => c, path)
    open.push(t)
    expect(t.getExtraInfo('peername')).toBe(path)
    // More than an AF_UNIX socket buffer holds: partial writes, then the rest as it drains.
    const msg = Buffer.alloc(1 << 20)
    for (let i = 0; i < msg.length; i++) msg[i] = (i * 7) % 256
    t.write(msg)
    await c.waitFor(msg.length)
    expect(c.received().equals(msg)).toBe(true)
    t.close()
    expect(await c.lost()).toBe(null)
    server.close()
    await server.waitClosed()
    expect(existsSync(path)).toBe(false)
  })

  it('cleanupSocket: false leaves the socket file', async () => {
    const path = tmpUnixPath()
    const server = await loop.createUnixServer(() => new Peer(true), path, { cleanupSocket: false })
    servers.push(server)
    server.close()
    await server.waitClosed()
    expect(lstatSync(path).isSocket()).toBe(true)
  })
})

describe('sockets made elsewhere (the sock option)', () => {
  // Windows: no SO_REUSEPORT.
  it.skipIf(SO_REUSEPORT === undefined)(
    'two servers share one port with SO_REUSEPORT; both serve',
    async () => {
      const a = track(socket(AF_INET, SOCK_STREAM))
      a.setsockopt(SOL_SOCKET, SO_REUSEPORT as number, 1)
      a.bind(['127.0.0.1', 0])
      a.listen(64)
      const b = track(socket(AF_INET, SOCK_STREAM))
      b.setsockopt(SOL_SOCKET, SO_REUSEPORT as number, 1)
      b.bind(a.getsockname()) // bound, not listening: the server listens
      const served = [0, 0]
      const counting = (k: 0 | 1) => () => {
        served[k]++
        return new Peer(true)
      }
      servers.push(await loop.createServer(counting(0), { sock: a }))
      servers.push(await loop.createServer(counting(1), { sock: b }))
      expect(b.getsockopt(SOL_SOCKET, SO_ACCEPTCONN)).toBe(1)
      const port = a.getsockname()[1] as number
      // The kernel spreads connections by a hash of their addresses: 32 cannot all go one way
      // but with odds of 2^-31.
      await Promise.all(Array.from({ length: 32 }, (_, i) => echoOnce(port, `client ${i}`)))
      expect(served[0] + served[1]).toBe(32)
      expect(served[0]).toBeGreaterThan(0)
      expect(served[1]).toBeGreaterThan(0)
    },
  )

  it('serves a listening socket moved with fromfd(detach())', async () => {
    const orig = socket(AF_INET, SOCK_STREAM)
    orig.bind(['127.0.0.1', 0])
    orig.listen(16)
    const moved = track(fromfd(orig.detach()))
    expect(orig.fileno()).toBe(-1)
    const server = await loop.createServer(() => new Peer(true), { sock: moved })
    servers.push(server)
    expect(server.sockets).toEqual([moved])
    await echoOnce(moved.getsockname()[1] as number, 'moved listener')
  })

  it('serves a listening socket that had acceptAsync calls', async () => {
    const srv = track(socket(AF_INET, SOCK_STREAM))
    srv.bind(['127.0.0.1', 0])
    srv.listen(16)
    const c = track(socket(AF_INET, SOCK_STREAM))
    const accepting = srv.acceptAsync()
    await c.connectAsync(srv.getsockname())
    const [conn] = await accepting
    track(conn)
    servers.push(await loop.createServer(() => new Peer(true), { sock: srv }))
    await echoOnce(srv.getsockname()[1] as number, 'after acceptAsync')
  })

  it('createConnection({ sock }) drives a connected socket, also one that had async calls', async () => {
    const [, port] = await serve(() => new Peer(true))
    // Connected with blocking calls, then moved through fromfd(detach()).
    const blocking = socket(AF_INET, SOCK_STREAM)
    blocking.settimeout(5)
    blocking.connect(['127.0.0.1', port])
    const moved = track(fromfd(blocking.detach()))
    const p1 = new Peer()
    const [t1] = await loop.createConnection(() => p1, { sock: moved })
    open.push(t1)
    expect(t1.getExtraInfo('socket')).toBe(moved)
    expect(moved.gettimeout()).toBe(0)
    // Connected and used with async calls: the transport takes over the socket's watch.
    const used = track(socket(AF_INET, SOCK_STREAM))
    await used.connectAsync(['127.0.0.1', port])
    await used.sendallAsync('before')
    expect((await used.recvAsync(6)).toString()).toBe('before')
    const p2 = new Peer()
    const [t2] = await loop.createConnection(() => p2, { sock: used })
    open.push(t2)
    for (const [t, p] of [
      [t1, p1],
      [t2, p2],
    ] as const) {
      t.write('after')
      await p.waitFor(5)
      expect(p.received().toString()).toBe('after')
      t.close()
      expect(await p.lost()).toBe(null)
    }
  })

  it('createConnection({ sock }) refuses a socket with an async call pending; the socket stays usable', async () => {
    const [, port] = await serve(() => new Peer(true))
    const sock = track(socket(AF_INET, SOCK_STREAM))
    await sock.connectAsync(['127.0.0.1', port])
    const pending = sock.recvAsync(5)
    const err = await loop.createConnection(() => new Peer(), { sock }).catch((e) => e)
    expect(err).toBeInstanceOf(Error)
    expect(String(err)).toMatch(/async calls pending/)
    expect(sock.fileno()).not.toBe(-1)
    await sock.sendallAsync('still')
    expect((await pending).toString()).toBe('still')
  })
})

describe('1,000 concurrent connections', () => {
  it('one transport server echoes for 1,000 clients at once; fds return to baseline', async () => {
    const N = 1000
    // Counted where this process's fds are in /proc (not on Windows).
    const before = canCountFds ? openFdCount() : 0
    let live = 0
    let most = 0
    const [server, port] = await serve(
      () => {
        const p = new Peer(true)
        p.connectionMade = (t) => {
          p.transport = t
          most = Math.max(most, ++live)
        }
        p.connectionLost = () => {
          live--
        }
        return p
      },
      { backlog: N },
    )
    const clients = await Promise.all(Array.from({ length: N }, () => connect(port)))
    const msg = (i: number) => `client ${i} `.padEnd(64, '.')
    for (const [i, c] of clients.entries()) c.transport.write(msg(i))
    await Promise.all(clients.map((c) => c.waitFor(64)))
    for (const [i, c] of clients.entries()) expect(c.received().toString()).toBe(msg(i))
    expect(most).toBe(N) // every connection was open at once
    for (const c of clients) c.transport.close()
    expect(new Set(await Promise.all(clients.map((c) => c.lost())))).toEqual(new Set([null]))
    server.close()
    await server.waitClosed()
    expect(live).toBe(0)
    open.length = 0
    servers.length = 0
    if (canCountFds) expect(openFdCount()).toBe(before)
  })
})

describe('worker_threads', () => {
  it('workers exiting with live transports (one with a full write buffer) leave the process working', async () => {
    // An echo server and a client, plus a client whose peer stopped reading: its write
    // buffer holds megabytes when the worker exits.
    const code = (how: string) => `
import { parentPort } from 'node:worker_threads'
import { loop } from '${DIST}'
const echo = () => { let t; return { connectionMade: (x) => { t = x }, dataReceived: (d) => t.write(d) } }
const server = await loop.createServer(echo, '127.0.0.1', 0)
const stall = await loop.createServer(() => ({ connectionMade: (t) => t.pauseReading(), dataReceived() {} }), '127.0.0.1', 0)
const [w] = await loop.createConnection(() => ({ dataReceived() {} }), '127.0.0.1', stall.sockets[0].getsockname()[1])
const chunk = Buffer.alloc(1 << 16)
while (w.getWriteBufferSize() < 4 << 20) w.write(chunk)
let got = ''
const [t] = await loop.createConnection(() => ({
  dataReceived(d) {
    got += d
    if (got !== 'from a worker') return
    parentPort.postMessage('ready')
    ${how}
  },
}), '127.0.0.1', server.sockets[0].getsockname()[1])
t.write('from a worker')
`
    // Counted where this process's fds are in /proc (not on Windows).
    const before = canCountFds ? openFdCount() : 0
    const one = runWorker(code('process.exit(3)'))
    expect(await one.exited).toBe(3)
    expect(one.messages).toEqual(['ready'])
    const two = runWorker(code(''), (m, w) => {
      if (m === 'ready') void w.terminate()
    })
    expect(await two.exited).toBe(1)
    expect(two.messages).toEqual(['ready'])
    const many = Array.from({ length: 4 }, () => runWorker(code('process.exit(0)')))
    expect(await Promise.all(many.map((m) => m.exited))).toEqual([0, 0, 0, 0])
    // Their sockets were closed as they exited.
    if (canCountFds) expect(openFdCount()).toBe(before)
    // The main thread's own loop is unharmed.
    const [, port] = await serve(() => new Peer(true))
    await echoOnce(port, 'main thread still serving')
  })
})

describe('Python and curl as peers', () => {
  it.skipIf(!hasPython)(
    'a transport client to a Python server: writelines, writeEof, the reply, then EOF',
    async () => {
      const srv = track(socket(AF_INET, SOCK_STREAM))
      srv.bind(['127.0.0.1', 0])
      srv.listen(1)
      const py = python(
        `
import socket
srv = socket.socket(fileno=3)
srv.settimeout(5)
c, _ = srv.accept()
c.settimeout(5)
got = b''
while True:
    d = c.recv(65536)
    if not d: break
    got += d
c.sendall(got.upper())
c.close()
print(len(got))
`,
        [],
        { fds: [srv.fileno()] },
      )
      const c = new Peer()
      c.keepOpen = true
      const [t] = await loop.createConnection(() => c, '127.0.0.1', srv.getsockname()[1] as number)
      open.push(t)
      const parts = Array.from({ length: 100 }, (_, i) => `part ${i};`.repeat(50))
      t.writelines(parts)
      t.writeEof()
      expect(await c.lost()).toBe(null)
      expect(c.received().toString()).toBe(parts.join('').toUpperCase())
      expect(c.events).toEqual(['made', 'eof', 'lost'])
      expect((await py).stdout.trim()).toBe(String(parts.join('').length))
    },
  )

  it.skipIf(!hasPython)(
    'Python asyncio as the client: pipelined lines, each answered in order',
    async () => {
      /** Answers each line `n` with `2n`. */
      class Doubler implements Protocol {
        t!: Transport
        pending = ''
        connectionMade(t: Transport): void {
          this.t = t
        }
        dataReceived(data: Buffer): void {
          const lines = (this.pending + data.toString()).split('\n')
          this.pending = lines.pop() as string
          this.t.write(lines.map((l) => `${2 * Number(l)}\n`).join(''))
        }
      }
      const [, port] = await serve(() => new Doubler())
      const r = await python(
        `
import asyncio, sys
async def main():
    r, w = await asyncio.open_connection('127.0.0.1', int(sys.argv[1]))
    w.write(b''.join(b'%d\\n' % i for i in range(5000)))
    await w.drain()
    ok = 0
    for i in range(5000):
        ok += int(await r.readline()) == 2 * i
    w.write_eof()
    print(ok, await r.read())
    w.close()
asyncio.run(main())
`,
        [port],
      )
      expect(r.stderr).toBe('')
      expect(r.stdout).toBe("5000 b''\n")
    },
  )

  /** A tiny HTTP/1.1 keep-alive responder: answers each request head with `hello <path>`. */
  class Http implements Protocol {
    static connections = 0
    t!: Transport
    buf = Buffer.alloc(0)
    connectionMade(t: Transport): void {
      this.t = t
      Http.connections++
    }
    dataReceived(data: Buffer): void {
      this.buf = Buffer.concat([this.buf, data])
      for (let end = this.buf.indexOf('\r\n\r\n'); end !== -1; end = this.buf.indexOf('\r\n\r\n')) {
        const [, path] = this.buf.subarray(0, end).toString('latin1').split(' ')
        this.buf = this.buf.subarray(end + 4)
        const body = `hello ${path}\n`
        this.t.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
      }
    }
  }

  it.skipIf(!has('curl'))('curl fetches three URLs over one keep-alive connection', async () => {
    Http.connections = 0
    const [, port] = await serve(() => new Http())
    const base = `http://127.0.0.1:${port}`
    const out = await curl(`${base}/a`, `${base}/b`, `${base}/c`)
    expect(out).toBe('hello /a\nhello /b\nhello /c\n')
    expect(Http.connections).toBe(1)
  })

  it.skipIf(!has('curl'))('curl over a Unix socket to loop.createUnixServer', async () => {
    const path = tmpUnixPath()
    servers.push(await loop.createUnixServer(() => new Http(), path))
    expect(await curl('--unix-socket', path, 'http://x/unix')).toBe('hello /unix\n')
  })
})

describe('a paused reader under a fast writer', () => {
  it('pauseReading / resumeReading: the writer pauses, its buffer stays bounded, nothing is lost', async () => {
    const TOTAL = 24 << 20
    const CHUNK = 1 << 16
    const HIGH = 1 << 18
    const byte = (i: number) => (i * 31 + (i >> 16)) & 0xff
    // The reader checks each byte against the pattern as it comes and keeps none.
    let reader!: Transport
    let read = 0
    let bad = -1
    let readerEof = false
    const cond = new Cond()
    const [, port] = await serve(() => ({
      connectionMade(t: Transport) {
        reader = t
        t.pauseReading() // starts paused: the kernel buffers fill, then the writer's
        cond.notify()
      },
      dataReceived(d: Buffer) {
        for (let k = 0; k < d.length && bad === -1; k++) if (d[k] !== byte(read + k)) bad = read + k
        read += d.length
        cond.notify()
      },
      eofReceived() {
        readerEof = true
        cond.notify()
        return undefined
      },
    }))
    // The writer: the asyncio producer pattern, writing while not paused.
    let written = 0
    let paused = false
    let pauses = 0
    let resumes = 0
    let most = 0
    const w = new Peer()
    w.pauseWriting = () => {
      paused = true
      pauses++
      cond.notify()
    }
    w.resumeWriting = () => {
      paused = false
      resumes++
      produce()
    }
    const chunk = Buffer.alloc(CHUNK)
    const produce = () => {
      while (!paused && written < TOTAL) {
        for (let k = 0; k < CHUNK; k++) chunk[k] = byte(written + k)
        w.transport.write(chunk) // copied if kept: the chunk is reused
        written += CHUNK
        most = Math.max(most, w.transport.getWriteBufferSize())
      }
      if (written === TOTAL) w.transport.close()
      cond.notify()
    }
    await connect(port, w)
    w.transport.setWriteBufferLimits(HIGH)
    await cond.until(() => reader !== undefined)
    produce()
    // Rounds: the reader stays paused until the writer is paused (or done), then reads 4 MiB.
    for (let round = 0; !readerEof; round++) {
      await cond.until(() => paused || written === TOTAL)
      if (round < 3) expect(paused).toBe(true) // 24 MiB cannot fit in the kernel's buffers
      const target = read + (4 << 20)
      reader.resumeReading()
      await cond.until(() => read >= target || readerEof)
      if (!readerEof) reader.pauseReading()
    }
    expect(bad).toBe(-1)
    expect(read).toBe(TOTAL)
    expect(pauses).toBeGreaterThanOrEqual(3)
    expect(resumes).toBe(pauses)
    // Memory bounded: the producer never had more than one chunk beyond the high-water mark.
    expect(most).toBeLessThanOrEqual(HIGH + CHUNK)
    expect(await w.lost()).toBe(null)
  })
})

/** Runs curl with `args`; resolves its stdout (asynchronously: the loop goes on serving). */
function curl(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-sS', '--max-time', '10', ...args], (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  )
}
