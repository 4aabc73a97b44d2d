// Hand-off to Node's own stack: listener options Node cannot set
// (SO_REUSEPORT, TCP_DEFER_ACCEPT, TCP_FASTOPEN, IP_FREEBIND, SO_BINDTODEVICE, backlog), a
// configured listener served by http.createServer().listen({ fd }) and hit by real fetch and
// curl requests, accepted and connected sockets wrapped in net.Socket and TLS, and the fd
// closed exactly once (by Node) after the hand-off.
import { execFile, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  IP_FREEBIND,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPV6_FREEBIND,
  SHUT_WR,
  SO_BINDTODEVICE,
  SO_INCOMING_CPU,
  SO_REUSEPORT,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  type Socket,
  SocketError,
  socket,
  socketpair,
  TCP_DEFER_ACCEPT,
  TCP_FASTOPEN,
  TCP_INFO,
  TCP_NODELAY,
} from '../ts/index.js'
import {
  canCountFds,
  closeTracked,
  connectedPair,
  DIST,
  errname,
  fdFlags,
  hasIPv6,
  listener,
  openFdCount,
  tmpUnixPath,
  track,
} from './helpers.js'

afterEach(closeTracked)

const O_NONBLOCK = 0o4000
/** AF_VSOCK from linux/socket.h: not among our constants (the libc crate lacks it for musl). */
const AF_VSOCK = 40
// Linux only: its listener options (SO_BINDTODEVICE, IP_FREEBIND, TCP_DEFER_ACCEPT, ...) and
// the hand-off's checks through /proc/self/fd; not run on Windows or under wine.
const linux = process.platform === 'linux'
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0

/** A tracked TCP socket on 127.0.0.1 with the listener options Node's listen() cannot set. */
function configuredListener(backlog: number): Socket {
  const s = track(socket(AF_INET, SOCK_STREAM))
  s.setsockopt(SOL_SOCKET, SO_REUSEPORT as number, 1)
  if (TCP_DEFER_ACCEPT !== undefined) s.setsockopt(IPPROTO_TCP, TCP_DEFER_ACCEPT, 1)
  if (TCP_FASTOPEN !== undefined) s.setsockopt(IPPROTO_TCP, TCP_FASTOPEN, 16)
  s.bind(['127.0.0.1', 0])
  s.listen(backlog)
  return s
}

/**
 * The accept-queue limit of a listening TCP socket: Linux reports it in `tcpi_sacked`
 * (struct tcp_info, offset 28) while the socket is in LISTEN state.
 */
function maxBacklog(s: Socket): number {
  const info = s.getsockopt(IPPROTO_TCP, TCP_INFO as number, 104) as Buffer
  return info.readUInt32LE(28)
}

/** Runs `curl` with `args`; resolves its stdout. */
function curl(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '--max-time', '10', ...args], (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    )
  })
}

/** Resolves once `sock` has emitted 'close' (libuv closed the fd). */
async function destroyed(sock: net.Socket): Promise<void> {
  if (sock.closed) return
  const closing = once(sock, 'close')
  sock.destroy()
  await closing
}

