// Socket options (setsockopt/getsockopt) and addresses (getsockname/getpeername), on real sockets.
import { endianness } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  errno,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPV6_V6ONLY,
  SO_BROADCAST,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_SNDBUF,
  SO_TYPE,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  SocketError,
  socket,
  socketpair,
  TCP_NODELAY,
} from '../ts/index.js'
import {
  closeTracked,
  errname,
  expectUnbound,
  hasIPv6,
  hasUnixDgram,
  hasUnixStream,
  tmpUnixPath,
  track,
} from './helpers.js'

afterEach(closeTracked)

/** Whether the kernel knows SO_REUSEPORT. */
const hasReusePort = (() => {
  const s = socket(AF_INET, SOCK_STREAM)
  try {
    s.setsockopt(SOL_SOCKET, SO_REUSEPORT as number, 1)
    return true
  } catch {
    return false
  } finally {
    s.close()
  }
})()

/** Asserts that `fn` throws a SocketError with this code and its matching OS errno. */
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
  return err
}

interface IntOption {
  name: string
  family: number
  type: number
  level: number
  optname: number
  /** Value to set; `'flip'` sets the opposite of the default boolean. */
  value: number | 'flip'
  /** A buffer size the kernel may adjust (Linux doubles it). */
  buffer?: boolean
  skip?: boolean
}

const intOptions: IntOption[] = [
  {
    name: 'SO_REUSEADDR',
    family: AF_INET,
    type: SOCK_STREAM,
    level: SOL_SOCKET,
    optname: SO_REUSEADDR,
    value: 'flip',
  },
  {
    name: 'SO_REUSEPORT',
    family: AF_INET,
    type: SOCK_STREAM,
    level: SOL_SOCKET,
    optname: SO_REUSEPORT as number,
    value: 'flip',
    skip: !hasReusePort,
  },
  {
    name: 'SO_KEEPALIVE',
    family: AF_INET,
    type: SOCK_STREAM,
    level: SOL_SOCKET,
    optname: SO_KEEPALIVE,
    value: 'flip',
  },
  {
    name: 'SO_RCVBUF',
    family: AF_INET,
    type: SOCK_STREAM,
    level: SOL_SOCKET,
    optname: SO_RCVBUF,
    value: 12345,
    buffer: true,
  },
  {
    name: 'SO_SNDBUF',
    family: AF_INET,
    type: SOCK_STREAM,
    level: SOL_SOCKET,
    optname: SO_SNDBUF,
    value: 23456,
    buffer: true,
  },
  {
    name: 'TCP_NODELAY',
    family: AF_INET,
    type: SOCK_STREAM,
    level: IPPROTO_TCP,
    optname: TCP_NODELAY,
    value: 'flip',
  },
  {
    name: 'IPV6_V6ONLY',
    family: AF_INET6,
    type: SOCK_STREAM,
    level: IPPROTO_IPV6,
    optname: IPV6_V6ONLY,
    value: 'flip',
    skip: !hasIPv6,
  },
  {
    name: 'SO_BROADCAST',
    family: AF_INET,
    type: SOCK_DGRAM,
    level: SOL_SOCKET,
    optname: SO_BROADCAST,
    value: 'flip',
  },
]

describe('integer options: set, read back, differs from default', () => {
  for (const o of intOptions) {
    it.skipIf(o.skip === true)(o.name, () => {
      const s = track(socket(o.family, o.type))
      const before = s.getsockopt(o.level, o.optname)
      expect(typeof before).toBe('number')
      const value = o.value === 'flip' ? (before ? 0 : 1) : o.value
      s.setsockopt(o.level, o.optname, value)
      const after = s.getsockopt(o.level, o.optname)
      expect(after).not.toBe(before)
      if (o.buffer) {
        expect(after).toBeGreaterThanOrEqual(value)
      } else {
        // Booleans read back as 0 or nonzero (some kernels answer the flag's bit).
        expect(after !== 0).toBe(value !== 0)
      }
    })
  }

  for (const o of intOptions.filter((x) => x.value === 'flip')) {
    it.skipIf(o.skip === true)(`${o.name} accepts booleans`, () => {
      const s = track(socket(o.family, o.type))
      s.setsockopt(o.level, o.optname, true)
      expect(s.getsockopt(o.level, o.optname)).not.toBe(0)
      s.setsockopt(o.level, o.optname, false)
      expect(s.getsockopt(o.level, o.optname)).toBe(0)
    })
  }
})

