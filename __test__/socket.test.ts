// Socket lifecycle: creation, close, detach/fromfd, dup, CLOEXEC, accept, the seed scenario.

import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  errno,
  fromfd,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SO_ERROR,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  type Socket,
  SocketError,
  socket,
  socketpair,
} from '../ts/index.js'
import {
  closeTracked,
  connectedPair,
  errname,
  fdFlags,
  hasIPv6,
  hasProcFds,
  hasPython,
  hasUnixDgram,
  hasUnixStream,
  listener,
  O_CLOEXEC,
  python,
  track,
} from './helpers.js'

afterEach(closeTracked)

/** Asserts `fn` throws a SocketError with `code` (and `syscall` when given). */
function expectErrno(fn: () => unknown, code: string, syscall?: string): SocketError {
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  expect(caught).toBeInstanceOf(SocketError)
  const err = caught as SocketError
  expect(err.code).toBe(errname(code))
  expect(err.errno).toBe(errno[code])
  if (syscall !== undefined) expect(err.syscall).toBe(syscall)
  else expect(err.syscall).toMatch(/^[a-z]+$/)
  return err
}

/** fromfd's errno for an fd number that is not open: Winsock cannot tell a closed handle
 * from a non-socket, and says WSAENOTSOCK for both. */
const NOT_OPEN = process.platform === 'win32' ? 'ENOTSOCK' : 'EBADF'

const cloexec = (fd: number) => (fdFlags(fd) & O_CLOEXEC) !== 0

describe('socket()', () => {
  const families = [
    ['AF_INET', AF_INET, true],
    ['AF_INET6', AF_INET6, hasIPv6],
    ['AF_UNIX', AF_UNIX, true],
  ] as const
  const types = [
    ['SOCK_STREAM', SOCK_STREAM],
    ['SOCK_DGRAM', SOCK_DGRAM],
  ] as const
  for (const [fname, family, supported] of families) {
    for (const [tname, type] of types) {
      const here =
        family === AF_UNIX ? (type === SOCK_STREAM ? hasUnixStream : hasUnixDgram) : supported
      it.skipIf(!here)(`${fname} x ${tname} reports family, type, proto`, () => {
        const s = track(socket(family, type))
        expect(s.family).toBe(family)
        expect(s.type).toBe(type)
        // Python's: the value given, not the protocol the kernel picked for it...
        expect(s.proto).toBe(0)
        expect(s.fileno()).toBeGreaterThanOrEqual(0)
        // ...which only an adopted fd reports (SO_PROTOCOL).
        const kernels = family === AF_UNIX ? 0 : type === SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP
        const adopted = track(fromfd(s.dup().detach()))
        expect(adopted.proto).toBe(kernels)
      })
    }
  }

  it('defaults to AF_INET, SOCK_STREAM', () => {
    const s = track(socket())
    expect(s.family).toBe(AF_INET)
    expect(s.type).toBe(SOCK_STREAM)
  })

  it('takes an explicit protocol', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, IPPROTO_TCP))
    expect(s.proto).toBe(IPPROTO_TCP)
  })

  it.skipIf(!hasPython)(
    'proto as Python reports it: accept and dup copy it, socketpair passes it on',
    async () => {
      const l = listener()
      const c = track(socket())
      c.connect(l.getsockname())
      const [conn] = l.accept()
      track(conn)
      const [pa, pb] = socketpair()
      track(pa, pb)
      const dup = track(c.dup())
      const ours = [l.proto, c.proto, conn.proto, dup.proto, pa.proto, pb.proto]
      const py = await python(`
import socket
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen()
c = socket.socket(); c.connect(l.getsockname())
conn, _ = l.accept()
a, b = socket.socketpair()
print([l.proto, c.proto, conn.proto, c.dup().proto, a.proto, b.proto])
`)
      expect(py.stdout.trim()).toBe(JSON.stringify(ours).replaceAll(',', ', '))
    },
  )

  it('socketpair() gives two connected AF_UNIX stream sockets (AF_INET on Windows)', () => {
    const [a, b] = socketpair()
    track(a, b)
    for (const s of [a, b]) {
      // Windows: a loopback TCP pair, as Python makes it there.
      expect(s.family).toBe(process.platform === 'win32' ? AF_INET : AF_UNIX)
      expect(s.type).toBe(SOCK_STREAM)
      s.settimeout(5)
    }
    expect(a.send('ping')).toBe(4)
    expect(b.recv(10).toString()).toBe('ping')
    expect(b.send('pong')).toBe(4)
    expect(a.recv(10).toString()).toBe('pong')
  })

  it.skipIf(!hasUnixDgram)('socketpair(AF_UNIX, SOCK_DGRAM) keeps datagram boundaries', () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM)
    track(a, b)
    b.settimeout(5)
    expect(a.type).toBe(SOCK_DGRAM)
    a.send('one')
    a.send('two')
    expect(b.recv(100).toString()).toBe('one')
    expect(b.recv(100).toString()).toBe('two')
  })
})