describe.skipIf(!linux)('listener options through setsockopt', () => {
  it('SO_REUSEPORT lets a second socket listen on a bound port; without it EADDRINUSE', () => {
    const a = configuredListener(8)
    const b = track(socket(AF_INET, SOCK_STREAM))
    b.setsockopt(SOL_SOCKET, SO_REUSEPORT as number, 1)
    b.bind(a.getsockname())
    b.listen(8)
    expect(b.getsockname()).toEqual(a.getsockname())
    const c = track(socket(AF_INET, SOCK_STREAM))
    const err = (() => {
      try {
        c.bind(a.getsockname())
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(SocketError)
    expect((err as SocketError).code).toBe(errname('EADDRINUSE'))
  })

  it('TCP_DEFER_ACCEPT and TCP_FASTOPEN read back as set', () => {
    const s = configuredListener(8)
    expect(s.getsockopt(IPPROTO_TCP, TCP_DEFER_ACCEPT as number)).toBeGreaterThan(0)
    expect(s.getsockopt(IPPROTO_TCP, TCP_FASTOPEN as number)).toBe(16)
    expect(maxBacklog(s)).toBe(8)
  })

  it('SO_INCOMING_CPU names a CPU of this machine on a connection that received data', () => {
    const [client, server] = connectedPair()
    client.sendall('x')
    server.recv(1)
    const cpu = server.getsockopt(SOL_SOCKET, SO_INCOMING_CPU as number)
    expect(cpu).toBeGreaterThanOrEqual(0)
    // cpus(), not availableParallelism(): a process pinned with taskset may see the packet on
    // any CPU of the machine, while availableParallelism() counts only its own.
    expect(cpu).toBeLessThan(cpus().length)
  })

  it('IP_FREEBIND binds an address this host does not have; without it EADDRNOTAVAIL', () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never configured here, and nothing is sent to it.
    const plain = track(socket(AF_INET, SOCK_STREAM))
    expect(() => plain.bind(['192.0.2.1', 0])).toThrow(
      expect.objectContaining({ code: errname('EADDRNOTAVAIL') }),
    )
    const free = track(socket(AF_INET, SOCK_STREAM))
    free.setsockopt(IPPROTO_IP, IP_FREEBIND as number, 1)
    free.bind(['192.0.2.1', 0])
    expect(free.getsockname()[0]).toBe('192.0.2.1')
  })

  it.skipIf(!hasIPv6)('IPV6_FREEBIND does the same for IPv6 (2001:db8::1)', () => {
    const plain = track(socket(AF_INET6, SOCK_STREAM))
    expect(() => plain.bind(['2001:db8::1', 0])).toThrow(
      expect.objectContaining({ code: errname('EADDRNOTAVAIL') }),
    )
    const free = track(socket(AF_INET6, SOCK_STREAM))
    free.setsockopt(IPPROTO_IPV6, IPV6_FREEBIND as number, 1)
    free.bind(['2001:db8::1', 0])
    expect(free.getsockname()[0]).toBe('2001:db8::1')
  })

  // SO_BINDTODEVICE takes the interface name as bytes. Since Linux 5.7 any process may bind an
  // unbound socket to a device; changing an existing binding needs CAP_NET_RAW (EPERM without).
  const capNetRaw = (() => {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    return m?.[1] !== undefined && (BigInt(`0x${m[1]}`) & (1n << 13n)) !== 0n
  })()

  it('SO_BINDTODEVICE binds to lo and reads back; an unknown device is ENODEV', () => {
    const s = track(socket(AF_INET, SOCK_STREAM))
    s.setsockopt(SOL_SOCKET, SO_BINDTODEVICE as number, Buffer.from('lo'))
    expect(s.getsockopt(SOL_SOCKET, SO_BINDTODEVICE as number, 16)).toEqual(Buffer.from('lo\0'))
    const t = track(socket(AF_INET, SOCK_STREAM))
    expect(() =>
      t.setsockopt(SOL_SOCKET, SO_BINDTODEVICE as number, Buffer.from('no-such-dev0')),
    ).toThrow(expect.objectContaining({ code: errname('ENODEV'), syscall: 'setsockopt' }))
  })

  it('rebinding SO_BINDTODEVICE: allowed with CAP_NET_RAW, EPERM without', async () => {
    const rebind = `
      import { socket, SOL_SOCKET, SO_BINDTODEVICE } from ${JSON.stringify(DIST)}
      const s = socket()
      s.setsockopt(SOL_SOCKET, SO_BINDTODEVICE, Buffer.from('lo'))
      try { s.setsockopt(SOL_SOCKET, SO_BINDTODEVICE, Buffer.alloc(0)); console.log('ok') }
      catch (e) { console.log(e.code) }`
    const args = ['--input-type=module', '-e', rebind]
    const here = spawnSync(process.execPath, args).stdout.toString().trim()
    expect(here).toBe(capNetRaw ? 'ok' : 'EPERM')
    // With the capability, drop it for a child (setpriv) to see the refusal for real too.
    if (capNetRaw && has('setpriv')) {
      const drop = ['--inh-caps', '-net_raw', '--bounding-set', '-net_raw', process.execPath]
      const child = spawnSync('setpriv', [...drop, ...args])
      expect(child.stderr.toString()).toBe('')
      expect(child.stdout.toString().trim()).toBe(errname('EPERM'))
    }
  })
})

describe.skipIf(!linux)('a configured listener served by node:http', () => {
  it('http.createServer().listen({ fd }, backlog) answers fetch (and curl) requests', async () => {
    const s = configuredListener(77)
    const probe = track(s.dup()) // to read the listener's state after Node owns the fd
    const port = s.getsockname()[1] as number
    const fd = s.detach()
    const inode = readlinkSync(`/proc/self/fd/${fd}`)
    expect(s.fileno()).toBe(-1)
    expect(fdFlags(fd) & O_NONBLOCK).toBe(0)
    const server = http.createServer((req, res) => res.end(`hello ${req.url}`))
    server.listen({ fd }, 77)
    await once(server, 'listening')
    // libuv made it non-blocking; Node listened again with the backlog given to listen().
    expect(fdFlags(fd) & O_NONBLOCK).toBe(O_NONBLOCK)
    expect(maxBacklog(probe)).toBe(77)
    const bodies = await Promise.all(
      [1, 2, 3].map((i) =>
        fetch(`http://127.0.0.1:${port}/${i}`).then(async (r) => [r.status, await r.text()]),
      ),
    )
    expect(bodies).toEqual([
      [200, 'hello /1'],
      [200, 'hello /2'],
      [200, 'hello /3'],
    ])
    if (has('curl')) expect(await curl(`http://127.0.0.1:${port}/curl`)).toBe('hello /curl')
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    // Node closed the listener's fd: the number is gone, or now names another file.
    expect(existsSync(`/proc/self/fd/${fd}`) && readlinkSync(`/proc/self/fd/${fd}`)).not.toBe(inode)
  })

  it('without the backlog argument Node re-listens with its own (511)', async () => {
    const s = configuredListener(77)
    const probe = track(s.dup())
    const server = http.createServer()
    server.listen({ fd: s.detach() })
    await once(server, 'listening')
    expect(maxBacklog(probe)).toBe(511)
    await new Promise((resolve) => server.close(resolve))
  })

  it('an AF_UNIX listener is served the same way (http over a Unix path)', async () => {
    const path = tmpUnixPath()
    const s = track(socket(AF_UNIX, SOCK_STREAM))
    s.bind(path)
    s.listen(16)
    const server = http.createServer((_req, res) => res.end('over unix'))
    server.listen({ fd: s.detach() })
    await once(server, 'listening')
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ socketPath: path, path: '/', agent: false }, (res) => {
          let text = ''
          res.setEncoding('utf8').on('data', (d: string) => {
            text += d
          })
          res.on('end', () => resolve(text))
        })
        .on('error', reject)
    })
    expect(body).toBe('over unix')
    if (has('curl')) expect(await curl('--unix-socket', path, 'http://x/')).toBe('over unix')
    await new Promise((resolve) => server.close(resolve))
  })
})