describe('raw-bytes options', () => {
  /** `struct linger { int l_onoff; int l_linger; }` in this machine's byte order; Windows'
   * has two u_shorts (4 bytes). */
  function linger(onoff: number, seconds: number): Buffer {
    if (process.platform === 'win32') return Buffer.from(new Uint16Array([onoff, seconds]).buffer)
    const b = Buffer.alloc(8)
    if (endianness() === 'LE') {
      b.writeInt32LE(onoff, 0)
      b.writeInt32LE(seconds, 4)
    } else {
      b.writeInt32BE(onoff, 0)
      b.writeInt32BE(seconds, 4)
    }
    return b
  }

  it('SO_LINGER is off by default, reads back what was set', () => {
    const s = track(socket(AF_INET, SOCK_STREAM))
    const before = s.getsockopt(SOL_SOCKET, SO_LINGER, 8)
    expect(Buffer.isBuffer(before)).toBe(true)
    expect(before).toEqual(linger(0, 0))
    s.setsockopt(SOL_SOCKET, SO_LINGER, linger(1, 5))
    const after = s.getsockopt(SOL_SOCKET, SO_LINGER, 8)
    expect(after).toEqual(linger(1, 5))
    expect(after).not.toEqual(before)
  })

  it('SO_LINGER accepts any TypedArray for the struct', () => {
    const s = track(socket(AF_INET, SOCK_STREAM))
    // Int32Array uses native byte order by definition (Windows' struct: u_shorts).
    s.setsockopt(
      SOL_SOCKET,
      SO_LINGER,
      new (process.platform === 'win32' ? Uint16Array : Int32Array)([1, 7]),
    )
    expect(s.getsockopt(SOL_SOCKET, SO_LINGER, 8)).toEqual(linger(1, 7))
  })

  // Windows: Winsock reports its own lengths (wine 8: SO_TYPE keeps the buffer's 64 bytes,
  // SO_KEEPALIVE gives 1 byte).
  it.skipIf(process.platform === 'win32')(
    'a buflen larger than the option gives only the bytes the kernel wrote',
    () => {
      const s = track(socket(AF_INET, SOCK_STREAM))
      const raw = s.getsockopt(SOL_SOCKET, SO_TYPE, 64)
      expect(raw.length).toBe(4)
      expect(endianness() === 'LE' ? raw.readInt32LE(0) : raw.readInt32BE(0)).toBe(SOCK_STREAM)
    },
  )

  // Windows: Winsock refuses a buffer shorter than struct linger (WSAEFAULT).
  it.skipIf(process.platform === 'win32')('a buflen smaller than the option truncates it', () => {
    const s = track(socket(AF_INET, SOCK_STREAM))
    s.setsockopt(SOL_SOCKET, SO_LINGER, linger(1, 9))
    expect(s.getsockopt(SOL_SOCKET, SO_LINGER, 4)).toEqual(linger(1, 9).subarray(0, 4))
  })

  it('an int option can be set from an ArrayBuffer of its C int', () => {
    const s = track(socket(AF_INET, SOCK_STREAM))
    s.setsockopt(SOL_SOCKET, SO_RCVBUF, new Int32Array([12345]).buffer)
    expect(s.getsockopt(SOL_SOCKET, SO_RCVBUF)).toBeGreaterThanOrEqual(12345)
  })

  // Windows: Winsock reports its own lengths (wine 8: SO_TYPE keeps the buffer's 64 bytes,
  // SO_KEEPALIVE gives 1 byte).
  it.skipIf(process.platform === 'win32')(
    'an int option read with a buflen gives its bytes',
    () => {
      const s = track(socket(AF_INET, SOCK_STREAM))
      s.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1)
      const raw = s.getsockopt(SOL_SOCKET, SO_KEEPALIVE, 4)
      expect(raw.length).toBe(4)
      expect(endianness() === 'LE' ? raw.readInt32LE(0) : raw.readInt32BE(0)).not.toBe(0)
    },
  )
})

describe('read-only options', () => {
  it('SO_ERROR reads 0 on a healthy socket', () => {
    const s = track(socket(AF_INET, SOCK_STREAM))
    expect(s.getsockopt(SOL_SOCKET, SO_ERROR)).toBe(0)
  })

  it('SO_TYPE is the socket type', () => {
    const tcp = track(socket(AF_INET, SOCK_STREAM))
    const udp = track(socket(AF_INET, SOCK_DGRAM))
    expect(tcp.getsockopt(SOL_SOCKET, SO_TYPE)).toBe(SOCK_STREAM)
    expect(udp.getsockopt(SOL_SOCKET, SO_TYPE)).toBe(SOCK_DGRAM)
    expect(tcp.type).toBe(SOCK_STREAM)
    expect(udp.type).toBe(SOCK_DGRAM)
  })
})

