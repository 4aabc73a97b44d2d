// Moving bytes: send/recv with every input type, recvInto, sendall, datagrams, flags, shutdown.
import { createHash, randomBytes } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  BlockingIOError,
  errno,
  MSG_DONTWAIT,
  MSG_PEEK,
  MSG_WAITALL,
  SHUT_WR,
  SO_RCVTIMEO,
  SOCK_DGRAM,
  SOL_SOCKET,
  type Socket,
  SocketError,
  socket,
  socketpair,
} from '../ts/index.js'
import {
  abstractName,
  closeTracked,
  connectedPair,
  errname,
  hasIPv6,
  hasPython,
  hasUnixDgram,
  listener,
  python,
  timeval,
  tmpUnixPath,
  track,
} from './helpers.js'

afterEach(closeTracked)

/** Reads from `s` until `n` bytes arrived (or EOF). */
function recvExactly(s: Socket, n: number): Buffer {
  const parts: Buffer[] = []
  let got = 0
  while (got < n) {
    const b = s.recv(n - got)
    if (b.length === 0) break
    parts.push(b)
    got += b.length
  }
  return Buffer.concat(parts)
}

/** A datagram socket bound to loopback port 0 (or a temp path), timed. */
function udp(family: number): Socket {
  const s = track(socket(family, SOCK_DGRAM))
  s.settimeout(5)
  s.bind(family === AF_INET6 ? ['::1', 0] : ['127.0.0.1', 0])
  return s
}

describe('send / recv with every kind of data', () => {
  const bytes = Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 254, 255])
  const backing = new ArrayBuffer(32)
  new Uint8Array(backing).set([9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9])
  const inputs: [string, string | ArrayBufferView | ArrayBuffer, Buffer][] = [
    ['Buffer', bytes, bytes],
    ['Uint8Array', new Uint8Array(bytes), bytes],
    [
      'Uint16Array',
      new Uint16Array([0x0102, 0xfffe]),
      Buffer.from(new Uint16Array([0x0102, 0xfffe]).buffer),
    ],
    ['DataView', new DataView(bytes.buffer, bytes.byteOffset, bytes.length), bytes],
    ['ArrayBuffer', new Uint8Array(bytes).buffer, bytes],
    ['a view at an offset', new Uint8Array(backing, 4, 8), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])],
    ['a DataView at an offset', new DataView(backing, 6, 3), Buffer.from([3, 4, 5])],
    ['an ASCII string', 'Hello World', Buffer.from('Hello World')],
    [
      'a multibyte string (UTF-8)',
      'héllo wörld € 𝄞 日本',
      Buffer.from('héllo wörld € 𝄞 日本', 'utf8'),
    ],
  ]
  for (const [name, data, expected] of inputs) {
    it(`round-trips ${name}`, () => {
      const [client, server] = connectedPair()
      expect(client.send(data)).toBe(expected.length)
      expect(recvExactly(server, expected.length)).toEqual(expected)
      // And the other way, through sendall.
      server.sendall(data)
      expect(recvExactly(client, expected.length)).toEqual(expected)
    })
  }

  it('the multibyte string arrives as the same text', () => {
    const [a, b] = socketpair()
    track(a, b)
    b.settimeout(5)
    const text = 'naïve café — 🎉'
    const n = a.send(text)
    expect(n).toBe(Buffer.byteLength(text))
    expect(recvExactly(b, n).toString('utf8')).toBe(text)
  })

  it('recv returns a Buffer of what arrived, not of bufsize', () => {
    const [client, server] = connectedPair()
    client.send('abc')
    const got = server.recv(4096)
    expect(Buffer.isBuffer(got)).toBe(true)
    expect(got.toString()).toBe('abc')
    expect(got.length).toBe(3)
  })

  it('rejects data of the wrong type before any syscall', () => {
    const [client] = connectedPair()
    expect(() => client.send(42 as unknown as string)).toThrow(TypeError)
    expect(() => client.send({} as unknown as string)).toThrow(TypeError)
    expect(() => client.recvInto('abc' as unknown as Buffer)).toThrow(TypeError)
  })
})

