// Every errno a socket call documents, provoked for real on loopback, with class, code, errno,
// syscall, address/port and a Node-style message.
import * as fs from 'node:fs'
import { networkInterfaces } from 'node:os'
import { inspect } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  BlockingIOError,
  BrokenPipeError,
  ConnectionAbortedError,
  ConnectionError,
  ConnectionRefusedError,
  ConnectionResetError,
  errno,
  fromfd,
  GaiError,
  getaddrinfo,
  IPPROTO_UDP,
  SHUT_RDWR,
  SHUT_WR,
  SO_LINGER,
  SO_REUSEADDR,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  type Socket,
  SocketError,
  socket,
  socketpair,
  TimeoutError,
} from '../ts/index.js'
import {
  CONNECT_PENDING,
  closeTracked,
  connectedPair,
  errname,
  hasIPv6,
  hasUnixStream,
  linger,
  listener,
  tmpUnixPath,
  track,
} from './helpers.js'

afterEach(closeTracked)

type ErrorClass = abstract new (...args: never[]) => SocketError

/**
 * Runs `fn`, expects it to throw `Kind` with `code`, `errno === errno[code]` (the package's table),
 * `syscall`, and `name` equal to the class name; returns the error for more checks.
 */
function expectError(
  fn: () => unknown,
  Kind: ErrorClass,
  code: string,
  syscall: string,
): SocketError {
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  expect(caught, `expected ${code} from ${syscall}`).toBeInstanceOf(Kind)
  const err = caught as SocketError
  expect(err).toBeInstanceOf(SocketError)
  expect(err).toBeInstanceOf(Error)
  expect(err.code).toBe(errname(code))
  expect(err.errno).toBe(errno[code])
  expect(err.errno).toBeGreaterThan(0)
  expect(err.syscall).toBe(syscall)
  expect(err.name).toBe(Kind.name)
  expect(err.message.startsWith(`${syscall} ${errname(code)}`)).toBe(true)
  expect(typeof err.stack).toBe('string')
  return err
}

/** A loopback port with nothing listening: bound (so nobody else gets it) but not listening. */
function deadPort(family = AF_INET): [Socket, number] {
  const s = track(socket(family, SOCK_STREAM))
  s.bind(family === AF_INET6 ? ['::1', 0] : ['127.0.0.1', 0])
  return [s, (s.getsockname() as [string, number])[1]]
}

/** A TEST-NET address (RFC 5737) not assigned to any interface here: bind gives EADDRNOTAVAIL. */
const foreignAddress = (() => {
  const local = new Set(
    Object.values(networkInterfaces())
      .flat()
      .map((i) => i?.address),
  )
  return ['192.0.2.1', '198.51.100.1', '203.0.113.1'].find((a) => !local.has(a))
})()
const nonlocalBind = (() => {
  try {
    return fs.readFileSync('/proc/sys/net/ipv4/ip_nonlocal_bind', 'utf8').trim() !== '0'
  } catch {
    return false
  }
})()

describe('the error classes', () => {
  it('ConnectionError is the base of the connection errors; name is the class name', () => {
    for (const Kind of [
      BrokenPipeError,
      ConnectionAbortedError,
      ConnectionRefusedError,
      ConnectionResetError,
    ]) {
      const e = new Kind('EXAMPLE', 1, 'send')
      expect(e).toBeInstanceOf(ConnectionError)
      expect(e).toBeInstanceOf(SocketError)
      expect(e.name).toBe(Kind.name)
    }
    for (const Kind of [BlockingIOError, TimeoutError, GaiError]) {
      const e = new Kind('EXAMPLE', 1, 'recv')
      expect(e).not.toBeInstanceOf(ConnectionError)
      expect(e).toBeInstanceOf(SocketError)
      expect(e.name).toBe(Kind.name)
    }
    expect(new SocketError('EBADF', 9, 'recv').name).toBe('SocketError')
  })
})