describe('unknown options', () => {
  it('getsockopt of an unknown name is ENOPROTOOPT', () => {
    const s = track(socket(AF_INET, SOCK_STREAM))
    expectErrno(() => s.getsockopt(SOL_SOCKET, 9999), 'ENOPROTOOPT', 'getsockopt')
    expectErrno(() => s.getsockopt(SOL_SOCKET, 9999, 16), 'ENOPROTOOPT', 'getsockopt')
  })

  it('setsockopt of an unknown name is ENOPROTOOPT', () => {
    const s = track(socket(AF_INET, SOCK_STREAM))
    expectErrno(() => s.setsockopt(SOL_SOCKET, 9999, 1), 'ENOPROTOOPT', 'setsockopt')
    expectErrno(() => s.setsockopt(SOL_SOCKET, 9999, Buffer.alloc(4)), 'ENOPROTOOPT', 'setsockopt')
    // The socket is unharmed.
    expect(s.getsockopt(SOL_SOCKET, SO_TYPE)).toBe(SOCK_STREAM)
  })
})

describe('getsockname / getpeername shapes', () => {
  it('AF_INET: [host, port]', () => {
    const srv = track(socket(AF_INET, SOCK_STREAM))
    srv.bind(['127.0.0.1', 0])
    srv.listen()
    const local = srv.getsockname()
    expect(local).toEqual(['127.0.0.1', expect.any(Number)])
    const port = (local as [string, number])[1]
    expect(port).toBeGreaterThan(0)
    expect(port).toBeLessThanOrEqual(65535)

    const cli = track(socket(AF_INET, SOCK_STREAM))
    cli.settimeout(10)
    cli.connect(['127.0.0.1', port])
    expect(cli.getpeername()).toEqual(['127.0.0.1', port])
    srv.settimeout(10)
    const [conn, addr] = srv.accept()
    track(conn)
    expect(addr).toEqual(cli.getsockname())
    expect(conn.getpeername()).toEqual(cli.getsockname())
    expect(conn.getsockname()).toEqual(['127.0.0.1', port])
  })

  it("bind(['', 0]) is the any-address", () => {
    const s = track(socket(AF_INET, SOCK_STREAM))
    s.bind(['', 0])
    const [host, port] = s.getsockname() as [string, number]
    expect(host).toBe('0.0.0.0')
    expect(port).toBeGreaterThan(0)
  })

  it('an unbound AF_INET socket reports 0.0.0.0:0', () => {
    const s = track(socket(AF_INET, SOCK_STREAM))
    expectUnbound(s, ['0.0.0.0', 0])
  })

  it('getpeername on an unconnected socket is ENOTCONN', () => {
    const s = track(socket(AF_INET, SOCK_STREAM))
    expectErrno(() => s.getpeername(), 'ENOTCONN', 'getpeername')
  })

  it.skipIf(!hasIPv6)('AF_INET6: [host, port, flowinfo, scopeId]', () => {
    const srv = track(socket(AF_INET6, SOCK_STREAM))
    srv.bind(['::1', 0, 0, 0])
    srv.listen()
    const local = srv.getsockname()
    expect(local).toEqual(['::1', expect.any(Number), 0, 0])
    const port = (local as [string, number, number, number])[1]
    expect(port).toBeGreaterThan(0)

    const cli = track(socket(AF_INET6, SOCK_STREAM))
    cli.settimeout(10)
    cli.connect(['::1', port])
    expect(cli.getpeername()).toEqual(['::1', port, 0, 0])
    srv.settimeout(10)
    const [conn, addr] = srv.accept()
    track(conn)
    expect(addr).toHaveLength(4)
    expect(addr).toEqual(cli.getsockname())
  })

  it.skipIf(!hasIPv6)('AF_INET6 accepts [host, port] without flowinfo and scopeId', () => {
    const s = track(socket(AF_INET6, SOCK_DGRAM))
    s.bind(['::1', 0])
    expect(s.getsockname()).toEqual(['::1', expect.any(Number), 0, 0])
  })

  it.skipIf(!hasUnixStream)('AF_UNIX path: the path string', () => {
    const path = tmpUnixPath()
    const srv = track(socket(AF_UNIX, SOCK_STREAM))
    srv.bind(path)
    srv.listen()
    expect(srv.getsockname()).toBe(path)
    const cli = track(socket(AF_UNIX, SOCK_STREAM))
    cli.settimeout(10)
    cli.connect(path)
    expect(cli.getpeername()).toBe(path)
    expect(cli.getsockname()).toBe('')
    srv.settimeout(10)
    const [conn, addr] = srv.accept()
    track(conn)
    // The connecting side never bound: it has no name.
    expect(addr).toBe('')
    expect(conn.getsockname()).toBe(path)
  })

  // Linux abstract namespace: a capability probe, not an OS-name check.
  const hasAbstract = (() => {
    if (!hasUnixStream) return false
    const s = socket(AF_UNIX, SOCK_STREAM)
    try {
      s.bind(`\0bsd-sockets-probe-${process.pid}-${Math.random()}`)
      return true
    } catch {
      return false
    } finally {
      s.close()
    }
  })()

  it.skipIf(!hasAbstract)("AF_UNIX abstract: '\\0name'", () => {
    const name = `\0bsd-sockets-test-${process.pid}-${Math.random().toString(36).slice(2)}`
    const srv = track(socket(AF_UNIX, SOCK_STREAM))
    srv.bind(name)
    srv.listen()
    expect(srv.getsockname()).toBe(name)
    const cli = track(socket(AF_UNIX, SOCK_STREAM))
    cli.settimeout(10)
    cli.connect(name)
    expect(cli.getpeername()).toBe(name)
  })

  it.skipIf(!hasAbstract)('AF_UNIX abstract names may hold more NULs', () => {
    const name = `\0a\0b-${process.pid}-${Math.random().toString(36).slice(2)}`
    const s = track(socket(AF_UNIX, SOCK_DGRAM))
    s.bind(name)
    expect(s.getsockname()).toBe(name)
  })

  it.skipIf(!hasIPv6)('a v4-mapped IPv6 address keeps its IPv6 shape', () => {
    const s = track(socket(AF_INET6, SOCK_STREAM))
    s.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0)
    s.bind(['::ffff:127.0.0.1', 0])
    expect(s.getsockname()).toEqual(['::ffff:127.0.0.1', expect.any(Number), 0, 0])
  })

  it.skipIf(!hasUnixStream)("unnamed socketpair: ''", () => {
    const [a, b] = socketpair(AF_UNIX)
    track(a)
    track(b)
    expect(a.getsockname()).toBe('')
    expect(a.getpeername()).toBe('')
    expect(b.getsockname()).toBe('')
    expect(b.getpeername()).toBe('')
  })

  it.skipIf(!hasUnixDgram)('AF_UNIX datagram: recvfrom reports the bound sender path', () => {
    const dir = dirname(tmpUnixPath())
    const a = track(socket(AF_UNIX, SOCK_DGRAM))
    const b = track(socket(AF_UNIX, SOCK_DGRAM))
    a.bind(join(dir, 'a'))
    b.bind(join(dir, 'b'))
    a.sendto('ping', join(dir, 'b'))
    b.settimeout(10)
    const [data, from] = b.recvfrom(100)
    expect(data.toString()).toBe('ping')
    expect(from).toBe(join(dir, 'a'))
  })
})