describe('recvInto', () => {
  it('fills a Buffer without nbytes (its whole length at most)', () => {
    const [client, server] = connectedPair()
    client.sendall('0123456789')
    const buf = Buffer.alloc(4)
    expect(server.recvInto(buf)).toBe(4)
    expect(buf.toString()).toBe('0123')
    const rest = Buffer.alloc(64, 0xee)
    expect(server.recvInto(rest)).toBe(6)
    expect(rest.subarray(0, 6).toString()).toBe('456789')
    expect(rest.subarray(6)).toEqual(Buffer.alloc(58, 0xee))
  })

  it('reads at most nbytes and leaves the rest in the socket', () => {
    const [client, server] = connectedPair()
    client.sendall('abcdef')
    const buf = new Uint8Array(16).fill(7)
    expect(server.recvInto(buf, 2)).toBe(2)
    expect([...buf.subarray(0, 3)]).toEqual([97, 98, 7])
    expect(server.recv(10).toString()).toBe('cdef')
  })

  it('receives into a Uint8Array, a DataView, a Uint16Array and an ArrayBuffer', () => {
    const [client, server] = connectedPair()
    const u8 = new Uint8Array(3)
    client.sendall('xyz')
    expect(server.recvInto(u8)).toBe(3)
    expect(Buffer.from(u8).toString()).toBe('xyz')

    const dv = new DataView(new ArrayBuffer(4))
    client.sendall(Buffer.from([0xde, 0xad, 0xbe, 0xef]))
    expect(server.recvInto(dv)).toBe(4)
    expect(dv.getUint32(0, false)).toBe(0xdeadbeef)

    const u16 = new Uint16Array(2)
    const raw = Buffer.from(new Uint16Array([0x1234, 0xabcd]).buffer)
    client.sendall(raw)
    expect(server.recvInto(u16)).toBe(4)
    expect([...u16]).toEqual([0x1234, 0xabcd])

    const ab = new ArrayBuffer(5)
    client.sendall('hello')
    expect(server.recvInto(ab)).toBe(5)
    expect(Buffer.from(ab).toString()).toBe('hello')
  })

  it('receives into a subarray at an offset: bytes land there, the rest is untouched', () => {
    const [client, server] = connectedPair()
    const whole = Buffer.alloc(16, 0xee)
    const view = whole.subarray(5, 11)
    client.sendall('ABCDEFGH')
    expect(server.recvInto(view)).toBe(6)
    expect(whole.subarray(0, 5)).toEqual(Buffer.alloc(5, 0xee))
    expect(whole.subarray(5, 11).toString()).toBe('ABCDEF')
    expect(whole.subarray(11)).toEqual(Buffer.alloc(5, 0xee))
    expect(server.recv(10).toString()).toBe('GH')
  })

  it('a DataView at an offset with nbytes writes only there', () => {
    const [client, server] = connectedPair()
    const backing = new Uint8Array(12).fill(1)
    const dv = new DataView(backing.buffer, 4, 6)
    client.sendall('qrstuvwx')
    expect(server.recvInto(dv, 3)).toBe(3)
    expect([...backing]).toEqual([1, 1, 1, 1, 113, 114, 115, 1, 1, 1, 1, 1])
  })

  it('nbytes larger than the buffer is a RangeError', () => {
    const [, server] = connectedPair()
    expect(() => server.recvInto(Buffer.alloc(4), 5)).toThrow(RangeError)
    expect(() => server.recvInto(Buffer.alloc(4), -1)).toThrow(RangeError)
  })

  it('returns 0 at end of stream', () => {
    const [client, server] = connectedPair()
    client.close()
    expect(server.recvInto(Buffer.alloc(8))).toBe(0)
  })
})