describe('connection errors', () => {
  it('ECONNREFUSED: connect to a port bound but not listening', () => {
    const [, port] = deadPort()
    const c = track(socket())
    c.settimeout(5)
    const err = expectError(
      () => c.connect(['127.0.0.1', port]),
      ConnectionRefusedError,
      'ECONNREFUSED',
      'connect',
    )
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.message).toBe(`connect ${errname('ECONNREFUSED')} 127.0.0.1:${port}`)
    expect(err.address).toBe('127.0.0.1')
    expect(err.port).toBe(port)
  })

  it('ECONNREFUSED on a blocking connect, and from connectEx as a number', () => {
    const [, port] = deadPort()
    const c = track(socket())
    // A refused loopback connect fails at once; no timeout needed to bound it.
    expectError(
      () => c.connect(['127.0.0.1', port]),
      ConnectionRefusedError,
      'ECONNREFUSED',
      'connect',
    )
    const d = track(socket())
    expect(d.connectEx(['127.0.0.1', port])).toBe(errno.ECONNREFUSED)
  })

  it.skipIf(!hasIPv6)('ECONNREFUSED over IPv6: the message has the v6 host', () => {
    const [, port] = deadPort(AF_INET6)
    const c = track(socket(AF_INET6))
    c.settimeout(5)
    const err = expectError(
      () => c.connect(['::1', port]),
      ConnectionRefusedError,
      'ECONNREFUSED',
      'connect',
    )
    expect(err.message).toBe(`connect ${errname('ECONNREFUSED')} ::1:${port}`)
    expect(err.address).toBe('::1')
    expect(err.port).toBe(port)
  })

  // Windows: an ICMP port unreachable comes back as WSAECONNRESET (SIO_UDP_CONNRESET), and
  // wine 8 reports none.
  it.skipIf(process.platform === 'win32')(
    'ECONNREFUSED on a connected UDP socket after an ICMP port unreachable',
    () => {
      // A UDP port nobody holds: bind one, note it, close it.
      const tmp = socket(AF_INET, SOCK_DGRAM)
      tmp.bind(['127.0.0.1', 0])
      const [, port] = tmp.getsockname() as [string, number]
      tmp.close()
      const u = track(socket(AF_INET, SOCK_DGRAM))
      u.settimeout(5)
      u.connect(['127.0.0.1', port])
      u.send('anyone?')
      const err = expectError(() => u.recv(10), ConnectionRefusedError, 'ECONNREFUSED', 'recv')
      expect(err.message).toBe(`recv ${errname('ECONNREFUSED')}`)
      expect(err.address).toBeUndefined()
    },
  )

  it('EPIPE: send after our own shutdown(SHUT_WR)', () => {
    const [client] = connectedPair()
    client.shutdown(SHUT_WR)
    // Winsock has no EPIPE: a send after shutdown is WSAESHUTDOWN, a BrokenPipeError too.
    const code = process.platform === 'win32' ? 'ESHUTDOWN' : 'EPIPE'
    const err = expectError(() => client.send('late'), BrokenPipeError, code, 'send')
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.message).toBe(`send ${errname(code)}`)
    expectError(() => client.sendall('late'), BrokenPipeError, code, 'send')
  })

  it.skipIf(!hasUnixStream)(
    'EPIPE: send to a closed AF_UNIX peer (and no SIGPIPE kills us)',
    () => {
      const [a, b] = socketpair(AF_UNIX)
      track(a)
      b.close()
      expectError(() => a.send('nobody'), BrokenPipeError, 'EPIPE', 'send')
    },
  )

  it('EPIPE: repeated sends after the TCP peer closed end in EPIPE (maybe ECONNRESET first)', () => {
    const [client, server] = connectedPair()
    server.close()
    const codes: string[] = []
    // Winsock has no EPIPE: its sends after the peer's close fail with WSAECONNRESET or
    // WSAECONNABORTED, every one of them.
    const last = process.platform === 'win32' ? ['ECONNRESET', 'ECONNABORTED'] : ['EPIPE']
    for (let i = 0; i < 1000 && !last.map(errname).includes(codes.at(-1) ?? ''); i++) {
      try {
        client.send('x')
      } catch (e) {
        expect(e).toBeInstanceOf(ConnectionError)
        codes.push((e as SocketError).code)
      }
    }
    expect(last.map(errname)).toContain(codes.at(-1))
    for (const c of codes) expect(['ECONNRESET', ...last].map(errname)).toContain(c)
  })

  // Windows under wine 8: a close with SO_LINGER {1, 0} reaches the peer as EOF, not a
  // reset (so far seen only there; Windows itself sends a RST).
  it.skipIf(process.platform === 'win32')(
    'ECONNRESET: the peer closes with SO_LINGER {on, 0 s}, which sends a RST',
    () => {
      const [client, server] = connectedPair()
      const reset = linger(1, 0)
      server.setsockopt(SOL_SOCKET, SO_LINGER, reset)
      expect(server.getsockopt(SOL_SOCKET, SO_LINGER, reset.length)).toEqual(reset)
      server.close()
      const err = expectError(() => client.recv(10), ConnectionResetError, 'ECONNRESET', 'recv')
      expect(err).toBeInstanceOf(ConnectionError)
      expect(err.message).toBe(`recv ${errname('ECONNRESET')}`)
    },
  )

  it('ENOTCONN: recv, getpeername, shutdown on an unconnected TCP socket', () => {
    const s = track(socket())
    s.settimeout(5)
    expectError(() => s.recv(10), SocketError, 'ENOTCONN', 'recv')
    expectError(() => s.getpeername(), SocketError, 'ENOTCONN', 'getpeername')
    expectError(() => s.shutdown(SHUT_RDWR), SocketError, 'ENOTCONN', 'shutdown')
  })

  it('EISCONN: connect on a connected socket', () => {
    const l = listener()
    const [host, port] = l.getsockname() as [string, number]
    const c = track(socket())
    // Blocking: a loopback connect to a listener completes from the backlog at once. (After a
    // timed or non-blocking connect, the kernel answers the first repeat with 0, as in Python.)
    c.connect([host, port])
    const err = expectError(() => c.connect([host, port]), SocketError, 'EISCONN', 'connect')
    expect(err.message).toBe(`connect ${errname('EISCONN')} ${host}:${port}`)
    expect(c.connectEx([host, port])).toBe(errno.EISCONN)
  })
})

