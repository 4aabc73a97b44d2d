// Bad input, tried systematically (fast-check): every public call either works (the input
// happened to be valid) or throws / rejects with a TypeError or RangeError naming the argument,
// or a SocketError with a string code. Never another error, a crash or a hang; the sockets
// still work afterwards; no fd leaks; no unbounded allocation.
//
// Nothing here can block: the sockets are non-blocking, valid timeouts are 0, async calls are
// ended by closing their socket, and hosts are numeric (no DNS), ports a known-closed one.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  createConnection,
  createServer,
  fromfd,
  getaddrinfo,
  IPPROTO_TCP,
  POLLIN,
  POLLOUT,
  Poller,
  recvFds,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_RCVBUF,
  SO_RCVTIMEO,
  SO_REUSEADDR,
  SO_SNDBUF,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  type Socket,
  SocketError,
  select,
  sendFds,
  socket,
  socketpair,
  TCP_NODELAY,
} from '../ts/index.js'
import { canCountFds, errname, hasIPv6, hasUnixStream, openFdCount } from './helpers.js'

// Bad input is the point of this file.
// biome-ignore lint/suspicious/noExplicitAny: calling the API with values its types forbid
type Any = any

const RUNS = 500
/** Bad inputs tried, over the whole file. */
let tried = 0

/** The outcome rule: a SocketError with a string code, or a TypeError/RangeError naming one of `names`. */
function allowed(e: unknown, names: string[]): void {
  if (e instanceof SocketError) {
    expect(typeof e.code).toBe('string')
    return
  }
  if (e instanceof TypeError || e instanceof RangeError) {
    if (names.some((n) => e.message.includes(n))) return
    throw new Error(`${e.name} does not name any of ${names.join(', ')}: ${e.message}`)
  }
  throw e
}

/** Runs one generated call; returns its result, or undefined when it threw an allowed error. */
function attempt<T>(names: string[], f: () => T): T | undefined {
  tried++
  try {
    return f()
  } catch (e) {
    allowed(e, names)
    return undefined
  }
}

/** An async method must return a promise (never throw); it is ended by `end()` a turn later. */
async function attemptAsync(names: string[], f: () => unknown, end: () => void): Promise<void> {
  tried++
  const p = f()
  expect(p).toBeInstanceOf(Promise)
  const outcome = (p as Promise<unknown>).then(
    () => undefined,
    (e: unknown) => ({ e }),
  )
  await new Promise((r) => setImmediate(r))
  end()
  const r = await outcome
  if (r) allowed(r.e, names)
}

const closeAll = (...s: (Socket | undefined)[]) => {
  for (const x of s) x?.close()
}

/** `make(ab)` over a 16-byte ArrayBuffer that is then detached (transferred away). */
function detached<T>(make: (ab: ArrayBuffer) => T): T {
  const ab = new ArrayBuffer(16)
  const view = make(ab)
  structuredClone(ab, { transfer: [ab] })
  // fast-check's report would otherwise read the detached view and throw.
  Object.defineProperty(view, fc.toStringMethod, {
    value: () => `detached ${Object.prototype.toString.call(view)}`,
  })
  return view
}

// --- Arbitraries -------------------------------------------------------------------------