describe('close()', () => {
  it('fileno() is >= 0, then -1 after close', () => {
    const s = socket()
    expect(s.fileno()).toBeGreaterThanOrEqual(0)
    s.close()
    expect(s.fileno()).toBe(-1)
  })

  it('closing twice is harmless', () => {
    const s = socket()
    s.close()
    expect(() => s.close()).not.toThrow()
    expect(s.fileno()).toBe(-1)
  })

  it('every call on a closed socket throws EBADF with its syscall', () => {
    const s = socket()
    s.close()
    const buf = Buffer.alloc(8)
    const calls: [string, () => unknown][] = [
      ['bind', () => s.bind(['127.0.0.1', 0])],
      ['listen', () => s.listen()],
      ['accept', () => s.accept()],
      ['connect', () => s.connect(['127.0.0.1', 9])],
      ['connect', () => s.connectEx(['127.0.0.1', 9])],
      ['send', () => s.send('x')],
      ['send', () => s.sendall('x')],
      ['sendto', () => s.sendto('x', ['127.0.0.1', 9])],
      ['recv', () => s.recv(10)],
      ['recv', () => s.recv(0)],
      ['recv', () => s.recvInto(buf)],
      ['recvfrom', () => s.recvfrom(10)],
      ['recvfrom', () => s.recvfromInto(buf)],
      ['shutdown', () => s.shutdown(0)],
      ['settimeout', () => s.settimeout(1)],
      ['settimeout', () => s.setblocking(false)],
      ['gettimeout', () => s.gettimeout()],
      ['gettimeout', () => s.getblocking()],
      ['gettimeout', () => s.timeout],
      ['getsockname', () => s.getsockname()],
      ['getpeername', () => s.getpeername()],
      ['setsockopt', () => s.setsockopt(SOL_SOCKET, SO_ERROR, 1)],
      ['setsockopt', () => s.setsockopt(SOL_SOCKET, SO_ERROR, Buffer.alloc(4))],
      ['getsockopt', () => s.getsockopt(SOL_SOCKET, SO_ERROR)],
      ['getsockopt', () => s.getsockopt(SOL_SOCKET, SO_ERROR, 4)],
      ['dup', () => s.dup()],
    ]
    for (const [syscall, call] of calls) {
      const err = expectErrno(call, 'EBADF', syscall)
      expect(err.message.startsWith(`${syscall} ${errname('EBADF')}`)).toBe(true)
    }
    expect(s.detach()).toBe(-1)
    expect(s.fileno()).toBe(-1)
  })

  it("a closed socket never touches its old fd number, even once it is someone else's", () => {
    // The kernel hands out the lowest free number: b gets a's old one.
    let a = socket(AF_INET, SOCK_DGRAM)
    let fd = a.fileno()
    a.close()
    let b = track(socket(AF_INET, SOCK_DGRAM))
    for (let i = 0; i < 10 && b.fileno() !== fd; i++) {
      // Another thread of this process took the number in between: try again.
      a = socket(AF_INET, SOCK_DGRAM)
      fd = a.fileno()
      a.close()
      b = track(socket(AF_INET, SOCK_DGRAM))
    }
    expect(b.fileno()).toBe(fd)
    b.settimeout(5)
    b.bind(['127.0.0.1', 0])
    expectErrno(() => a.send('x'), 'EBADF', 'send')
    expectErrno(() => a.sendto('x', b.getsockname()), 'EBADF', 'sendto')
    expectErrno(() => a.recv(10), 'EBADF', 'recv')
    expectErrno(() => a.getsockname(), 'EBADF', 'getsockname')
    expectErrno(() => a.settimeout(null), 'EBADF', 'settimeout')
    expect(() => a.close()).not.toThrow()
    // b is untouched: still open, still timed, still bound, still works.
    expect(b.fileno()).toBe(fd)
    expect(b.gettimeout()).toBe(5)
    const c = track(socket(AF_INET, SOCK_DGRAM))
    c.sendto('still here', b.getsockname())
    expect(b.recv(100).toString()).toBe('still here')
  })

  it('Symbol.dispose closes the socket', () => {
    const s = socket()
    s[Symbol.dispose]()
    expect(s.fileno()).toBe(-1)
    expectErrno(() => s.getsockname(), 'EBADF', 'getsockname')
    expect(() => s[Symbol.dispose]()).not.toThrow()
  })
})