describe('mode errors', () => {
  it('EAGAIN: non-blocking recv with nothing to read', () => {
    const [a, b] = socketpair()
    track(a, b)
    a.setblocking(false)
    const err = expectError(() => a.recv(1), BlockingIOError, 'EAGAIN', 'recv')
    expect(err.message).toBe(`recv ${errname('EAGAIN')}`)
  })

  it('EINPROGRESS: non-blocking connect', () => {
    const l = listener()
    const [host, port] = l.getsockname() as [string, number]
    const c = track(socket())
    c.setblocking(false)
    const err = expectError(
      () => c.connect([host, port]),
      BlockingIOError,
      CONNECT_PENDING,
      'connect',
    )
    expect(err.message).toBe(`connect ${errname(CONNECT_PENDING)} ${host}:${port}`)
    expect(err.address).toBe(host)
    expect(err.port).toBe(port)
  })

  it('ETIMEDOUT: timed recv with nothing to read', () => {
    const [, server] = connectedPair()
    server.settimeout(0.02)
    const err = expectError(() => server.recv(1), TimeoutError, 'ETIMEDOUT', 'recv')
    expect(err.message).toBe(`recv ${errname('ETIMEDOUT')}`)
  })
})

describe('address errors', () => {
  it('EADDRINUSE: bind to a port a listener holds', () => {
    const l = listener()
    const [host, port] = l.getsockname() as [string, number]
    const s = track(socket())
    const err = expectError(() => s.bind([host, port]), SocketError, 'EADDRINUSE', 'bind')
    expect(err.message).toBe(`bind ${errname('EADDRINUSE')} 127.0.0.1:${port}`)
    expect(err.address).toBe('127.0.0.1')
    expect(err.port).toBe(port)
    // bytesSent belongs to sendall's errors only: no property, nothing printed.
    expect('bytesSent' in err).toBe(false)
    expect(inspect(err)).not.toContain('bytesSent')
  })

  // Windows: SO_REUSEADDR lets a second socket take a port in use (the port stealing Python's
  // create_server avoids there); wine 8 answers WSAEACCES.
  it.skipIf(process.platform === 'win32')(
    'EADDRINUSE even with SO_REUSEADDR on both, while the first one listens (Linux)',
    () => {
      const a = track(socket())
      a.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
      a.bind(['127.0.0.1', 0])
      a.listen()
      const b = track(socket())
      b.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
      expectError(() => b.bind(a.getsockname()), SocketError, 'EADDRINUSE', 'bind')
    },
  )

  it.skipIf(!hasUnixStream)('EADDRINUSE on a Unix path that exists', () => {
    const path = tmpUnixPath()
    const a = track(socket(AF_UNIX))
    a.bind(path)
    const b = track(socket(AF_UNIX))
    const err = expectError(() => b.bind(path), SocketError, 'EADDRINUSE', 'bind')
    expect(err.message).toBe(`bind ${errname('EADDRINUSE')} ${path}`)
    expect(err.address).toBe(path)
    expect(err.port).toBeUndefined()
  })

  it.skipIf(foreignAddress === undefined || nonlocalBind)(
    'EADDRNOTAVAIL: bind to a TEST-NET address no interface has (no traffic is sent)',
    () => {
      const s = track(socket())
      const err = expectError(
        () => s.bind([foreignAddress as string, 0]),
        SocketError,
        'EADDRNOTAVAIL',
        'bind',
      )
      expect(err.message).toBe(`bind ${errname('EADDRNOTAVAIL')} ${foreignAddress}:0`)
      expect(err.address).toBe(foreignAddress)
      expect(err.port).toBe(0)
    },
  )

  it.skipIf(!hasUnixStream)('ENOENT: connect to a Unix path that does not exist', () => {
    const path = tmpUnixPath('missing')
    const s = track(socket(AF_UNIX))
    const err = expectError(() => s.connect(path), SocketError, 'ENOENT', 'connect')
    expect(err.message).toBe(`connect ${errname('ENOENT')} ${path}`)
    expect(err.address).toBe(path)
    expect(err.port).toBeUndefined()
  })

  it.skipIf(!hasUnixStream)('ECONNREFUSED: connect to a Unix path bound but not listening', () => {
    const path = tmpUnixPath()
    const a = track(socket(AF_UNIX))
    a.bind(path)
    const s = track(socket(AF_UNIX))
    expectError(() => s.connect(path), ConnectionRefusedError, 'ECONNREFUSED', 'connect')
  })

  it.skipIf(!hasUnixStream)('ENAMETOOLONG: a Unix path of 200 characters', () => {
    const path = `/tmp/${'x'.repeat(195)}`
    expect(path.length).toBe(200)
    const s = track(socket(AF_UNIX))
    const err = expectError(() => s.connect(path), SocketError, 'ENAMETOOLONG', 'connect')
    expect(err.address).toBe(path)
    expectError(() => s.bind(path), SocketError, 'ENAMETOOLONG', 'bind')
  })

  it('EACCES: a broadcast sendto without SO_BROADCAST (loopback broadcast, refused locally)', () => {
    const u = track(socket(AF_INET, SOCK_DGRAM))
    const err = expectError(
      () => u.sendto('x', ['127.255.255.255', 9]),
      SocketError,
      'EACCES',
      'sendto',
    )
    expect(err.message).toBe(`sendto ${errname('EACCES')} 127.255.255.255:9`)
  })

  it('EMSGSIZE: a UDP datagram larger than 64 KiB', () => {
    const u = track(socket(AF_INET, SOCK_DGRAM))
    const r = track(socket(AF_INET, SOCK_DGRAM))
    r.bind(['127.0.0.1', 0])
    expectError(
      () => u.sendto(Buffer.alloc(70_000), r.getsockname()),
      SocketError,
      'EMSGSIZE',
      'sendto',
    )
  })

  it('EDESTADDRREQ: send on an unconnected UDP socket', () => {
    const u = track(socket(AF_INET, SOCK_DGRAM))
    // Winsock answers this misuse with WSAENOTCONN (wine 8: WSAEINVAL), not WSAEDESTADDRREQ.
    if (process.platform === 'win32') {
      let caught: unknown
      try {
        u.send('where to?')
      } catch (e) {
        caught = e
      }
      expect(caught).toBeInstanceOf(SocketError)
      expect(['EDESTADDRREQ', 'ENOTCONN', 'EINVAL'].map(errname)).toContain(
        (caught as SocketError).code,
      )
    } else expectError(() => u.send('where to?'), SocketError, 'EDESTADDRREQ', 'send')
  })
})