describe.skipIf(!linux)('toNetSocket()', () => {
  it('an accepted TCP socket becomes a net.Socket echoing to a bsd-sockets client', async () => {
    const srv = listener()
    const client = track(socket(AF_INET, SOCK_STREAM))
    await client.connectAsync(srv.getsockname())
    const [conn] = await srv.acceptAsync()
    const fd = conn.fileno()
    const ns = conn.toNetSocket()
    expect(conn.fileno()).toBe(-1)
    expect(conn.detach()).toBe(-1)
    expect(fdFlags(fd) & O_NONBLOCK).toBe(O_NONBLOCK)
    expect(ns.remoteAddress).toBe('127.0.0.1')
    expect(ns.remotePort).toBe(client.getsockname()[1])
    ns.on('data', (d) => ns.write(Buffer.concat([Buffer.from('echo:'), d])))
    await client.sendallAsync('ping')
    expect((await client.recvAsync(64)).toString()).toBe('echo:ping')
    // Our end closing is Node's 'end'; Node ends its side too (allowHalfOpen false).
    const closed = once(ns, 'close')
    client.shutdown(SHUT_WR)
    expect((await client.recvAsync(64)).length).toBe(0)
    await closed
  })

  it('an AF_UNIX stream socket becomes a net.Socket (a Pipe handle)', async () => {
    const [a, b] = socketpair()
    track(a, b)
    const ns = a.toNetSocket()
    ns.write('from node')
    expect((await b.recvAsync(64)).toString()).toBe('from node')
    const got = once(ns, 'data')
    await b.sendallAsync('from bsd')
    expect(String((await got)[0])).toBe('from bsd')
    await destroyed(ns)
  })

  it('a connected socket (our connect) talks to a node:net server through net.Socket', async () => {
    const server = net.createServer((c) => c.pipe(c))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as net.AddressInfo
    const s = track(socket(AF_INET, SOCK_STREAM))
    s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
    await s.connectAsync(['127.0.0.1', port])
    const ns = s.toNetSocket()
    const got = once(ns, 'data')
    ns.write('round trip')
    expect(String((await got)[0])).toBe('round trip')
    await destroyed(ns)
    await new Promise((resolve) => server.close(resolve))
  })

  it('pending async calls reject with EBADF, then Node reads the data they were waiting for', async () => {
    const [a, b] = connectedPair()
    const pending = a.recvAsync(64)
    const ns = a.toNetSocket()
    await expect(pending).rejects.toMatchObject({ code: errname('EBADF') })
    const got = once(ns, 'data')
    b.sendall('after hand-off')
    expect(String((await got)[0])).toBe('after hand-off')
    await destroyed(ns)
  })

  it('Node closes the fd exactly once: fd count back to baseline, our close() harmless', async () => {
    // Counted where this process's fds are in /proc (not on Windows).
    const before = canCountFds ? openFdCount() : 0
    for (let i = 0; i < 20; i++) {
      const [a, b] = socketpair()
      const ns = a.toNetSocket()
      await destroyed(ns)
      a.close() // detached: no second close(2) of a number that may be reused
      b.close()
    }
    if (canCountFds) expect(openFdCount()).toBe(before)
  })

  it('refuses what Node cannot take, before detaching: EBADF, EOPNOTSUPP, EINVAL, TypeError', () => {
    const closed = socket(AF_INET, SOCK_STREAM)
    closed.close()
    expect(() => closed.toNetSocket()).toThrow(
      expect.objectContaining({ code: errname('EBADF'), syscall: 'toNetSocket' }),
    )
    const udp = track(socket(AF_INET, SOCK_DGRAM))
    const fd = udp.fileno()
    expect(() => udp.toNetSocket()).toThrow(
      expect.objectContaining({ code: errname('EOPNOTSUPP') }),
    )
    expect(udp.fileno()).toBe(fd)
    // A stream socket of a family Node has no handle for (AF_VSOCK, where the kernel has it).
    const vsock = (() => {
      try {
        return track(socket(AF_VSOCK, SOCK_STREAM))
      } catch {
        return undefined
      }
    })()
    if (vsock) {
      const vfd = vsock.fileno()
      expect(() => vsock.toNetSocket()).toThrow(
        expect.objectContaining({ code: errname('EOPNOTSUPP') }),
      )
      expect(vsock.fileno()).toBe(vfd)
    }
    const srv = listener()
    expect(() => srv.toNetSocket()).toThrow(expect.objectContaining({ code: errname('EINVAL') }))
    expect(srv.fileno()).toBeGreaterThanOrEqual(0)
    const [a, b] = socketpair()
    track(a, b)
    expect(() => a.toNetSocket(null as never)).toThrow(TypeError)
    expect(a.fileno()).toBeGreaterThanOrEqual(0)
  })
})