describe('sendall', () => {
  // Windows: the worker reads the socket with fs.readSync, and a socket is no C runtime fd.
  it.skipIf(process.platform === 'win32')(
    'sends 8 MiB across a socketpair to a reader in a worker thread, intact',
    async () => {
      const [a, b] = socketpair()
      track(a, b)
      // Bounds: the reader gives up after 10 s of silence, the sender after 20 s in all.
      b.setsockopt(SOL_SOCKET, SO_RCVTIMEO, timeval(10))
      a.settimeout(20)
      const data = randomBytes(8 * 1024 * 1024)
      const reader = new Worker(
        `
      const { workerData, parentPort } = require('node:worker_threads')
      const fs = require('node:fs')
      const hash = require('node:crypto').createHash('sha256')
      const buf = Buffer.alloc(256 * 1024)
      let total = 0
      for (;;) {
        const n = fs.readSync(workerData.fd, buf, 0, buf.length, null)
        if (n === 0) break
        hash.update(buf.subarray(0, n))
        total += n
      }
      parentPort.postMessage({ total, digest: hash.digest('hex') })
      `,
        { eval: true, workerData: { fd: b.fileno() } },
      )
      try {
        const result = new Promise<{ total: number; digest: string }>((resolve, reject) => {
          reader.once('message', resolve)
          reader.once('error', reject)
        })
        a.sendall(data)
        a.shutdown(SHUT_WR)
        const { total, digest } = await result
        expect(total).toBe(data.length)
        expect(digest).toBe(createHash('sha256').update(data).digest('hex'))
      } finally {
        await reader.terminate()
      }
    },
  )

  it.skipIf(!hasPython)('sends 8 MiB over TCP to a Python reader, intact', async () => {
    const l = listener()
    const [, port] = l.getsockname() as [string, number]
    const child = python(
      [
        'import hashlib, socket, sys',
        "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)",
        'h = hashlib.sha256(); n = 0',
        'while True:',
        '    d = s.recv(1 << 16)',
        '    if not d: break',
        '    h.update(d); n += len(d)',
        'print(n, h.hexdigest())',
      ].join('\n'),
      [port],
    )
    const [conn] = l.accept()
    track(conn)
    conn.settimeout(20)
    const data = randomBytes(8 * 1024 * 1024)
    conn.sendall(data)
    conn.close()
    const r = await child
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim()).toBe(
      `${data.length} ${createHash('sha256').update(data).digest('hex')}`,
    )
  })

  it('on a non-blocking socket that fills up, throws BlockingIOError with bytesSent > 0', () => {
    const [a, b] = socketpair()
    track(a, b)
    a.setblocking(false)
    const data = Buffer.alloc(8 * 1024 * 1024, 1)
    let caught: unknown
    try {
      a.sendall(data)
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(BlockingIOError)
    const err = caught as BlockingIOError
    expect(err.code).toBe(errname('EAGAIN'))
    expect(err.errno).toBe(errno.EAGAIN)
    expect(err.syscall).toBe('send')
    expect(err.bytesSent).toBeGreaterThan(0)
    expect(err.bytesSent).toBeLessThan(data.length)
  })

  it('sendall of nothing returns at once', () => {
    const [client] = connectedPair()
    expect(client.sendall(Buffer.alloc(0))).toBeUndefined()
    expect(client.sendall('')).toBeUndefined()
  })
})