describe('descriptor and argument errors', () => {
  it('EBADF: any call on a closed socket', () => {
    const s = socket()
    s.close()
    const err = expectError(() => s.recv(1), SocketError, 'EBADF', 'recv')
    expect(err.message).toBe(`recv ${errname('EBADF')}`)
    expectError(() => s.connect(['127.0.0.1', 9]), SocketError, 'EBADF', 'connect')
  })

  it('ENOTSOCK: fromfd of a non-socket fd', () => {
    const fd = fs.openSync('/dev/null', 'r')
    try {
      expectError(() => fromfd(fd), SocketError, 'ENOTSOCK', 'fromfd')
      expect(() => fs.fstatSync(fd)).not.toThrow()
    } finally {
      fs.closeSync(fd)
    }
  })

  it('EINVAL: accept on a socket that is not listening', () => {
    const s = track(socket())
    s.settimeout(5)
    s.bind(['127.0.0.1', 0])
    expectError(() => s.accept(), SocketError, 'EINVAL', 'accept')
  })

  it('EINVAL: bind an already bound socket', () => {
    const s = track(socket())
    s.bind(['127.0.0.1', 0])
    expectError(() => s.bind(['127.0.0.1', 0]), SocketError, 'EINVAL', 'bind')
  })

  it('EINVAL: shutdown with an unknown how', () => {
    const [client] = connectedPair()
    expectError(() => client.shutdown(42), SocketError, 'EINVAL', 'shutdown')
  })

  it('EOPNOTSUPP: listen on a UDP socket', () => {
    const u = track(socket(AF_INET, SOCK_DGRAM))
    u.bind(['127.0.0.1', 0])
    const err = expectError(() => u.listen(), SocketError, 'EOPNOTSUPP', 'listen')
    expect(err.message).toBe(`listen ${errname('EOPNOTSUPP')}`)
  })

  it('ENOPROTOOPT: getsockopt / setsockopt of an unknown option', () => {
    const s = track(socket())
    expectError(() => s.getsockopt(SOL_SOCKET, 0x7fff), SocketError, 'ENOPROTOOPT', 'getsockopt')
    expectError(() => s.setsockopt(SOL_SOCKET, 0x7fff, 1), SocketError, 'ENOPROTOOPT', 'setsockopt')
  })

  it('EAFNOSUPPORT / EPROTONOSUPPORT / EINVAL from socket()', () => {
    expectError(() => socket(4242, SOCK_STREAM), SocketError, 'EAFNOSUPPORT', 'socket')
    expectError(
      () => socket(AF_INET, SOCK_STREAM, IPPROTO_UDP),
      SocketError,
      'EPROTONOSUPPORT',
      'socket',
    )
    // An unknown type: Linux says EINVAL, Winsock WSAESOCKTNOSUPPORT.
    const badType = process.platform === 'win32' ? 'ESOCKTNOSUPPORT' : 'EINVAL'
    expectError(() => socket(AF_INET, 4242), SocketError, badType, 'socket')
  })

  // Windows: socketpair() makes AF_INET pairs (a loopback connection), as Python does there.
  it.skipIf(process.platform === 'win32')(
    'EOPNOTSUPP / EAFNOSUPPORT from socketpair() outside AF_UNIX',
    () => {
      let caught: unknown
      try {
        socketpair(AF_INET, SOCK_STREAM)
      } catch (e) {
        caught = e
      }
      expect(caught).toBeInstanceOf(SocketError)
      expect(['EOPNOTSUPP', 'EAFNOSUPPORT'].map(errname)).toContain((caught as SocketError).code)
      expect((caught as SocketError).syscall).toBe('socketpair')
    },
  )

  it('bad arguments are TypeError / RangeError, never a SocketError', () => {
    const s = track(socket())
    expect(() => s.bind('127.0.0.1' as unknown as [string, number])).toThrow(TypeError)
    expect(() => s.bind(['127.0.0.1', 70000])).toThrow(RangeError)
    expect(() => s.connect(['127.0.0.1', -1])).toThrow(RangeError)
    expect(() => s.recv(-1)).toThrow(RangeError)
    expect(() => s.send(undefined as unknown as string)).toThrow(TypeError)
    if (!hasUnixStream) return
    const u = track(socket(AF_UNIX))
    expect(() => u.bind(['x', 1] as unknown as string)).toThrow(TypeError)
  })
})