const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v)
const specialNumbers = fc.constantFrom(
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -1,
  -0.5,
  0.5,
  -0,
  2 ** 31,
  2 ** 32,
  2 ** 40,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 31) - 1,
  -(2 ** 53),
  Number.MAX_VALUE,
  Number.MIN_VALUE,
)
const buffers = fc.oneof(
  fc.constant(0).map(() => detached((ab) => new Uint8Array(ab))),
  fc.constant(0).map(() => detached((ab) => ab)),
  fc.constant(0).map(() => detached((ab) => new DataView(ab))),
  fc.constant(0).map(() => detached((ab) => new Uint16Array(ab, 2, 3))),
  fc.constant(0).map(() => detached((ab) => Buffer.from(ab, 4))),
  fc.constant(0).map(() => Buffer.alloc(0)),
  fc.constant(0).map(() => new ArrayBuffer(0)),
  fc.constant(0).map(() => new DataView(new ArrayBuffer(0))),
  fc.constant(0).map(() => new SharedArrayBuffer(8)),
  fc.uint8Array({ maxLength: 64 }),
  fc.float64Array({ maxLength: 8 }),
  fc.string({ maxLength: 32 }),
)
/** Anything at all, weighted towards the values that break number and buffer checks. */
const junk = fc.oneof(
  fc.anything({ withNullPrototype: true, withBigInt: true, withTypedArray: true }),
  specialNumbers,
  fc.double(),
  fc.integer(),
  buffers,
  fc.constant(Symbol('s')),
  fc.func(fc.anything()),
  fc.constant(0).map(() => ({ fileno: () => -5 })),
)
/** A C int argument: small valid-ish integers or junk. */
const cintArg = fc.oneof(fc.integer({ min: -2, max: 40 }), junk)
/** An fd value that is not a valid open fd we own (never a real fd number of this process). */
const badFd = fc.oneof(
  junk.filter((v) => !isInt(v) || (v as number) < 0 || (v as number) > 2 ** 31 - 1),
  fc.constant(2 ** 31 - 1),
)
/** A timeout that cannot block: junk except null/undefined/positive numbers, or 0. */
const nonBlockingTimeout = junk.filter(
  (v) => v !== null && v !== undefined && !(typeof v === 'number' && v > 0 && v <= 9.3e9),
)
const nulString = fc
  .tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }))
  .map(([a, b]) => `x${a}\0${b}`)

let closedPort = 0
let tmp = ''
const port = fc.oneof(
  fc.constant(0).map(() => closedPort),
  fc.constantFrom(-1, 65536, 70000, 1.5, Number.NaN, 2 ** 53),
  junk.filter((v) => typeof v !== 'number'),
)
/** No host here goes to DNS: numeric, empty, or invalid (NUL, not a string). */
function hosts(numeric: string) {
  return fc.oneof(
    fc.constantFrom(numeric, ''),
    nulString,
    junk.filter((v) => typeof v !== 'string'),
  )
}
/** A shape no resolver sees unless its host is one of `hosts`. */
function noNames(a: unknown): unknown {
  if (Array.isArray(a) && typeof a[0] === 'string' && !a[0].includes('\0'))
    return [5, ...a.slice(1)]
  return a
}
function inetAddress(numeric: string) {
  const h = hosts(numeric)
  return fc.oneof(
    fc.tuple(h, port),
    fc.tuple(h, port, junk, junk),
    fc.tuple(h, port, fc.integer({ min: -1, max: 2 ** 20 }), fc.constantFrom(0, -1, 2 ** 32)),
    fc.array(junk, { maxLength: 6 }).map(noNames),
    fc.tuple(fc.tuple(h, port), port),
    fc.tuple(h),
    fc.tuple(h, port, port, port, port),
    junk.filter((v) => !Array.isArray(v)),
  )
}
const unixPath = fc.oneof(
  nulString,
  fc.integer({ min: 90, max: 5000 }).map((n) => join(tmp, 'p'.repeat(n))),
  fc.integer({ min: 0, max: 3 }).map((k) => join(tmp, 'q'.repeat(108 - tmp.length - 1 + k))),
  fc.string({ maxLength: 200 }).map((s) => `\0bsdprop-${process.pid}-${s}`),
  junk.filter((v) => typeof v !== 'string'),
  fc.constant(''),
)
const asyncOptions = fc.oneof(
  fc.constant(undefined),
  junk,
  fc.record({ timeout: junk }),
  fc.record({ signal: junk }),
  fc.record({ timeout: fc.constantFrom(0, 0.001, null, 3e6, 9.2e9, 1e10) }),
)

// --- Setup -------------------------------------------------------------------------------

