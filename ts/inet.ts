// Python's inet_pton / inet_ntop / inet_aton / inet_ntoa: an IP address between its text and
// its packed form (network byte order), as option values such as ip_mreq need it.
import { native } from './binding.js'
import { AF_INET, AF_INET6, errno } from './constants.js'
import { errnoError } from './errors.js'
import type { BufferLike } from './validate.js'
import * as v from './validate.js'

const FAMILIES: Record<number, [name: string, bytes: number]> = {
  [AF_INET]: ['an IPv4 address (AF_INET)', 4],
  [AF_INET6]: ['an IPv6 address (AF_INET6)', 16],
}

function family(value: unknown, syscall: string): [string, number] {
  const f = FAMILIES[v.cint(value, 'family')]
  if (!f) throw errnoError(errno.EAFNOSUPPORT as number, syscall)
  return f
}

function text(value: unknown): string {
  if (typeof value !== 'string') {
    throw new TypeError(`The "ipString" argument must be a string. Received ${v.typeName(value)}`)
  }
  // A lone surrogate would reach inet_pton as U+FFFD (Python: UnicodeEncodeError).
  return v.utf8(value, 'The "ipString" argument')
}

function invalid(what: string, value: string): TypeError {
  return new TypeError(`The "ipString" argument must be ${what}. Received ${JSON.stringify(value)}`)
}

/**
 * The packed form of `ipString`: 4 bytes for `AF_INET` (dotted quad only), 16 for `AF_INET6`.
 * Python's `socket.inet_pton`; inet_pton(3).
 * @throws {TypeError} when `ipString` is not such an address; {@link SocketError} `EAFNOSUPPORT`
 * for another family.
 */
export function inetPton(addressFamily: number, ipString: string): Buffer {
  const [what] = family(addressFamily, 'inet_pton')
  const s = text(ipString)
  const packed = native.inetPton(addressFamily, s)
  if (packed === null) throw invalid(what, s)
  return packed
}

/**
 * The text of a packed address (4 bytes for `AF_INET`, 16 for `AF_INET6`); IPv6 as RFC 5952
 * writes it (`2001:db8::1`). Python's `socket.inet_ntop`; inet_ntop(3).
 * @throws {RangeError} for a wrong length; {@link SocketError} `EAFNOSUPPORT` for another family.
 */
export function inetNtop(addressFamily: number, packedIp: BufferLike): string {
  const [, bytes] = family(addressFamily, 'inet_ntop')
  const packed = v.writable(packedIp, 'packedIp')
  const out = packed.length === bytes ? native.inetNtop(addressFamily, packed) : null
  if (out === null) {
    throw new RangeError(
      `The "packedIp" argument must be ${bytes} bytes long for this family. Received ${packed.length}`,
    )
  }
  return out
}

/** One part of an inet_aton address: decimal, octal (leading 0) or hex (0x). */
const PART = /^(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/

/**
 * The 4 packed bytes of an IPv4 address in any form inet_aton(3) accepts: `a.b.c.d`, `a.b.c`
 * (c fills 16 bits), `a.b` (b fills 24), `a` (32 bits); each part decimal, octal (`0177`) or
 * hex (`0x7f`). Python's `socket.inet_aton`, for `ip_mreq` and the like; parsed here, as
 * inet_aton(3) would.
 * @throws {TypeError} when `ipString` is not such an address.
 */
export function inetAton(ipString: string): Buffer {
  const s = text(ipString)
  const parts = s.split('.')
  if (parts.length > 4 || !parts.every((p) => PART.test(p))) {
    throw invalid('an IPv4 address in a form inet_aton accepts', s)
  }
  const values = parts.map((p) => (p.length > 1 && p[0] === '0' ? parseOctalOrHex(p) : Number(p)))
  const last = values.pop() as number
  // Each leading part is one byte; the last fills the bytes that remain.
  if (values.some((x) => x > 255) || last >= 2 ** (8 * (4 - values.length))) {
    throw invalid('an IPv4 address in a form inet_aton accepts', s)
  }
  const out = Buffer.alloc(4)
  values.forEach((x, i) => {
    out[i] = x
  })
  const tail = 4 - values.length
  for (let i = 0; i < tail; i++) out[3 - i] = Math.floor(last / 2 ** (8 * i)) % 256
  return out
}

function parseOctalOrHex(p: string): number {
  if (p[1] === 'x' || p[1] === 'X') return Number.parseInt(p.slice(2), 16)
  return Number.parseInt(p.slice(1), 8)
}

/**
 * The dotted quad of 4 packed bytes. Python's `socket.inet_ntoa` (formatted here, no libc call).
 * @throws {RangeError} when `packedIp` is not 4 bytes long.
 */
export function inetNtoa(packedIp: BufferLike): string {
  const b = v.writable(packedIp, 'packedIp')
  if (b.length !== 4) {
    throw new RangeError(`The "packedIp" argument must be 4 bytes long. Received ${b.length}`)
  }
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`
}
