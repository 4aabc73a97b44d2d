// getaddrinfo, createConnection, createServer: loopback names and addresses only.
import { existsSync, readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  AI_CANONNAME,
  AI_NUMERICHOST,
  AI_PASSIVE,
  ConnectionRefusedError,
  createConnection,
  createServer,
  errno,
  GaiError,
  getaddrinfo,
  getnameinfo,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV6_V6ONLY,
  NI_DGRAM,
  NI_NAMEREQD,
  NI_NUMERICHOST,
  NI_NUMERICSERV,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  type Socket,
  setdefaulttimeout,
  socket,
} from '../ts/index.js'
import { closeTracked, errname, hasIPv6, hasPython, python, track } from './helpers.js'

afterEach(closeTracked)

/** Whether /etc/services names the http service (a capability for service-name lookups). */
const hasHttpService =
  existsSync('/etc/services') && /^http\s+80\/tcp/m.test(readFileSync('/etc/services', 'utf8'))

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

/** A tracked 127.0.0.1 listener on an ephemeral port. */
function listen(): [Socket, number] {
  const s = track(socket(AF_INET, SOCK_STREAM))
  s.bind(['127.0.0.1', 0])
  s.listen()
  s.settimeout(10)
  return [s, (s.getsockname() as [string, number])[1]]
}

/** The port a socket is bound to. */
const portOf = (s: Socket): number => (s.getsockname() as [string, number])[1]

/**
 * The protocol getaddrinfo gives for SOCK_STREAM: IPPROTO_TCP; Winsock's (wine 8's at least)
 * leaves it 0 when only the type is asked for, so on Windows `got` may be either.
 */
function tcpProto(got: unknown): number {
  if (process.platform === 'win32') {
    expect([0, IPPROTO_TCP]).toContain(got)
    return got as number
  }
  return IPPROTO_TCP
}