describe('detach() and fromfd()', () => {
  it('detach() returns the fd, leaves it open, and the socket acts closed', () => {
    const s = socket(AF_INET, SOCK_DGRAM)
    const before = s.fileno()
    const fd = s.detach()
    expect(fd).toBe(before)
    expect(s.fileno()).toBe(-1)
    expectErrno(() => s.getsockname(), 'EBADF', 'getsockname')
    expect(s.detach()).toBe(-1)
    // Still open: fromfd adopts it (and closes it at the end of the test). Windows: a socket
    // is no C runtime fd for fstat.
    if (process.platform !== 'win32') expect(fs.fstatSync(fd).isSocket()).toBe(true)
    track(fromfd(fd))
  })

  it('fromfd() adopts a detached fd: family/type read back, data still flows', () => {
    const [client, server] = connectedPair()
    const fd = client.detach()
    const adopted = track(fromfd(fd))
    expect(adopted.fileno()).toBe(fd)
    expect(adopted.family).toBe(AF_INET)
    expect(adopted.type).toBe(SOCK_STREAM)
    expect(adopted.proto).toBe(IPPROTO_TCP)
    // The detached socket was timed (O_NONBLOCK): fromfd reads the mode back as non-blocking.
    // Windows: Winsock cannot say whether a socket is non-blocking, so no mode is read back.
    if (process.platform !== 'win32') expect(adopted.gettimeout()).toBe(0)
    adopted.settimeout(5)
    expect(adopted.getpeername()).toEqual(server.getsockname())
    adopted.sendall('through the adopted fd')
    expect(server.recv(100).toString()).toBe('through the adopted fd')
    server.sendall('and back')
    expect(adopted.recv(100).toString()).toBe('and back')
  })

  it.skipIf(!hasUnixDgram)(
    'fromfd() of a blocking fd is blocking; of an AF_UNIX datagram fd is AF_UNIX/SOCK_DGRAM',
    () => {
      const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM)
      track(b)
      const adopted = track(fromfd(a.detach()))
      expect(adopted.family).toBe(AF_UNIX)
      expect(adopted.type).toBe(SOCK_DGRAM)
      expect(adopted.gettimeout()).toBeNull()
      adopted.send('dgram')
      b.settimeout(5)
      expect(b.recv(100).toString()).toBe('dgram')
    },
  )

  it('fromfd() of an fd number that is not open throws EBADF', () => {
    const fd = 1_000_000
    expect(() => fs.fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }))
    expectErrno(() => fromfd(fd), NOT_OPEN, 'fromfd')
  })

  it('fromfd() of a closed socket fd number throws EBADF', () => {
    const s = socket()
    const fd = s.fileno()
    s.close()
    let stillClosed = true
    try {
      fs.fstatSync(fd)
      stillClosed = false // reused by something else meanwhile: nothing to test
    } catch {}
    if (stillClosed) expectErrno(() => fromfd(fd), NOT_OPEN, 'fromfd')
  })

  it('fromfd() of a non-socket throws ENOTSOCK and leaves the fd open', () => {
    const fd = fs.openSync('/dev/null', 'r')
    try {
      expectErrno(() => fromfd(fd), 'ENOTSOCK', 'fromfd')
      expect(fs.fstatSync(fd).isCharacterDevice()).toBe(true)
    } finally {
      fs.closeSync(fd)
    }
  })

  // Windows: no FIFOs (mkfifo).
  it.skipIf(process.platform === 'win32')(
    'fromfd() of a FIFO throws ENOTSOCK and leaves the fd open',
    () => {
      const dir = fs.mkdtempSync(join(tmpdir(), 'bsd-sockets-'))
      const fifo = join(dir, 'fifo')
      try {
        execFileSync('mkfifo', [fifo])
        // O_RDWR opens a FIFO without waiting for a peer (Linux).
        const fd = fs.openSync(fifo, 'r+')
        try {
          expectErrno(() => fromfd(fd), 'ENOTSOCK', 'fromfd')
          expect(fs.fstatSync(fd).isFIFO()).toBe(true)
        } finally {
          fs.closeSync(fd)
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    },
  )

  it('fromfd() of a regular file throws ENOTSOCK and leaves the fd open', () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'bsd-sockets-'))
    const file = join(dir, 'file')
    fs.writeFileSync(file, 'x')
    const fd = fs.openSync(file, 'r')
    try {
      expectErrno(() => fromfd(fd), 'ENOTSOCK', 'fromfd')
      expect(fs.fstatSync(fd).isFile()).toBe(true)
    } finally {
      fs.closeSync(fd)
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('fromfd() rejects a bad fd argument before any syscall', () => {
    expect(() => fromfd(-1)).toThrow(RangeError)
    expect(() => fromfd(1.5)).toThrow(RangeError)
    expect(() => fromfd('3' as unknown as number)).toThrow(TypeError)
  })
})