let a: Socket
let b: Socket
let fdsBefore = -1
let rssBefore = 0
/** Node's warnings during the run: a TimeoutOverflowWarning means a huge timeout became 1 ms. */
const warnings: string[] = []
const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`)

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'bsdprop-'))
  const s = socket(AF_INET, SOCK_STREAM)
  s.bind(['127.0.0.1', 0])
  closedPort = (s.getsockname() as [string, number])[1]
  s.close()
  ;[a, b] = socketpair()
  a.setblocking(false)
  b.setblocking(false)
  if (canCountFds) fdsBefore = openFdCount()
  rssBefore = process.memoryUsage().rss
  process.on('warning', onWarning)
})

afterAll(() => {
  process.off('warning', onWarning)
  closeAll(a, b)
  rmSync(tmp, { recursive: true, force: true })
})

let rounds = 0

/** The pair still carries bytes both ways once whatever a property left is drained. */
function roundTrip(): void {
  drain()
  rounds++
  deliver(a, b, `ping ${rounds}.`)
  receiveUntil(b, `ping ${rounds}.`)
  deliver(b, a, `pong ${rounds}.`)
  receiveUntil(a, `pong ${rounds}.`)
}

/**
 * Reads `to` until what arrived ends with `marker` (EAGAIN, a failure, if it never does). Over
 * a TCP pair (socketpair() on Windows) bytes a property sent may still be on the way when
 * drain() runs and come first; over AF_UNIX nothing may.
 */
function receiveUntil(to: Socket, marker: string): void {
  let got = ''
  while (!got.endsWith(marker)) {
    got += to.recv(65536).toString('latin1')
    if (!got.endsWith(marker)) select([to], [], [], 5)
  }
  if (to.family === AF_UNIX) expect(got).toBe(marker)
}

/**
 * Sends `data` from `from` and waits until `to` can read it: over a TCP pair (socketpair() on
 * Windows) a loopback send is not readable at once, as an AF_UNIX one is.
 */
function deliver(from: Socket, to: Socket, data: string): void {
  from.send(data)
  select([to], [], [], 5)
}

/** Reads whatever is queued on the pair. */
function drain(): void {
  for (const s of [a, b]) {
    for (;;) {
      try {
        if (s.recv(65536).length === 0) break
      } catch (e) {
        expect((e as SocketError).code).toBe(errname('EAGAIN'))
        break
      }
    }
  }
}

afterEach(roundTrip)

// The tuple-typed arbitraries keep each callback's parameters typed; fast-check's overloads
// cannot take a spread, hence the casts.
const prop = <T extends unknown[]>(
  arbs: { [K in keyof T]: fc.Arbitrary<T[K]> },
  f: (...args: T) => void,
) => fc.assert((fc.property as Any)(...arbs, f), { numRuns: RUNS })
const propAsync = <T extends unknown[]>(
  arbs: { [K in keyof T]: fc.Arbitrary<T[K]> },
  f: (...args: T) => Promise<void>,
) => fc.assert((fc.asyncProperty as Any)(...arbs, f), { numRuns: RUNS })

/** A fresh non-blocking socket for a call that changes its state. */
function scratch(family = AF_INET, type = SOCK_STREAM): Socket {
  const s = socket(family, type)
  s.setblocking(false)
  return s
}

// --- Properties --------------------------------------------------------------------------

describe('bad input (fast-check)', () => {
  it('socket() and socketpair()', () => {
    prop([cintArg, cintArg, cintArg, fc.boolean()], (family, type, proto, pair) => {
      const names = ['family', 'type', 'proto']
      if (pair) {
        const r = attempt(names, () => socketpair(family as Any, type as Any, proto as Any))
        closeAll(...(r ?? []))
      } else closeAll(attempt(names, () => socket(family as Any, type as Any, proto as Any)))
    })
  })

  it('fromfd()', () => {
    prop([badFd], (fd) => {
      closeAll(attempt(['fd'], () => fromfd(fd as Any)))
    })
  })

  it('bind / connect / connectEx on AF_INET, AF_INET6 and AF_UNIX', () => {
    const families = [AF_INET, ...(hasIPv6 ? [AF_INET6] : []), ...(hasUnixStream ? [AF_UNIX] : [])]
    const addr = fc
      .constantFrom(...families)
      .chain((f) =>
        fc.tuple(
          fc.constant(f),
          f === AF_UNIX ? unixPath : inetAddress(f === AF_INET ? '127.0.0.1' : '::1'),
        ),
      )
    prop([addr, fc.constantFrom('bind', 'connect', 'connectEx')], ([family, address], method) => {
      const s = scratch(family)
      try {
        attempt(['address'], () => (s as Any)[method](address))
      } finally {
        s.close()
      }
    })
  })

  it('listen()', () => {
    prop([junk], (backlog) => {
      const s = scratch()
      try {
        s.bind(['127.0.0.1', 0])
        attempt(['backlog'], () => s.listen(backlog as Any))
      } finally {
        s.close()
      }
    })
  })

  it('send / sendall / sendto on a connected pair', () => {
    prop(
      [
        fc.oneof(buffers, junk),
        cintArg,
        fc.oneof(unixPath, junk),
        fc.constantFrom('send', 'sendall', 'sendto2', 'sendto3'),
      ],
      (data, flags, address, method) => {
        const names = ['data', 'flags', 'address']
        attempt(names, () => {
          if (method === 'send') return a.send(data as Any, flags as Any)
          if (method === 'sendall') return a.sendall(data as Any, flags as Any)
          if (method === 'sendto2') return a.sendto(data as Any, address as Any)
          return a.sendto(data as Any, flags as Any, address as Any)
        })
      },
    )
  })

  it('sendto on a UDP socket', () => {
    const s = scratch(AF_INET, SOCK_DGRAM)
    try {
      prop(
        [fc.oneof(buffers, junk), cintArg, inetAddress('127.0.0.1'), fc.boolean()],
        (data, flags, address, three) => {
          attempt(['data', 'flags', 'address'], () =>
            three
              ? s.sendto(data as Any, flags as Any, address as Any)
              : s.sendto(data as Any, address as Any),
          )
        },
      )
    } finally {
      s.close()
    }
  })

  it('sendmany / recvmanyInto and their try* forms on a UDP socket', () => {
    const lists = fc.oneof(fc.array(fc.oneof(buffers, junk), { maxLength: 4 }), junk)
    const dest = fc.oneof(
      fc.constant(undefined),
      inetAddress('127.0.0.1'),
      fc.array(inetAddress('127.0.0.1'), { maxLength: 4 }),
    )
    const lengths = fc.oneof(
      fc.integer({ min: 0, max: 5 }).map((n) => new Int32Array(n)),
      fc.constant(0).map(() => new Uint32Array(4)),
      junk,
    )
    const options = fc.oneof(
      fc.constant(undefined),
      junk,
      fc.record({ addresses: junk }),
      fc.record({ msgFlags: lengths }),
      fc.record({ flags: cintArg }),
    )
    prop(
      [lists, dest, cintArg, lengths, options, fc.boolean(), fc.boolean()],
      (list, to, flags, lens, opts, send, tryIt) => {
        // A fresh socket per run: flags such as MSG_MORE leave state behind.
        const s = scratch(AF_INET, SOCK_DGRAM)
        try {
          s.bind(['127.0.0.1', 0])
          if (send) {
            attempt(['buffers', 'address', 'flags'], () =>
              tryIt
                ? s.trySendmany(list as Any, to as Any, flags as Any)
                : s.sendmany(list as Any, to as Any, flags as Any),
            )
          } else {
            attempt(['buffers', 'lengths', 'options'], () =>
              tryIt
                ? s.tryRecvmanyInto(list as Any, lens as Any, opts as Any)
                : s.recvmanyInto(list as Any, lens as Any, opts as Any),
            )
          }
        } finally {
          s.close()
        }
      },
    )
  })

  const sizes = fc.oneof(specialNumbers, fc.integer({ min: -5, max: 70000 }), junk)

  it('recv / recvfrom: sizes and flags', () => {
    prop([sizes, cintArg, fc.boolean(), fc.boolean()], (bufsize, flags, withData, from) => {
      drain()
      if (withData) deliver(a, b, 'hello')
      const r = attempt(['bufsize', 'flags'], () =>
        from ? b.recvfrom(bufsize as Any, flags as Any)[0] : b.recv(bufsize as Any, flags as Any),
      )
      if (r !== undefined) expect(r.length).toBeLessThanOrEqual(5)
    })
  })

  it('recv(2 ** 40) does not allocate a terabyte', () => {
    const rss = process.memoryUsage().rss
    for (const n of [2 ** 40, 2 ** 53 - 1, 2 ** 31, 2 ** 32]) {
      deliver(a, b, 'x')
      expect(b.recv(n).toString()).toBe('x')
      deliver(a, b, 'y')
      expect(b.recvfrom(n)[0].toString()).toBe('y')
      tried += 2
    }
    expect(process.memoryUsage().rss - rss).toBeLessThan(200 * 2 ** 20)
  })

  it('recvInto / recvfromInto: buffers (detached, empty), nbytes, flags', () => {
    prop(
      [fc.oneof(buffers, junk), sizes, cintArg, fc.boolean(), fc.boolean()],
      (buffer, nbytes, flags, withData, from) => {
        drain()
        if (withData) deliver(a, b, 'hello')
        const r = attempt(['buffer', 'nbytes', 'flags'], () =>
          from
            ? b.recvfromInto(buffer as Any, nbytes as Any, flags as Any)[0]
            : b.recvInto(buffer as Any, nbytes as Any, flags as Any),
        )
        if (r !== undefined) expect(r).toBeLessThanOrEqual(5)
      },
    )
  })

  it('sendmsg / sendFds: buffer lists, ancdata, fds, flags, address', () => {
    const list = fc.oneof(fc.array(fc.oneof(buffers, junk), { maxLength: 4 }), junk)
    const item = fc.oneof(fc.tuple(cintArg, cintArg, fc.oneof(buffers, junk)), junk)
    const anc = fc.oneof(fc.array(item, { maxLength: 3 }), junk)
    const fdList = fc.oneof(
      fc.array(fc.oneof(fc.integer({ min: -2, max: 2 }), badFd), { maxLength: 3 }),
      junk,
    )
    const address = fc.oneof(fc.constant(undefined), unixPath)
    prop(
      [list, anc, fdList, cintArg, address, fc.boolean()],
      (bufs, ancdata, fds, flags, addr, viaFds) => {
        attempt(['buffers', 'ancdata', 'fds', 'flags', 'address'], () =>
          viaFds
            ? sendFds(a, bufs as Any, fds as Any, flags as Any, addr as Any)
            : a.sendmsg(bufs as Any, ancdata as Any, flags as Any, addr as Any),
        )
        drain() // plain recv: the kernel closes any fds that travelled
      },
    )
  })

  it('recvmsg / recvmsgInto / recvFds: sizes, buffer lists, ancbufsize, maxfds, flags', () => {
    const list = fc.oneof(fc.array(fc.oneof(buffers, junk), { maxLength: 3 }), junk)
    const anc = fc.oneof(specialNumbers, fc.integer({ min: -5, max: 2 ** 21 }), junk)
    const method = fc.constantFrom('recvmsg', 'recvmsgInto', 'recvFds')
    prop(
      [sizes, list, anc, cintArg, method, fc.boolean()],
      (size, bufs, ancbufsize, flags, m, withData) => {
        drain()
        if (withData) deliver(a, b, 'hello')
        const names = ['bufsize', 'buffers', 'ancbufsize', 'maxfds', 'flags']
        const r = attempt(names, () => {
          if (m === 'recvmsg') return b.recvmsg(size as Any, ancbufsize as Any, flags as Any)
          if (m === 'recvmsgInto')
            return b.recvmsgInto(bufs as Any, ancbufsize as Any, flags as Any)
          return recvFds(b, size as Any, ancbufsize as Any, flags as Any)
        })
        if (r !== undefined) expect(r[1]).toEqual([]) // no fds were sent: none arrive
      },
    )
  })

  it('shutdown()', () => {
    prop([cintArg], (how) => {
      const [x, y] = socketpair()
      try {
        attempt(['how'], () => x.shutdown(how as Any))
      } finally {
        closeAll(x, y)
      }
    })
  })

  it('settimeout / setblocking', () => {
    const s = scratch()
    try {
      prop([junk, fc.boolean()], (value, blocking) => {
        if (blocking) attempt(['flag'], () => s.setblocking(value as Any))
        else attempt(['value'], () => s.settimeout(value as Any))
        s.settimeout(0)
      })
    } finally {
      s.close()
    }
  })

  const levels = fc.oneof(fc.constantFrom(SOL_SOCKET, IPPROTO_TCP), junk)
  const optnames = fc.oneof(
    fc.constantFrom(SO_LINGER, SO_RCVBUF, SO_SNDBUF, SO_KEEPALIVE, SO_REUSEADDR, SO_RCVTIMEO),
    fc.constant(TCP_NODELAY),
    junk,
  )

  it('setsockopt: wrong types and values', () => {
    prop([levels, optnames, fc.oneof(junk, buffers, fc.boolean())], (level, optname, value) => {
      const s = scratch()
      try {
        attempt(['level', 'optname', 'value'], () =>
          s.setsockopt(level as Any, optname as Any, value as Any),
        )
      } finally {
        s.close()
      }
    })
  })

  it('setsockopt: SO_LINGER / SO_RCVBUF with 0..16 bytes works or is EINVAL', () => {
    const s = scratch()
    try {
      prop(
        [fc.constantFrom(SO_LINGER, SO_RCVBUF), fc.uint8Array({ minLength: 0, maxLength: 16 })],
        (optname, value) => {
          tried++
          try {
            s.setsockopt(SOL_SOCKET, optname, value)
          } catch (e) {
            expect(e).toBeInstanceOf(SocketError)
            // Winsock refuses a buffer too short for the option with WSAEFAULT.
            const codes = process.platform === 'win32' ? ['EINVAL', 'EFAULT'] : ['EINVAL']
            expect(codes.map(errname)).toContain((e as SocketError).code)
          }
        },
      )
    } finally {
      s.close()
    }
  })

  it('getsockopt', () => {
    const s = scratch()
    try {
      prop(
        [levels, optnames, fc.oneof(fc.constant(undefined), sizes)],
        (level, optname, buflen) => {
          attempt(['level', 'optname', 'buflen'], () =>
            buflen === undefined
              ? s.getsockopt(level as Any, optname as Any)
              : s.getsockopt(level as Any, optname as Any, buflen as Any),
          )
        },
      )
    } finally {
      s.close()
    }
  })

  it('async receives: recvAsync / recvIntoAsync / recvfromAsync', async () => {
    await propAsync(
      [
        fc.constantFrom('recvAsync', 'recvIntoAsync', 'recvfromAsync'),
        fc.oneof(sizes, buffers),
        sizes,
        cintArg,
        asyncOptions,
        fc.boolean(),
      ],
      async (method, first, nbytes, flags, options, withData) => {
        const [x, y] = socketpair()
        if (withData) y.send('hello')
        const names = ['bufsize', 'buffer', 'nbytes', 'flags', 'options']
        await attemptAsync(
          names,
          () =>
            method === 'recvIntoAsync'
              ? x.recvIntoAsync(first as Any, nbytes as Any, flags as Any, options as Any)
              : (x as Any)[method](first, flags, options),
          () => closeAll(x, y),
        )
      },
    )
  })

  it('async sends: sendAsync / sendallAsync / sendtoAsync', async () => {
    await propAsync(
      [
        fc.constantFrom('sendAsync', 'sendallAsync', 'sendto3', 'sendto4'),
        fc.oneof(buffers, junk),
        cintArg,
        inetAddress('127.0.0.1'),
        asyncOptions,
      ],
      async (method, data, flags, address, options) => {
        const s = scratch(AF_INET, SOCK_DGRAM)
        s.connect(['127.0.0.1', closedPort])
        const names = ['data', 'flags', 'address', 'options']
        await attemptAsync(
          names,
          () => {
            if (method === 'sendAsync')
              return s.sendAsync(data as Any, flags as Any, options as Any)
            if (method === 'sendallAsync')
              return s.sendallAsync(data as Any, flags as Any, options as Any)
            if (method === 'sendto3')
              return s.sendtoAsync(data as Any, address as Any, options as Any)
            return s.sendtoAsync(data as Any, flags as Any, address as Any, options as Any)
          },
          () => s.close(),
        )
      },
    )
  })

  it('connectAsync / acceptAsync', async () => {
    await propAsync(
      [inetAddress('127.0.0.1'), asyncOptions, fc.boolean()],
      async (address, options, accept) => {
        const s = scratch()
        if (accept) {
          s.bind(['127.0.0.1', 0])
          s.listen()
        }
        await attemptAsync(
          ['address', 'options'],
          () =>
            accept ? s.acceptAsync(options as Any) : s.connectAsync(address as Any, options as Any),
          () => s.close(),
        )
      },
    )
  })

  it('select()', () => {
    const entry = fc.oneof(
      badFd,
      fc.constant(0).map(() => a),
      fc.constant(0).map(() => b.fileno()),
      junk.map((r) => ({ fileno: () => r })),
    )
    const list = fc.oneof(fc.array(entry, { maxLength: 4 }), junk)
    prop([list, list, list, nonBlockingTimeout], (r, w, x, timeout) => {
      attempt(['rlist', 'wlist', 'xlist', 'timeout'], () =>
        select(r as Any, w as Any, x as Any, timeout as Any),
      )
    })
  })

  it('getaddrinfo() (numeric hosts only: no DNS)', () => {
    const service = fc.oneof(port, nulString, fc.constantFrom('http', 'nonexistent-service', null))
    prop(
      [fc.oneof(hosts('127.0.0.1'), fc.constant(null)), service, cintArg, cintArg, cintArg, junk],
      (host, port, family, type, proto, flags) => {
        attempt(['host', 'port', 'family', 'type', 'proto', 'flags'], () =>
          getaddrinfo(
            host as Any,
            port as Any,
            family as Any,
            type as Any,
            proto as Any,
            flags as Any,
          ),
        )
      },
    )
  })

  it('createConnection()', () => {
    const source = fc.oneof(
      fc.constant(undefined),
      fc.constant(['127.0.0.1', 0]),
      inetAddress('127.0.0.1'),
    )
    prop([inetAddress('127.0.0.1'), nonBlockingTimeout, source], (address, timeout, src) => {
      closeAll(
        attempt(['address', 'host', 'port', 'timeout', 'sourceAddress'], () =>
          createConnection(address as Any, timeout as Any, src as Any),
        ),
      )
    })
  })

  it('createServer()', () => {
    const address = fc.oneof(fc.constant(['127.0.0.1', 0]), inetAddress('127.0.0.1'))
    const options = fc.oneof(
      junk,
      fc.record(
        { family: cintArg, backlog: junk, reusePort: junk, dualstackIpv6: junk },
        { requiredKeys: [] },
      ),
    )
    prop([address, options], (addr, opts) => {
      closeAll(
        attempt(
          opts === null || typeof opts !== 'object'
            ? ['address', '"options"']
            : ['address', 'family', 'backlog', 'reusePort', 'dualstackIpv6'],
          () => createServer(addr as Any, opts as Any),
        ),
      )
    })
  })

  it('Poller register / modify / poll', () => {
    const closed = socket()
    closed.close()
    const target = fc.oneof(
      badFd,
      fc.constant(0).map(() => a),
      fc.constant(0).map(() => closed),
      junk.map((r) => ({ fileno: () => r })),
      junk,
    )
    const mask = fc.oneof(
      fc.constantFrom(POLLIN, POLLOUT, POLLIN | POLLOUT),
      cintArg,
      specialNumbers,
    )
    const p = new Poller()
    try {
      prop(
        [fc.constantFrom('register', 'modify', 'poll'), target, mask, nonBlockingTimeout, junk],
        (method, t, m, timeout, maxevents) => {
          const names = ['target', 'eventmask', 'timeout', 'maxevents']
          attempt(names, () => {
            if (method === 'register') return p.register(t as Any, m as Any)
            if (method === 'modify') return p.modify(t as Any, m as Any)
            return p.poll(timeout as Any, maxevents as Any)
          })
        },
      )
    } finally {
      p.close()
    }
  })

  it('left no fds open, no memory held, no timer overflow; tried thousands of inputs', () => {
    if (fdsBefore >= 0) expect(openFdCount()).toBe(fdsBefore)
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 2 ** 20)
    expect(warnings.filter((w) => w.startsWith('TimeoutOverflowWarning'))).toEqual([])
    expect(tried).toBeGreaterThan(10000)
    console.log(`properties.test.ts: ${tried} generated inputs tried`)
  })
})