describe('SO_REUSEPORT', () => {
  it.skipIf(!hasReusePort)('lets two sockets bind and listen on one port', () => {
    const a = track(socket(AF_INET, SOCK_STREAM))
    a.setsockopt(SOL_SOCKET, SO_REUSEPORT as number, 1)
    a.bind(['127.0.0.1', 0])
    a.listen()
    const port = (a.getsockname() as [string, number])[1]

    const b = track(socket(AF_INET, SOCK_STREAM))
    b.setsockopt(SOL_SOCKET, SO_REUSEPORT as number, 1)
    b.bind(['127.0.0.1', port])
    b.listen()
    expect(b.getsockname()).toEqual(['127.0.0.1', port])

    // A connection lands on one of them.
    const cli = track(socket(AF_INET, SOCK_STREAM))
    cli.settimeout(10)
    cli.connect(['127.0.0.1', port])
    expect(cli.getpeername()).toEqual(['127.0.0.1', port])
  })

  it('without it, a second bind to a listening port is EADDRINUSE', () => {
    const a = track(socket(AF_INET, SOCK_STREAM))
    a.bind(['127.0.0.1', 0])
    a.listen()
    const port = (a.getsockname() as [string, number])[1]
    const b = track(socket(AF_INET, SOCK_STREAM))
    const err = expectErrno(() => b.bind(['127.0.0.1', port]), 'EADDRINUSE', 'bind')
    expect(err.address).toBe('127.0.0.1')
    expect(err.port).toBe(port)
  })
})