/** A self-signed certificate for 'localhost', made by openssl in a temp dir. */
const cert = (() => {
  if (!has('openssl')) return undefined
  const dir = mkdtempSync(join(tmpdir(), 'bsd-sockets-tls-'))
  try {
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { timeout: 20_000 },
    )
    if (r.status !== 0) return undefined
    return {
      key: readFileSync(join(dir, 'key.pem')),
      cert: readFileSync(join(dir, 'cert.pem')),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})()

describe.skipIf(!linux || !cert)(
  'TLS on top of a handed-off socket (openssl makes the cert)',
  () => {
    it('tls.TLSSocket on our accepted socket, tls.connect on our connected socket', async () => {
      const { key, cert: crt } = cert as { key: Buffer; cert: Buffer }
      const srv = listener()
      const client = track(socket(AF_INET, SOCK_STREAM))
      await client.connectAsync(srv.getsockname())
      const [conn] = await srv.acceptAsync()

      const serverSide = new tls.TLSSocket(conn.toNetSocket(), { isServer: true, key, cert: crt })
      serverSide.on('data', (d) => serverSide.write(`tls:${d}`))
      const clientSide = tls.connect({
        socket: client.toNetSocket(),
        ca: crt,
        servername: 'localhost',
      })
      await once(clientSide, 'secureConnect')
      expect(clientSide.authorized).toBe(true)
      const got = once(clientSide, 'data')
      clientSide.write('secret')
      expect(String((await got)[0])).toBe('tls:secret')
      clientSide.destroy()
      serverSide.destroy()
      await Promise.all([once(clientSide, 'close'), once(serverSide, 'close')])
    })
  },
)