describe('getaddrinfo', () => {
  it('a numeric IPv4 host: [family, type, proto, canonname, address]', () => {
    const res = getaddrinfo('127.0.0.1', 80, AF_INET, SOCK_STREAM)
    const proto = tcpProto(res[0]?.[2])
    expect(res).toEqual([[AF_INET, SOCK_STREAM, proto, '', ['127.0.0.1', 80]]])
  })

  // Windows: Winsock's getaddrinfo gives one entry of type 0 when no type is asked for.
  it.skipIf(process.platform === 'win32')('every socket type when none is asked for', () => {
    const res = getaddrinfo('127.0.0.1', 53, AF_INET)
    const types = res.map((r) => r[1])
    expect(types).toContain(SOCK_STREAM)
    expect(types).toContain(SOCK_DGRAM)
    const udp = res.find((r) => r[1] === SOCK_DGRAM)
    expect(udp?.[2]).toBe(IPPROTO_UDP)
    for (const r of res) expect(r[4]).toEqual(['127.0.0.1', 53])
  })

  it.skipIf(!hasIPv6)('a numeric IPv6 host: [host, port, flowinfo, scopeId]', () => {
    const res = getaddrinfo('::1', 8080, AF_INET6, SOCK_STREAM)
    const proto = tcpProto(res[0]?.[2])
    expect(res).toEqual([[AF_INET6, SOCK_STREAM, proto, '', ['::1', 8080, 0, 0]]])
  })

  it('a port given as a numeric string', () => {
    const [first] = getaddrinfo('127.0.0.1', '8080', AF_INET, SOCK_STREAM)
    expect(first?.[4]).toEqual(['127.0.0.1', 8080])
  })

  it('a null port gives port 0', () => {
    const [first] = getaddrinfo('127.0.0.1', null, AF_INET, SOCK_STREAM)
    expect(first?.[4]).toEqual(['127.0.0.1', 0])
  })

  it.skipIf(!hasHttpService)("a service name: 'http' is port 80", () => {
    const res = getaddrinfo('localhost', 'http', AF_UNSPEC, SOCK_STREAM)
    expect(res.length).toBeGreaterThan(0)
    for (const [family, type, , , address] of res) {
      expect([AF_INET, AF_INET6]).toContain(family)
      expect(type).toBe(SOCK_STREAM)
      expect((address as [string, number])[1]).toBe(80)
    }
  })

  it('localhost resolves to a loopback address', () => {
    const res = getaddrinfo('localhost', 80, 0, SOCK_STREAM)
    expect(res.length).toBeGreaterThan(0)
    for (const [family, , , , address] of res) {
      const host = (address as [string, number])[0]
      if (family === AF_INET) expect(host).toMatch(/^127\./)
      else expect(host).toBe('::1')
    }
  })

  it('AI_CANONNAME gives a canonical name string on the first result', () => {
    const res = getaddrinfo('localhost', 80, AF_INET, SOCK_STREAM, 0, AI_CANONNAME)
    const canon = res[0]?.[3]
    expect(typeof canon).toBe('string')
    expect((canon as string).length).toBeGreaterThan(0)
  })

  it('without AI_CANONNAME the canonname is empty', () => {
    const res = getaddrinfo('localhost', 80, AF_INET, SOCK_STREAM)
    for (const r of res) expect(r[3]).toBe('')
  })

  it('AI_PASSIVE with no host gives the any-address', () => {
    const res = getaddrinfo(null, 80, 0, SOCK_STREAM, 0, AI_PASSIVE)
    expect(res.length).toBeGreaterThan(0)
    for (const [family, , , , address] of res) {
      expect(address).toEqual(family === AF_INET ? ['0.0.0.0', 80] : ['::', 80, 0, 0])
    }
    const v4 = getaddrinfo(null, 80, AF_INET, SOCK_STREAM, 0, AI_PASSIVE)
    const proto = tcpProto(v4[0]?.[2])
    expect(v4).toEqual([[AF_INET, SOCK_STREAM, proto, '', ['0.0.0.0', 80]]])
  })

  it('no host without AI_PASSIVE gives loopback', () => {
    const v4 = getaddrinfo(null, 80, AF_INET, SOCK_STREAM)
    expect(v4[0]?.[4]).toEqual(['127.0.0.1', 80])
  })

  it('AI_NUMERICHOST refuses a name: GaiError EAI_NONAME', () => {
    let caught: unknown
    try {
      getaddrinfo('localhost', 80, AF_INET, SOCK_STREAM, 0, AI_NUMERICHOST)
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(GaiError)
    expect((caught as GaiError).code).toBe('EAI_NONAME')
    expect((caught as GaiError).syscall).toBe('getaddrinfo')
  })

  it('a lone surrogate in host or port is a TypeError naming it, not a lookup of U+FFFD', () => {
    // Python: UnicodeError / UnicodeEncodeError, before any lookup.
    expect(() => getaddrinfo('\uD800', 80)).toThrow(
      /^The "host" argument must be well-formed Unicode: it holds a lone surrogate \(U\+D800 at index 0\)/,
    )
    expect(() => getaddrinfo('127.0.0.1', 'ht\uDFFFtp')).toThrow(
      /^The "port" argument must be well-formed Unicode: .*U\+DFFF at index 2/,
    )
    expect(() => getaddrinfo(null, '\uDBFF', 0, 0, 0, AI_PASSIVE)).toThrow(TypeError)
    expect(() => getaddrinfo(42 as never, 80)).toThrow(/Received type number \(42\)/)
    expect(() => getaddrinfo('localhost', {} as never)).toThrow(/Received an instance of Object/)
  })

  it('an unknown service name: GaiError EAI_SERVICE', () => {
    let caught: unknown
    try {
      getaddrinfo('127.0.0.1', 'no-such-service-bsd-sockets', AF_INET, SOCK_STREAM)
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(GaiError)
    expect((caught as GaiError).code).toBe('EAI_SERVICE')
  })
})

/** Whether 127.0.0.1 has a name in /etc/hosts, so a reverse lookup of it needs no DNS. */
const loopbackNamed =
  existsSync('/etc/hosts') && /^127\.0\.0\.1\s+\S/m.test(readFileSync('/etc/hosts', 'utf8'))

describe('getnameinfo', () => {
  const NUMERIC = NI_NUMERICHOST | NI_NUMERICSERV
  /** [sockaddr, flags] cases that need no DNS: numeric answers, or 127.0.0.1 from /etc/hosts. */
  const cases: [[string, number] | [string, number, number, number], number][] = [
    [['127.0.0.1', 80], NUMERIC],
    [['192.0.2.1', 65535], NUMERIC | NI_DGRAM],
    [['::1', 443, 0, 0], NUMERIC],
    [['fe80::1', 1, 0, 1], NUMERIC],
    [['::ffff:192.0.2.1', 0, 0, 0], NUMERIC],
    ...((loopbackNamed ? [[['127.0.0.1', 80], NI_NUMERICSERV]] : []) as [
      [string, number],
      number,
    ][]),
    ...((loopbackNamed && hasHttpService ? [[['127.0.0.1', 80], NI_NAMEREQD]] : []) as [
      [string, number],
      number,
    ][]),
  ]

  it.skipIf(!hasPython)('gives what Python gives for the same addresses and flags', async () => {
    const res = await python(
      `
import json, socket
print(json.dumps([list(socket.getnameinfo(tuple(a), f)) for a, f in json.loads(input())]))
`,
      [],
      { input: JSON.stringify(cases) },
    )
    expect(res.stderr).toBe('')
    expect(cases.map(([a, f]) => getnameinfo(a, f))).toEqual(JSON.parse(res.stdout))
    expect(getnameinfo(['127.0.0.1', 8080], NUMERIC)).toEqual(['127.0.0.1', '8080'])
  })

  it('GaiError for a name (nothing is looked up) and for unknown flags', () => {
    for (const [call, code] of [
      [() => getnameinfo(['localhost', 80], NUMERIC), 'EAI_NONAME'],
      [() => getnameinfo(['127.0.0.1', 80], 1 << 24), 'EAI_BADFLAGS'],
    ] as const) {
      // Windows: Winsock's getnameinfo ignores unknown flags.
      if (process.platform === 'win32' && code === 'EAI_BADFLAGS') continue
      try {
        call()
        expect.unreachable()
      } catch (e) {
        expect(e).toBeInstanceOf(GaiError)
        expect((e as GaiError).code).toBe(code)
        expect((e as GaiError).syscall).toBe('getnameinfo')
      }
    }
  })

  it('a name or malformed host is EAI_NONAME whatever the length of sockaddr, as in Python', () => {
    for (const sockaddr of [
      ['x', 0, 0, 0],
      ['x', 0, 0],
      ['', 80, 0, 0],
      ['1.2.3.4.5', 0, 0],
    ] as const) {
      try {
        getnameinfo(sockaddr as never, 0)
        expect.unreachable()
      } catch (e) {
        expect(e).toBeInstanceOf(GaiError)
        expect((e as GaiError).code).toBe('EAI_NONAME')
        expect((e as GaiError).syscall).toBe('getnameinfo')
      }
    }
  })

  it.skipIf(!hasPython)(
    "malformed sockaddrs get Python's error class (gaierror with its code, TypeError, RangeError)",
    async () => {
      const bad: unknown[][] = [
        ['x', 0, 0, 0],
        ['x', 0, 0],
        ['x', 0],
        ['', 0, 0, 0],
        ['<broadcast>', 80, 0, 0],
        ['localhost', 80, 0, 0],
        ['1.2.3.4.5', 0, 0],
        ['127.0.0.1 ', 0, 0, 0],
        ['a:b', 0, 0, 0],
        ['127.0.0.1', 0, 0, 0],
        ['127.0.0.1', 0, 0],
        ['::1', 0, 0, 0, 0],
        ['127.0.0.1'],
        ['::1', 0, 2 ** 20],
        ['x', 0, 2 ** 20],
        ['\uD800', 0],
        ['::1\uDC00', 0, 0, 0],
        [7, 0],
        ['x\0', 0],
      ]
      // Python's classes as ours: its plain OSError ('IPv4 sockaddr must be 2 tuple') and
      // UnicodeEncodeError / ValueError are argument errors here, its OverflowError a RangeError.
      const ours: Record<string, string> = {
        TypeError: 'TypeError',
        OSError: 'TypeError',
        UnicodeEncodeError: 'TypeError',
        ValueError: 'TypeError',
        OverflowError: 'RangeError',
      }
      const res = await python(
        `
import json, socket
out = []
for a in json.loads(input()):
    try:
        socket.getnameinfo(tuple(a), 0)
        out.append(['ok'])
    except socket.gaierror as e:
        out.append(['GaiError', e.errno])
    except Exception as e:
        out.append([type(e).__name__])
print(json.dumps(out))
`,
        [],
        { input: JSON.stringify(bad) },
      )
      expect(res.stderr).toBe('')
      const expected = (JSON.parse(res.stdout) as [string, number?][]).map(([kind, errno]) =>
        kind === 'GaiError' ? [kind, errno] : [ours[kind] ?? kind],
      )
      const got = bad.map((sockaddr) => {
        try {
          getnameinfo(sockaddr as never, 0)
          return ['ok']
        } catch (e) {
          if (e instanceof GaiError) return ['GaiError', e.errno]
          // Never a native conversion message ("Failed to convert napi value ...").
          expect((e as Error).message).not.toMatch(/napi|rust/i)
          return [(e as Error).constructor.name]
        }
      })
      expect(got).toEqual(expected)
    },
  )

  it('bad input is a TypeError / RangeError', () => {
    expect(() => getnameinfo('127.0.0.1' as never, 0)).toThrow(TypeError)
    expect(() => getnameinfo(['127.0.0.1', 80, 0, 0] as never, 0)).toThrow(TypeError)
    expect(() => getnameinfo(['127.0.0.1', 70000], 0)).toThrow(RangeError)
    expect(() => getnameinfo(['::1', 80, -1, 0], 0)).toThrow(RangeError)
    expect(() => getnameinfo(['127.0.0.1', 80], 1.5)).toThrow(RangeError)
    expect(() => getnameinfo([7 as never, 80], 0)).toThrow(TypeError)
    expect(() => getnameinfo(['127.0.0.1', 80, 0, 0] as never, 0)).toThrow(
      /Received an array of 4 items/,
    )
  })
})

describe('createConnection', () => {
  it('connects to a listener by address', () => {
    const [srv, port] = listen()
    const cli = track(createConnection(['127.0.0.1', port], 10))
    expect(cli.family).toBe(AF_INET)
    expect(cli.type).toBe(SOCK_STREAM)
    expect(cli.getpeername()).toEqual(['127.0.0.1', port])
    expect(cli.gettimeout()).toBe(10)
    const [conn, addr] = srv.accept()
    track(conn)
    expect(addr).toEqual(cli.getsockname())
    cli.sendall('hi')
    conn.settimeout(10)
    expect(conn.recv(10).toString()).toBe('hi')
  })

  it('without a timeout the socket is left blocking', () => {
    const [srv, port] = listen()
    const cli = track(createConnection(['127.0.0.1', port]))
    expect(cli.gettimeout()).toBe(null)
    track(srv.accept()[0])
  })

  it('a closed port throws ConnectionRefusedError', () => {
    // Bound but not listening: nothing can take the port, and connecting is refused.
    const holder = track(socket(AF_INET, SOCK_STREAM))
    holder.bind(['127.0.0.1', 0])
    const port = portOf(holder)
    let caught: unknown
    try {
      track(createConnection(['127.0.0.1', port], 10))
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(ConnectionRefusedError)
    const err = caught as ConnectionRefusedError
    expect(err.code).toBe(errname('ECONNREFUSED'))
    expect(err.errno).toBe(errno.ECONNREFUSED)
    expect(err.syscall).toBe('connect')
    expect(err.address).toBe('127.0.0.1')
    expect(err.port).toBe(port)
  })

  it("resolves 'localhost', trying each address until one connects", () => {
    const [srv, port] = listen()
    // localhost may resolve to ::1 first, where nothing listens: that one is refused.
    const cli = track(createConnection(['localhost', port], 10))
    expect(cli.getpeername()).toEqual(['127.0.0.1', port])
    track(srv.accept()[0])
  })

  it('binds sourceAddress first', () => {
    const [srv, port] = listen()
    const cli = track(createConnection(['127.0.0.1', port], 10, ['127.0.0.1', 0]))
    const [host, local] = cli.getsockname() as [string, number]
    expect(host).toBe('127.0.0.1')
    expect(local).toBeGreaterThan(0)
    track(srv.accept()[0])
  })
})

describe('createServer', () => {
  it('listens with SO_REUSEADDR set (on Windows unset, where it would allow port stealing)', () => {
    const srv = track(createServer(['127.0.0.1', 0]))
    if (process.platform === 'win32') expect(srv.getsockopt(SOL_SOCKET, SO_REUSEADDR)).toBe(0)
    else expect(srv.getsockopt(SOL_SOCKET, SO_REUSEADDR)).not.toBe(0)
    const port = portOf(srv)
    expect(port).toBeGreaterThan(0)
    const cli = track(socket(AF_INET, SOCK_STREAM))
    cli.settimeout(10)
    cli.connect(['127.0.0.1', port])
    srv.settimeout(10)
    const [conn, addr] = srv.accept()
    track(conn)
    expect(addr).toEqual(cli.getsockname())
  })

  it.skipIf(!hasReusePort)('reusePort lets two servers share a port', () => {
    const a = track(createServer(['127.0.0.1', 0], { reusePort: true }))
    expect(a.getsockopt(SOL_SOCKET, SO_REUSEPORT as number)).not.toBe(0)
    const port = portOf(a)
    const b = track(createServer(['127.0.0.1', port], { reusePort: true }))
    expect(b.getsockname()).toEqual(['127.0.0.1', port])
  })

  it('without reusePort a second server on the port is EADDRINUSE', () => {
    const a = track(createServer(['127.0.0.1', 0]))
    const port = portOf(a)
    let caught: unknown
    try {
      track(createServer(['127.0.0.1', port]))
    } catch (e) {
      caught = e
    }
    expect((caught as { code?: string }).code).toBe(errname('EADDRINUSE'))
  })

  it.skipIf(!hasIPv6)('AF_INET6 on ::1 is IPv6-only', () => {
    const srv = track(createServer(['::1', 0], { family: AF_INET6 }))
    expect(srv.family).toBe(AF_INET6)
    expect(srv.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY)).not.toBe(0)
    const port = portOf(srv)
    expect(srv.getsockname()).toEqual(['::1', port, 0, 0])
    const cli = track(socket(AF_INET6, SOCK_STREAM))
    cli.settimeout(10)
    cli.connect(['::1', port])
    srv.settimeout(10)
    const [conn, addr] = srv.accept()
    track(conn)
    expect(addr).toEqual(cli.getsockname())
  })

  it.skipIf(!hasIPv6)('dualstackIpv6 also accepts IPv4 clients', () => {
    const srv = track(createServer(['::', 0], { family: AF_INET6, dualstackIpv6: true }))
    expect(srv.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY)).toBe(0)
    const port = portOf(srv)
    srv.settimeout(10)

    const v4 = track(socket(AF_INET, SOCK_STREAM))
    v4.settimeout(10)
    v4.connect(['127.0.0.1', port])
    const [c4, a4] = srv.accept()
    track(c4)
    expect(a4).toEqual(['::ffff:127.0.0.1', portOf(v4), 0, 0])

    const v6 = track(socket(AF_INET6, SOCK_STREAM))
    v6.settimeout(10)
    v6.connect(['::1', port])
    const [c6, a6] = srv.accept()
    track(c6)
    expect(a6).toEqual(['::1', portOf(v6), 0, 0])
  })

  it('dualstackIpv6 without AF_INET6 is a TypeError', () => {
    expect(() => createServer(['127.0.0.1', 0], { dualstackIpv6: true })).toThrow(TypeError)
  })

  it('a backlog is passed to listen', () => {
    const srv = track(createServer(['127.0.0.1', 0], { backlog: 1 }))
    const cli = track(socket(AF_INET, SOCK_STREAM))
    cli.settimeout(10)
    cli.connect(['127.0.0.1', portOf(srv)])
    srv.settimeout(10)
    track(srv.accept()[0])
  })
})

describe('createConnection timeout: not given vs null', () => {
  it.skipIf(!hasPython)(
    'not given keeps setdefaulttimeout; null is blocking, as Python',
    async () => {
      const [srv, port] = listen()
      setdefaulttimeout(3)
      try {
        const byDefault = track(createConnection(['127.0.0.1', port]))
        const blocking = track(createConnection(['127.0.0.1', port], null))
        expect([byDefault.gettimeout(), blocking.gettimeout()]).toEqual([3, null])
        track(srv.accept()[0], srv.accept()[0])
      } finally {
        setdefaulttimeout(null)
      }
      const py = await python(`
import socket
socket.setdefaulttimeout(3)
srv = socket.create_server(('127.0.0.1', 0))
addr = srv.getsockname()
print([socket.create_connection(addr).gettimeout(), socket.create_connection(addr, None).gettimeout()])
`)
      expect(py.stdout.trim()).toBe('[3.0, None]')
    },
  )
})