describe('dup()', () => {
  it('gives a new fd of the same connection, in the same mode', () => {
    const [client, server] = connectedPair()
    const copy = track(client.dup())
    expect(copy.fileno()).toBeGreaterThanOrEqual(0)
    expect(copy.fileno()).not.toBe(client.fileno())
    expect(copy.family).toBe(client.family)
    expect(copy.type).toBe(client.type)
    expect(copy.gettimeout()).toBe(client.gettimeout())
    expect(copy.getsockname()).toEqual(client.getsockname())
    expect(copy.getpeername()).toEqual(client.getpeername())
    copy.sendall('via dup ')
    client.sendall('via original')
    let got = ''
    while (got.length < 'via dup via original'.length) got += server.recv(100).toString()
    expect(got).toBe('via dup via original')
    // Closing one leaves the connection open through the other.
    client.close()
    copy.sendall('!')
    expect(server.recv(10).toString()).toBe('!')
  })
})

describe('CLOEXEC', () => {
  it.skipIf(!hasProcFds)(
    'socket(), accept(), socketpair(), dup(), fromfd() fds are O_CLOEXEC',
    () => {
      const [client, server] = connectedPair()
      const [p, q] = socketpair()
      track(p, q)
      const d = track(client.dup())
      const plain = track(socket(AF_INET, SOCK_DGRAM))
      const adopted = track(fromfd(socket(AF_UNIX).detach()))
      for (const s of [client, server, p, q, d, plain, adopted]) {
        expect(cloexec(s.fileno()), `fd ${s.fileno()}`).toBe(true)
      }
    },
  )

  it.skipIf(!hasPython)('a child process does not inherit a socket', async () => {
    const [client, server] = connectedPair()
    const l = listener()
    const [p] = socketpair()
    track(p)
    const fds = [client.fileno(), server.fileno(), l.fileno(), p.fileno()]
    const probe = [
      'import errno, os, stat, sys',
      'for a in sys.argv[1:]:',
      '    try:',
      '        st = os.fstat(int(a))',
      "        print('sock' if stat.S_ISSOCK(st.st_mode) else 'open')",
      '    except OSError as e:',
      '        print(errno.errorcode[e.errno])',
    ].join('\n')
    const r = await python(probe, fds)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim().split('\n')).toEqual(fds.map(() => 'EBADF'))
    // The control: the same probe sees a socket handed over on purpose (as its fd 3).
    const handed = await python(probe, [3], { fds: [server.fileno()] })
    expect(handed.stdout.trim()).toBe('sock')
  })

  it.skipIf(!hasPython)('the child of the CLOEXEC check fails os.fstat with EBADF', async () => {
    const s = track(socket())
    const r = await python('import os,sys; os.fstat(int(sys.argv[1]))', [s.fileno()])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/Bad file descriptor|EBADF|Errno 9/)
  })
})