describe('datagrams: sendto / recvfrom / recvfromInto', () => {
  it('UDP over IPv4: the sender address is [host, port]', () => {
    const a = udp(AF_INET)
    const b = udp(AF_INET)
    expect(b.sendto('hello', a.getsockname())).toBe(5)
    const [data, from] = a.recvfrom(100)
    expect(data.toString()).toBe('hello')
    expect(from).toEqual(b.getsockname())
    expect(from).toEqual(['127.0.0.1', expect.any(Number)])

    // The 3-argument form: sendto(data, flags, address).
    expect(b.sendto(Buffer.from('with flags'), 0, a.getsockname())).toBe(10)
    const buf = Buffer.alloc(64, 0)
    const [n, from2] = a.recvfromInto(buf)
    expect(n).toBe(10)
    expect(buf.subarray(0, n).toString()).toBe('with flags')
    expect(from2).toEqual(b.getsockname())
  })

  it.skipIf(!hasIPv6)(
    'UDP over IPv6: the sender address is [host, port, flowinfo, scopeId]',
    () => {
      const a = udp(AF_INET6)
      const b = udp(AF_INET6)
      const to = a.getsockname()
      expect(to).toEqual(['::1', expect.any(Number), 0, 0])
      expect(b.sendto('six', to)).toBe(3)
      const [data, from] = a.recvfrom(100)
      expect(data.toString()).toBe('six')
      expect(from).toEqual(b.getsockname())
      expect(from).toEqual(['::1', expect.any(Number), 0, 0])

      // A 2-element address is accepted for AF_INET6 (flowinfo and scopeId default to 0).
      const [host, port] = to as [string, number]
      expect(b.sendto('short', MSG_DONTWAIT, [host, port])).toBe(5)
      const buf = new Uint8Array(32)
      const [n, from2] = a.recvfromInto(buf, 5)
      expect(n).toBe(5)
      expect(Buffer.from(buf.subarray(0, 5)).toString()).toBe('short')
      expect(from2).toEqual(b.getsockname())
    },
  )

  it('keeps datagram boundaries, and a short buffer truncates the datagram', () => {
    const a = udp(AF_INET)
    const b = udp(AF_INET)
    b.sendto('first datagram', a.getsockname())
    b.sendto('second', a.getsockname())
    if (process.platform === 'win32') {
      // Winsock reports the cut datagram as WSAEMSGSIZE (Python raises it there too); the
      // datagram is gone all the same.
      expect(() => a.recvfrom(5)).toThrow(
        expect.objectContaining({ code: errname('EMSGSIZE'), syscall: 'recvfrom' }),
      )
    } else {
      const [d1] = a.recvfrom(5)
      expect(d1.toString()).toBe('first')
    }
    const [d2] = a.recvfrom(100)
    expect(d2.toString()).toBe('second')
  })

  it('a connected UDP socket uses send/recv', () => {
    const a = udp(AF_INET)
    const b = udp(AF_INET)
    b.connect(a.getsockname())
    a.connect(b.getsockname())
    b.send('connected')
    expect(a.recv(100).toString()).toBe('connected')
    expect(a.getpeername()).toEqual(b.getsockname())
  })

  it.skipIf(!hasUnixDgram)(
    'AF_UNIX datagrams between paths: the sender address is its path',
    () => {
      const pa = tmpUnixPath('a')
      const pb = tmpUnixPath('b')
      const a = track(socket(AF_UNIX, SOCK_DGRAM))
      const b = track(socket(AF_UNIX, SOCK_DGRAM))
      a.settimeout(5)
      b.settimeout(5)
      a.bind(pa)
      b.bind(pb)
      expect(a.getsockname()).toBe(pa)
      expect(b.sendto('over a path', pa)).toBe(11)
      const [data, from] = a.recvfrom(100)
      expect(data.toString()).toBe('over a path')
      expect(from).toBe(pb)
      a.sendto(Buffer.from('reply'), 0, from)
      const buf = Buffer.alloc(16)
      const [n, from2] = b.recvfromInto(buf)
      expect(buf.subarray(0, n).toString()).toBe('reply')
      expect(from2).toBe(pa)
    },
  )

  it.skipIf(!hasUnixDgram)(
    'AF_UNIX datagram from an unbound sender: no address (null, Python says None)',
    () => {
      const pa = tmpUnixPath()
      const a = track(socket(AF_UNIX, SOCK_DGRAM))
      a.settimeout(5)
      a.bind(pa)
      const b = track(socket(AF_UNIX, SOCK_DGRAM))
      b.sendto('anon', pa)
      const [data, from] = a.recvfrom(100)
      expect(data.toString()).toBe('anon')
      // The kernel reports no address at all (addrlen 0), unlike getsockname's ''.
      expect(from).toBeNull()
    },
  )

  it.skipIf(process.platform !== 'linux')('AF_UNIX datagrams on Linux abstract names', () => {
    const na = abstractName()
    const nb = abstractName()
    const a = track(socket(AF_UNIX, SOCK_DGRAM))
    const b = track(socket(AF_UNIX, SOCK_DGRAM))
    a.settimeout(5)
    a.bind(na)
    b.bind(nb)
    expect(a.getsockname()).toBe(na)
    b.sendto('abstract', na)
    const [data, from] = a.recvfrom(100)
    expect(data.toString()).toBe('abstract')
    expect(from).toBe(nb)
  })
})

