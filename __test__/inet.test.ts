// inetPton / inetNtop / inetAton / inetNtoa against Python's socket module on the same
// inputs, their refusals, and a packed ip_mreq joining a multicast group on loopback.
import { describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  errno,
  IP_ADD_MEMBERSHIP,
  IPPROTO_IP,
  inetAton,
  inetNtoa,
  inetNtop,
  inetPton,
  SOCK_DGRAM,
  SocketError,
  socket,
} from '../ts/index.js'
import { errname, hasPython, python } from './helpers.js'

const V4 = ['0.0.0.0', '127.0.0.1', '192.0.2.255', '255.255.255.255', '1.2.3', '01.2.3.4', '']
const V6 = [
  '::',
  '::1',
  '2001:db8::1',
  '2001:DB8:0:0:1:0:0:1',
  '1:0:0:1:0:0:0:1',
  'fe80::1:2:3:4',
  '::ffff:192.0.2.1',
  '::192.0.2.1',
  '64:ff9b::1.2.3.4',
  '::0.0.1.2',
  '1::2::3',
  'fe80::1%1',
  '12345::',
]
const ATON = [
  '127.1',
  '0x7f.1',
  '0177.0.0.1',
  '2130706433',
  '10.0x10.3',
  '1.2.3.4',
  '0x',
  '09',
  '256.1.1.1',
  '1.2.3.4.5',
  '4294967296',
  '',
]

/** What Python says for each input: the hex of the packed form / the text, or null when refused. */
async function pythonSays(): Promise<Record<string, (string | null)[]>> {
  const res = await python(
    `
import json, socket
def tryit(f):
    try:
        return f()
    except (OSError, ValueError):
        return None
v4, v6, aton = json.loads(input())
print(json.dumps({
    'pton4': [tryit(lambda: socket.inet_pton(socket.AF_INET, s).hex()) for s in v4],
    'pton6': [tryit(lambda: socket.inet_pton(socket.AF_INET6, s).hex()) for s in v6],
    'ntop6': [tryit(lambda: socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, s))) for s in v6],
    'aton': [tryit(lambda: socket.inet_aton(s).hex()) for s in aton],
}))
`,
    [],
    { input: JSON.stringify([V4, V6, ATON]) },
  )
  expect(res.stderr).toBe('')
  return JSON.parse(res.stdout)
}

const ours = (f: () => Buffer | string): string | null => {
  try {
    const r = f()
    return typeof r === 'string' ? r : r.toString('hex')
  } catch (e) {
    expect(e).toBeInstanceOf(TypeError)
    return null
  }
}

describe('inet conversions', () => {
  it.skipIf(!hasPython)(
    'accept and refuse what Python does, and write IPv6 the way it does',
    async () => {
      const py = await pythonSays()
      expect(V4.map((s) => ours(() => inetPton(AF_INET, s)))).toEqual(py.pton4)
      expect(V6.map((s) => ours(() => inetPton(AF_INET6, s)))).toEqual(py.pton6)
      expect(V6.map((s) => ours(() => inetNtop(AF_INET6, inetPton(AF_INET6, s))))).toEqual(py.ntop6)
      expect(ATON.map((s) => ours(() => inetAton(s)))).toEqual(py.aton)
    },
  )

  it('round trips, and inetNtoa / inetNtop take any view', () => {
    expect(inetNtop(AF_INET, inetPton(AF_INET, '192.0.2.1'))).toBe('192.0.2.1')
    expect(inetNtoa(inetAton('10.1'))).toBe('10.0.0.1')
    expect(inetNtoa(Uint8Array.of(127, 0, 0, 1))).toBe('127.0.0.1')
    expect(inetNtoa(Uint8Array.of(127, 0, 0, 1).buffer)).toBe('127.0.0.1')
    expect(inetNtop(AF_INET6, new Uint16Array(8))).toBe('::')
  })

  it('bad input: TypeError / RangeError, EAFNOSUPPORT for another family', () => {
    expect(() => inetPton(AF_INET, 7 as never)).toThrow(TypeError)
    expect(() => inetPton(AF_INET6, '1.2.3.4')).toThrow(/IPv6 address/)
    expect(() => inetPton(AF_INET, 'a\0b')).toThrow(TypeError)
    expect(() => inetNtop(AF_INET, Buffer.alloc(5))).toThrow(RangeError)
    expect(() => inetNtop(AF_INET6, Buffer.alloc(4))).toThrow(RangeError)
    expect(() => inetNtop(AF_INET, 'abcd' as never)).toThrow(TypeError)
    expect(() => inetNtoa(Buffer.alloc(3))).toThrow(RangeError)
    expect(() => inetAton(null as never)).toThrow(TypeError)
    expect(() => inetPton(1.5, '::')).toThrow(RangeError)
    for (const f of [() => inetPton(AF_UNIX, '::'), () => inetNtop(AF_UNIX, Buffer.alloc(4))]) {
      try {
        f()
        expect.unreachable()
      } catch (e) {
        expect(e).toBeInstanceOf(SocketError)
        expect((e as SocketError).errno).toBe(errno.EAFNOSUPPORT)
      }
    }
  })

  it('a lone surrogate is a TypeError saying so (Python: UnicodeEncodeError), not U+FFFD parsed', () => {
    for (const call of [
      () => inetPton(AF_INET, '\uD800'),
      () => inetPton(AF_INET6, '::1\uDC00'),
      () => inetAton('127.0.0.1\uDBFF'),
    ]) {
      expect(call).toThrow(/^The "ipString" argument must be well-formed Unicode: .*lone surrogate/)
    }
    // A pair is well-formed: refused as what it is, an invalid address.
    expect(() => inetPton(AF_INET, '\u{1F600}')).toThrow(/must be an IPv4 address/)
    expect(() => inetPton(AF_INET, 7 as never)).toThrow(/Received type number \(7\)/)
    expect(() => inetAton(null as never)).toThrow(/Received null/)
  })

  it('a packed ip_mreq joins a multicast group on loopback', () => {
    const s = socket(AF_INET, SOCK_DGRAM)
    try {
      const mreq = Buffer.concat([inetAton('239.1.2.3'), inetAton('127.0.0.1')])
      s.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq)
      // Joining twice is EADDRINUSE: the first join took.
      expect(() => s.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq)).toThrow(
        expect.objectContaining({ code: errname('EADDRINUSE') }),
      )
    } finally {
      s.close()
    }
  })
})