describe('accept()', () => {
  it("returns [Socket, address] with the address equal to the client's getsockname()", () => {
    const l = listener()
    const client = track(socket())
    client.settimeout(5)
    client.connect(l.getsockname())
    const [conn, addr] = l.accept()
    track(conn)
    expect(addr).toEqual(client.getsockname())
    expect(conn.getpeername()).toEqual(addr)
    expect(conn.getsockname()).toEqual(l.getsockname())
    expect(conn.family).toBe(AF_INET)
    expect(conn.type).toBe(SOCK_STREAM)
    // The accepted socket is blocking, whatever the listener's mode (Python's rule).
    expect(conn.gettimeout()).toBeNull()
  })

  it.skipIf(!hasIPv6)('over IPv6 the address is [host, port, flowinfo, scopeId]', () => {
    const l = listener(AF_INET6)
    const client = track(socket(AF_INET6))
    client.settimeout(5)
    client.connect(l.getsockname())
    const [conn, addr] = l.accept()
    track(conn)
    expect(addr).toEqual(client.getsockname())
    expect(addr).toEqual(['::1', expect.any(Number), 0, 0])
  })

  it.skipIf(!hasUnixStream)('over AF_UNIX the listener address is its path', () => {
    const l = listener(AF_UNIX)
    const path = l.getsockname() as string
    expect(typeof path).toBe('string')
    const client = track(socket(AF_UNIX))
    client.settimeout(5)
    client.connect(path)
    const [conn, addr] = l.accept()
    track(conn)
    // An unbound client is unnamed: '' on both sides.
    expect(addr).toBe('')
    expect(client.getsockname()).toBe('')
    expect(client.getpeername()).toBe(path)
    conn.settimeout(5)
    client.sendall('unix')
    expect(conn.recv(10).toString()).toBe('unix')
  })
})

describe('the seed scenario', () => {
  it('server and client exchange "Hello World" and "101, 280, 237, 680"', () => {
    const server = track(socket(AF_INET, SOCK_STREAM))
    server.settimeout(5)
    server.bind(['', 0])
    server.listen(5)
    const [host, port] = server.getsockname() as [string, number]
    expect(host).toBe('0.0.0.0')
    expect(port).toBeGreaterThan(0)

    const client = track(socket(AF_INET, SOCK_STREAM))
    client.settimeout(5)
    // '' means 0.0.0.0, which Linux routes to the local host.
    client.connect(['', port])
    expect(client.send(Buffer.from('Hello World'))).toBe(11)
    expect(client.send('101, 280, 237, 680')).toBe(18)
    client.close()

    const [conn] = server.accept()
    track(conn)
    conn.settimeout(5)
    const chunks: Buffer[] = []
    for (;;) {
      const data = conn.recv(100)
      expect(Buffer.isBuffer(data)).toBe(true)
      if (data.length === 0) break
      chunks.push(data)
    }
    expect(Buffer.concat(chunks).toString()).toBe('Hello World101, 280, 237, 680')
    // After the end of stream, recv keeps returning an empty Buffer.
    expect(conn.recv(100)).toEqual(Buffer.alloc(0))
  })
})

describe('connected pair sanity', () => {
  it('getsockopt(SO_ERROR) is 0 on a healthy connection', () => {
    const [client, server] = connectedPair()
    for (const s of [client, server] as Socket[]) {
      expect(s.getsockopt(SOL_SOCKET, SO_ERROR)).toBe(0)
    }
  })
})