describe('flags', () => {
  it('MSG_PEEK leaves the data in the socket', () => {
    const [client, server] = connectedPair()
    client.sendall('peekaboo')
    expect(server.recv(100, MSG_PEEK).toString()).toBe('peekaboo')
    const buf = Buffer.alloc(4)
    expect(server.recvInto(buf, 0, MSG_PEEK)).toBe(4)
    expect(buf.toString()).toBe('peek')
    expect(recvExactly(server, 8).toString()).toBe('peekaboo')
  })

  it('MSG_PEEK on a datagram socket, with recvfrom', () => {
    const a = udp(AF_INET)
    const b = udp(AF_INET)
    b.sendto('look', a.getsockname())
    const [peeked, from] = a.recvfrom(100, MSG_PEEK)
    expect(peeked.toString()).toBe('look')
    expect(from).toEqual(b.getsockname())
    expect(a.recvfrom(100)[0].toString()).toBe('look')
  })

  it('MSG_DONTWAIT on a blocking socket throws EAGAIN and leaves it blocking', () => {
    const [a, b] = socketpair()
    track(a, b)
    expect(a.gettimeout()).toBeNull()
    let caught: unknown
    try {
      a.recv(10, MSG_DONTWAIT)
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(BlockingIOError)
    expect(caught).toMatchObject({ code: errname('EAGAIN'), errno: errno.EAGAIN, syscall: 'recv' })
    expect(() => a.recvInto(Buffer.alloc(4), 0, MSG_DONTWAIT)).toThrow(BlockingIOError)
    expect(() => a.recvfrom(4, MSG_DONTWAIT)).toThrow(BlockingIOError)
    expect(a.gettimeout()).toBeNull()
    expect(a.getblocking()).toBe(true)
    // Data there: MSG_DONTWAIT just returns it.
    b.send('now')
    expect(a.recv(10, MSG_DONTWAIT).toString()).toBe('now')
  })

  it('MSG_DONTWAIT on a timed socket throws EAGAIN at once instead of waiting', () => {
    const [client] = connectedPair()
    expect(() => client.recv(10, MSG_DONTWAIT)).toThrow(
      expect.objectContaining({ code: errname('EAGAIN') }),
    )
  })

  it.skipIf(!hasPython)('MSG_WAITALL waits for the full amount sent in two parts', async () => {
    const l = listener()
    const [, port] = l.getsockname() as [string, number]
    const child = python(
      [
        'import socket, sys, time',
        "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)",
        "s.sendall(b'first-')",
        'time.sleep(0.2)',
        "s.sendall(b'second')",
        's.recv(1)',
        's.close()',
      ].join('\n'),
      [port],
    )
    const [conn] = l.accept()
    track(conn)
    // MSG_WAITALL needs a truly blocking socket (O_NONBLOCK returns early, in Python too);
    // SO_RCVTIMEO bounds the wait.
    expect(conn.gettimeout()).toBeNull()
    conn.setsockopt(SOL_SOCKET, SO_RCVTIMEO, timeval(10))
    expect(conn.recv(12, MSG_WAITALL).toString()).toBe('first-second')
    conn.send('k')
    const r = await child
    expect(r.code, r.stderr).toBe(0)
  })
})

describe('shutdown and odd sizes', () => {
  it('shutdown(SHUT_WR) gives the peer EOF while the other direction still works', () => {
    const [client, server] = connectedPair()
    client.sendall('last words')
    client.shutdown(SHUT_WR)
    expect(recvExactly(server, 10).toString()).toBe('last words')
    expect(server.recv(100)).toEqual(Buffer.alloc(0))
    expect(server.recv(100).length).toBe(0)
    server.sendall('reply after EOF')
    expect(recvExactly(client, 15).toString()).toBe('reply after EOF')
  })

  it('recv(2 ** 40) returns the data without allocating a terabyte', () => {
    const [client, server] = connectedPair()
    client.sendall('tiny')
    const got = server.recv(2 ** 40)
    expect(got.toString()).toBe('tiny')
    // A short read does not pin the large allocation.
    expect(got.buffer.byteLength).toBeLessThan(1024 * 1024)
  })

  it('recvfrom(2 ** 40) on UDP works too', () => {
    const a = udp(AF_INET)
    const b = udp(AF_INET)
    b.sendto('dgram', a.getsockname())
    expect(a.recvfrom(2 ** 40)[0].toString()).toBe('dgram')
  })

  it('recv(0) returns an empty Buffer at once, as in Python (the kernel would wait)', () => {
    const [client, server] = connectedPair()
    const empty = server.recv(0)
    expect(Buffer.isBuffer(empty)).toBe(true)
    expect(empty.length).toBe(0)
    expect(server.recvInto(Buffer.alloc(0))).toBe(0)
    client.sendall('x')
    expect(server.recv(0).length).toBe(0)
    expect(server.recv(1).toString()).toBe('x')
  })

  it('recv(0) on an idle blocking socket does not wait for a byte', () => {
    const [a, b] = socketpair()
    track(a, b)
    // Bound, should it block after all: SO_RCVTIMEO makes the kernel give up.
    a.setsockopt(SOL_SOCKET, SO_RCVTIMEO, timeval(5))
    expect(a.gettimeout()).toBeNull()
    expect(a.recv(0).length).toBe(0)
    expect(a.recvInto(new Uint8Array(0))).toBe(0)
  })

  it('a negative or fractional bufsize is a RangeError', () => {
    const [, server] = connectedPair()
    expect(() => server.recv(-1)).toThrow(RangeError)
    expect(() => server.recv(1.5)).toThrow(RangeError)
    expect(() => server.recv(Number.NaN)).toThrow(RangeError)
  })

  it('send of nothing returns 0', () => {
    const [client] = connectedPair()
    expect(client.send('')).toBe(0)
    expect(client.send(new Uint8Array(0))).toBe(0)
  })
})

describe('errors carry their syscall', () => {
  it('a SocketError from recvfrom says recvfrom', () => {
    const a = udp(AF_INET)
    a.setblocking(false)
    let caught: unknown
    try {
      a.recvfromInto(Buffer.alloc(4))
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(SocketError)
    expect(caught).toMatchObject({ code: errname('EAGAIN'), syscall: 'recvfrom' })
  })
})