describe('getaddrinfo errors', () => {
  it('GaiError EAI_NONAME for a name that cannot exist', () => {
    let caught: unknown
    try {
      getaddrinfo('bad host!', 80)
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(GaiError)
    expect(caught).toBeInstanceOf(SocketError)
    const err = caught as GaiError
    // A sandbox resolver may answer "try again" instead of "no such name".
    expect(err.code).toBe('EAI_NONAME')
    expect(err.name).toBe('GaiError')
    expect(err.syscall).toBe('getaddrinfo')
    expect(err.message).toBe(`getaddrinfo ${err.code} bad host!`)
    expect(err.address).toBe('bad host!')
    // An EAI_* value, not an OS errno (negative on glibc).
    expect(Number.isInteger(err.errno)).toBe(true)
    expect(err.errno).not.toBe(0)
  })

  it('GaiError from connect to a name that cannot exist', () => {
    const s = track(socket())
    s.settimeout(5)
    let caught: unknown
    try {
      s.connect(['bad host!', 80])
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(GaiError)
    const err = caught as GaiError
    expect(err.code).toBe('EAI_NONAME')
    expect(err.address).toBe('bad host!')
    expect(err.port).toBe(80)
    expect(err.message).toBe(`${err.syscall} ${err.code} bad host!:80`)
  })

  it('GaiError EAI_SERVICE for an unknown service name', () => {
    let caught: unknown
    try {
      getaddrinfo('127.0.0.1', 'no-such-service-xyz')
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(GaiError)
    expect((caught as GaiError).code).toBe('EAI_SERVICE')
  })
})
