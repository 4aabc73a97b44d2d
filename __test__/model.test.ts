// Random operation sequences (fast-check `commands`) on real connected socket pairs (TCP
// loopback and AF_UNIX socketpair), each step checked against a small model of what must
// happen (every send and recv variant: sync, `try*`, async, and the vectored `sendmsg` /
// `recvmsgInto` forms over two buffers):
// - bytes sent on one end are read on the other, in order, none lost or invented (each recv
//   returns a non-empty prefix of what is in flight; at the end both ways are drained to EOF
//   and compared byte for byte);
// - recv with nothing in flight: EAGAIN when non-blocking (`tryRecvInto`: -EAGAIN),
//   ETIMEDOUT when timed (`recvIntoAsync` with `{ timeout }` too); EOF (empty) once the peer
//   did shutdown(SHUT_WR) or closed; select() reports exactly that readability;
// - send after our own shutdown(SHUT_WR): EPIPE; after close every call is EBADF;
// - a close with unread data may reset the connection (RST): from then on the surviving end's
//   calls may also fail with ECONNRESET/EPIPE, but never return bytes that were not sent.
// Nothing can block for long: blocking recv is only issued when the model says data or EOF is
// there, and every socket has SO_RCVTIMEO/SO_SNDTIMEO of 5 s as a backstop. The fd count is the
// same after all runs. Replay a failure with FC_SEED=<seed> (printed by fast-check).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_UNIX,
  errno,
  SHUT_WR,
  SO_RCVTIMEO,
  SO_REUSEADDR,
  SO_SNDTIMEO,
  SOCK_STREAM,
  SOL_SOCKET,
  type Socket,
  SocketError,
  select,
  socket,
  socketpair,
} from '../ts/index.js'
import { openFdCount, timeval } from './helpers.js'

const RUNS = 100
const MAX_COMMANDS = 50
/** Bytes in flight per direction stay well below the loopback socket buffers: no send blocks. */
const MAX_IN_FLIGHT = 16 * 1024
/** A "timed" socket's timeout: short, as each timed recv on an empty socket waits it out. */
const TIMED = 0.01
const SEED = process.env.FC_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FC_SEED)

interface End {
  open: boolean
  /** Python's timeout: null blocking, 0 non-blocking, > 0 timed. */
  timeout: number | null
  wrShut: boolean
}

interface PairModel {
  kind: 'tcp' | 'unix'
  ends: [End, End]
  /** `inFlight[i]`: sent by end i, not yet read by the other end. */
  inFlight: [Buffer, Buffer]
  /** A close with unread data may have reset the connection. */
  reset: boolean
}

interface Model {
  pairs: PairModel[]
}

interface Real {
  pairs: [Socket, Socket][]
}

type Outcome<T> = { ok: T } | { code: string }

function outcome<T>(f: () => T): Outcome<T> {
  try {
    return { ok: f() }
  } catch (e) {
    if (e instanceof SocketError) return { code: e.code }
    throw e
  }
}

async function outcomeAsync<T>(p: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: await p }
  } catch (e) {
    if (e instanceof SocketError) return { code: e.code }
    throw e
  }
}

function codeOf(r: Outcome<unknown>): string | undefined {
  return 'code' in r ? r.code : undefined
}

function errnoName(n: number): string {
  return Object.keys(errno).find((k) => errno[k as 'EPIPE'] === n) ?? String(n)
}

/** Commands run, over all runs. */
let executed = 0

/** A picked pair (the index wraps), the end and its peer. */
function pick(m: Model, r: Real | undefined, p: number, i: 0 | 1) {
  if (r) executed++
  const k = p % m.pairs.length
  const pair = m.pairs[k] as PairModel
  const j = (1 - i) as 0 | 1
  return {
    pair,
    me: pair.ends[i],
    peer: pair.ends[j],
    i,
    j,
    sock: r?.pairs[k]?.[i] as Socket,
  }
}

/** The peer is gone after a possible reset: our calls may fail with these, never lie. */
const AFTER_RESET = ['ECONNRESET', 'EPIPE', 'ENOTCONN', 'EAGAIN', 'ETIMEDOUT']

function eof(peer: End): boolean {
  return peer.wrShut || !peer.open
}

abstract class PairCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly p: number,
    readonly i: 0 | 1,
  ) {}
  check(m: Model): boolean {
    return m.pairs.length > 0 && this.ok(pick(m, undefined, this.p, this.i))
  }
  abstract ok(x: ReturnType<typeof pick>): boolean
  abstract run(m: Model, r: Real): Promise<void>
  abstract toString(): string
}

class OpenPair implements fc.AsyncCommand<Model, Real> {
  constructor(readonly kind: 'tcp' | 'unix') {}
  check(m: Model): boolean {
    return m.pairs.length < 4
  }
  async run(m: Model, r: Real): Promise<void> {
    let pair: [Socket, Socket]
    if (this.kind === 'tcp') {
      const srv = socket(AF_INET, SOCK_STREAM)
      try {
        srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
        srv.bind(['127.0.0.1', 0])
        srv.listen(1)
        const c = socket(AF_INET, SOCK_STREAM)
        c.connect(srv.getsockname())
        const [s, addr] = srv.accept()
        expect(addr).toEqual(c.getsockname())
        expect(c.getpeername()).toEqual(s.getsockname())
        pair = [c, s]
      } finally {
        srv.close()
      }
    } else {
      pair = socketpair(AF_UNIX, SOCK_STREAM)
    }
    for (const s of pair) {
      s.setsockopt(SOL_SOCKET, SO_RCVTIMEO, timeval(5))
      s.setsockopt(SOL_SOCKET, SO_SNDTIMEO, timeval(5))
      expect(s.gettimeout()).toBeNull()
    }
    executed++
    r.pairs.push(pair)
    const end = (): End => ({ open: true, timeout: null, wrShut: false })
    m.pairs.push({
      kind: this.kind,
      ends: [end(), end()],
      inFlight: [Buffer.alloc(0), Buffer.alloc(0)],
      reset: false,
    })
  }
  toString(): string {
    return `open(${this.kind})`
  }
}

/** Every send and recv variant the model draws. */
const SENDS = ['send', 'sendall', 'trySend', 'sendallAsync', 'sendmsg', 'sendmsgAsync'] as const
const RECVS = [
  'recv',
  'recvInto',
  'tryRecvInto',
  'recvAsync',
  'recvIntoAsync',
  'recvmsgInto',
  'recvmsgIntoAsync',
] as const

/** Two views splitting `b` (the first may be empty): the vectored calls' buffers. */
function halves(b: Uint8Array): Uint8Array[] {
  const k = b.length >> 1
  return [b.subarray(0, k), b.subarray(k)]
}

class Send extends PairCommand {
  constructor(
    p: number,
    i: 0 | 1,
    readonly data: Uint8Array,
    readonly how: (typeof SENDS)[number],
  ) {
    super(p, i)
  }
  ok({ me, pair, i }: ReturnType<typeof pick>): boolean {
    return me.open && pair.inFlight[i].length + this.data.length <= MAX_IN_FLIGHT
  }
  async run(m: Model, r: Real): Promise<void> {
    const { me, peer, pair, i, sock } = pick(m, r, this.p, this.i)
    const len = this.data.length
    let res: Outcome<number | undefined>
    if (this.how === 'send') res = outcome(() => sock.send(this.data))
    else if (this.how === 'sendall') res = outcome(() => void sock.sendall(this.data))
    else if (this.how === 'sendallAsync')
      res = await outcomeAsync(sock.sendallAsync(this.data).then(() => undefined))
    else if (this.how === 'sendmsg') res = outcome(() => sock.sendmsg(halves(this.data)))
    else if (this.how === 'sendmsgAsync')
      res = await outcomeAsync(sock.sendmsgAsync(halves(this.data)))
    else {
      const n = sock.trySend(this.data)
      res = n >= 0 ? { ok: n } : { code: errnoName(-n) }
    }
    if (this.how.endsWith('Async')) me.timeout = 0
    if (me.wrShut) {
      // A pending reset is reported first.
      if (pair.reset && !peer.open) expect(['EPIPE', 'ECONNRESET']).toContain(codeOf(res))
      else expect(codeOf(res)).toBe('EPIPE')
    } else if (!peer.open) {
      // TCP takes the first send after the peer's close (the peer answers with RST);
      // AF_UNIX fails at once. Either way the connection may now be reset.
      if ('code' in res) expect(['EPIPE', 'ECONNRESET']).toContain(res.code)
      pair.reset = true
    } else {
      // Room in the buffers: a send takes everything (send/trySend return the count).
      expect(res).toEqual({ ok: this.how.startsWith('sendall') ? undefined : len })
      pair.inFlight[i] = Buffer.concat([pair.inFlight[i], this.data])
    }
  }
  toString(): string {
    return `${this.how}(p${this.p}, e${this.i}, ${this.data.length}B)`
  }
}

class Recv extends PairCommand {
  constructor(
    p: number,
    i: 0 | 1,
    readonly n: number,
    readonly how: (typeof RECVS)[number],
  ) {
    super(p, i)
  }
  ok({ me, peer, pair, j }: ReturnType<typeof pick>): boolean {
    if (!me.open) return false
    // A blocking recv with nothing coming would wait (up to the 5 s backstop): skip it.
    const sync = this.how === 'recv' || this.how === 'recvInto' || this.how === 'recvmsgInto'
    return !(sync && me.timeout === null && pair.inFlight[j].length === 0 && !eof(peer))
  }
  async run(m: Model, r: Real): Promise<void> {
    const { me, peer, pair, j, sock } = pick(m, r, this.p, this.i)
    const expected = pair.inFlight[j]
    const readable = expected.length > 0 || eof(peer)
    // Loopback delivery is not synchronous with send: wait until the data (or EOF) is here.
    if (readable) expect(select([sock], [], [], 5)[0]).toEqual([sock])
    const buf = Buffer.alloc(this.n)
    let res: Outcome<Buffer>
    switch (this.how) {
      case 'recv':
        res = outcome(() => sock.recv(this.n))
        break
      case 'recvInto':
        res = outcome(() => buf.subarray(0, sock.recvInto(buf)))
        break
      case 'tryRecvInto': {
        const got = sock.tryRecvInto(buf)
        res = got >= 0 ? { ok: buf.subarray(0, got) } : { code: errnoName(-got) }
        break
      }
      case 'recvAsync':
        res = await outcomeAsync(sock.recvAsync(this.n, 0, { timeout: TIMED }))
        break
      case 'recvIntoAsync':
        res = await outcomeAsync(
          sock.recvIntoAsync(buf, 0, 0, { timeout: TIMED }).then((got) => buf.subarray(0, got)),
        )
        break
      // Scattered over two views of `buf`: the bytes land in order, so `buf` reads as one.
      case 'recvmsgInto':
        res = outcome(() => buf.subarray(0, sock.recvmsgInto(halves(buf))[0]))
        break
      case 'recvmsgIntoAsync':
        res = await outcomeAsync(
          sock
            .recvmsgIntoAsync(halves(buf), 0, 0, { timeout: TIMED })
            .then(([got]) => buf.subarray(0, got)),
        )
        break
    }
    const async = this.how.endsWith('Async')
    if (async) me.timeout = 0
    if (pair.reset && !peer.open) {
      if ('code' in res) {
        expect(AFTER_RESET).toContain(res.code)
      } else {
        // Whatever arrives is still the next bytes that were sent.
        expect(res.ok.equals(expected.subarray(0, res.ok.length))).toBe(true)
        pair.inFlight[j] = expected.subarray(res.ok.length)
      }
      return
    }
    if (expected.length > 0) {
      if ('code' in res) throw new Error(`${this}: ${res.code} with ${expected.length}B in flight`)
      expect(res.ok.length).toBeGreaterThan(0)
      expect(res.ok.length).toBeLessThanOrEqual(Math.min(this.n, expected.length))
      expect(res.ok.equals(expected.subarray(0, res.ok.length))).toBe(true)
      pair.inFlight[j] = expected.subarray(res.ok.length)
    } else if (eof(peer)) {
      expect(res).toEqual({ ok: Buffer.alloc(0) })
    } else if (async) {
      expect(res).toEqual({ code: 'ETIMEDOUT' })
    } else if (this.how === 'tryRecvInto' || me.timeout === 0) {
      expect(res).toEqual({ code: 'EAGAIN' })
    } else {
      expect(res).toEqual({ code: 'ETIMEDOUT' })
    }
  }
  toString(): string {
    return `${this.how}(p${this.p}, e${this.i}, ${this.n})`
  }
}

class SelectCheck extends PairCommand {
  ok({ me }: ReturnType<typeof pick>): boolean {
    return me.open
  }
  async run(m: Model, r: Real): Promise<void> {
    const { peer, pair, j, sock } = pick(m, r, this.p, this.i)
    if (pair.reset && !peer.open) return
    if (pair.inFlight[j].length > 0 || eof(peer)) {
      expect(select([sock], [], [], 5)[0]).toEqual([sock])
    } else {
      // Nothing was sent that is unread and no FIN is due: not readable, now or in flight.
      expect(select([sock], [], [], 0)[0]).toEqual([])
    }
  }
  toString(): string {
    return `select(p${this.p}, e${this.i})`
  }
}

class ShutdownWr extends PairCommand {
  ok({ me }: ReturnType<typeof pick>): boolean {
    return me.open
  }
  async run(m: Model, r: Real): Promise<void> {
    const { me, pair, sock } = pick(m, r, this.p, this.i)
    const res = outcome(() => sock.shutdown(SHUT_WR))
    if (!me.wrShut && !pair.reset) expect(res).toEqual({ ok: undefined })
    // Again, or after a reset: the connection may be fully closed by now.
    else if ('code' in res) expect(res.code).toBe('ENOTCONN')
    me.wrShut = true
  }
  toString(): string {
    return `shutdown(p${this.p}, e${this.i}, SHUT_WR)`
  }
}

class Close extends PairCommand {
  ok({ me }: ReturnType<typeof pick>): boolean {
    return me.open
  }
  async run(m: Model, r: Real): Promise<void> {
    const { me, pair, j, sock } = pick(m, r, this.p, this.i)
    sock.close()
    sock.close()
    expect(sock.fileno()).toBe(-1)
    me.open = false
    // Closing with unread data makes the kernel reset the connection.
    if (pair.inFlight[j].length > 0) pair.reset = true
  }
  toString(): string {
    return `close(p${this.p}, e${this.i})`
  }
}

const CLOSED_CALLS = [
  'send',
  'recv',
  'recvInto',
  'tryRecvInto',
  'trySend',
  'shutdown',
  'settimeout',
  'gettimeout',
  'getsockname',
  'getpeername',
  'setsockopt',
  'recvAsync',
  'sendallAsync',
  'sendmsg',
  'recvmsgInto',
  'recvmsgIntoAsync',
] as const

class UseClosed extends PairCommand {
  constructor(
    p: number,
    i: 0 | 1,
    readonly call: (typeof CLOSED_CALLS)[number],
  ) {
    super(p, i)
  }
  ok({ me }: ReturnType<typeof pick>): boolean {
    return !me.open
  }
  async run(m: Model, r: Real): Promise<void> {
    const { sock } = pick(m, r, this.p, this.i)
    const buf = Buffer.alloc(8)
    const calls: Record<(typeof CLOSED_CALLS)[number], () => unknown> = {
      send: () => sock.send('x'),
      recv: () => sock.recv(8),
      recvInto: () => sock.recvInto(buf),
      tryRecvInto: () => sock.tryRecvInto(buf),
      trySend: () => sock.trySend('x'),
      shutdown: () => sock.shutdown(SHUT_WR),
      settimeout: () => sock.settimeout(0),
      gettimeout: () => sock.gettimeout(),
      getsockname: () => sock.getsockname(),
      getpeername: () => sock.getpeername(),
      setsockopt: () => sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1),
      recvAsync: () => sock.recvAsync(8),
      sendallAsync: () => sock.sendallAsync('x'),
      sendmsg: () => sock.sendmsg(['x', 'y']),
      recvmsgInto: () => sock.recvmsgInto(halves(buf)),
      recvmsgIntoAsync: () => sock.recvmsgIntoAsync(halves(buf)),
    }
    const res = outcome(calls[this.call])
    if ('ok' in res && res.ok instanceof Promise) {
      expect(await outcomeAsync(res.ok)).toEqual({ code: 'EBADF' })
    } else if (this.call === 'tryRecvInto' || this.call === 'trySend') {
      expect(res).toEqual({ ok: -(errno.EBADF as number) })
    } else {
      expect(res).toEqual({ code: 'EBADF' })
    }
  }
  toString(): string {
    return `${this.call}-after-close(p${this.p}, e${this.i})`
  }
}

class SetMode extends PairCommand {
  constructor(
    p: number,
    i: 0 | 1,
    readonly mode: 'blocking' | 'nonblocking' | 'timed' | 'null' | 'zero',
  ) {
    super(p, i)
  }
  ok({ me }: ReturnType<typeof pick>): boolean {
    return me.open
  }
  async run(m: Model, r: Real): Promise<void> {
    const { me, sock } = pick(m, r, this.p, this.i)
    if (this.mode === 'blocking') sock.setblocking(true)
    else if (this.mode === 'nonblocking') sock.setblocking(false)
    else sock.settimeout(this.mode === 'timed' ? TIMED : this.mode === 'zero' ? 0 : null)
    me.timeout = { blocking: null, null: null, nonblocking: 0, zero: 0, timed: TIMED }[this.mode]
    expect(sock.gettimeout()).toBe(me.timeout)
    expect(sock.getblocking()).toBe(me.timeout !== 0)
  }
  toString(): string {
    return `${this.mode}(p${this.p}, e${this.i})`
  }
}

const pairIx = fc.nat(3)
const endIx = fc.constantFrom<0 | 1>(0, 1)
const send = fc
  .tuple(pairIx, endIx, fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.constantFrom(...SENDS))
  .map(([p, i, d, how]) => new Send(p, i, d, how))
const recv = fc
  .tuple(pairIx, endIx, fc.integer({ min: 1, max: 1024 }), fc.constantFrom(...RECVS))
  .map(([p, i, n, how]) => new Recv(p, i, n, how))
const commands = fc.commands(
  [
    fc.constantFrom<'tcp' | 'unix'>('tcp', 'unix').map((k) => new OpenPair(k)),
    // Data moves most of the time; the commands that end a connection come less often.
    send,
    send,
    send,
    recv,
    recv,
    recv,
    fc.tuple(pairIx, endIx).map(([p, i]) => new SelectCheck(p, i)),
    fc.tuple(pairIx, endIx).map(([p, i]) => new ShutdownWr(p, i)),
    fc.tuple(pairIx, endIx).map(([p, i]) => new Close(p, i)),
    fc
      .tuple(pairIx, endIx, fc.constantFrom(...CLOSED_CALLS))
      .map(([p, i, call]) => new UseClosed(p, i, call)),
    fc
      .tuple(
        pairIx,
        endIx,
        fc.constantFrom('blocking', 'nonblocking', 'timed', 'null', 'zero' as const),
      )
      .map(([p, i, mode]) => new SetMode(p, i, mode)),
  ],
  { maxCommands: MAX_COMMANDS, size: 'max' },
)

/** Every byte still in flight arrives, in order, then EOF; then everything is closed. */
async function drainAndClose(m: Model, r: Real): Promise<void> {
  for (const [k, pair] of m.pairs.entries()) {
    const socks = r.pairs[k] as [Socket, Socket]
    try {
      if (pair.reset) continue
      for (const i of [0, 1] as const) {
        const j = (1 - i) as 0 | 1
        const [me, peer] = [pair.ends[i], pair.ends[j]]
        if (!peer.open) continue
        if (me.open && !me.wrShut) socks[i].shutdown(SHUT_WR)
        socks[j].settimeout(5)
        const chunks: Buffer[] = []
        for (let b = socks[j].recv(65536); b.length > 0; b = socks[j].recv(65536)) chunks.push(b)
        expect(Buffer.concat(chunks).equals(pair.inFlight[i])).toBe(true)
      }
    } finally {
      for (const s of socks) s.close()
    }
  }
}

describe('model-based: random operation sequences on real socket pairs', () => {
  it(`${RUNS} runs of up to ${MAX_COMMANDS} commands (seed ${SEED}); no fd left behind`, async () => {
    const before = process.platform === 'linux' ? openFdCount() : 0
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        const model: Model = { pairs: [] }
        const real: Real = { pairs: [] }
        try {
          // Each run starts with one pair of each kind; `open` commands add more.
          await new OpenPair('tcp').run(model, real)
          await new OpenPair('unix').run(model, real)
          await fc.asyncModelRun(() => ({ model, real }), cmds)
          await drainAndClose(model, real)
        } finally {
          for (const pair of real.pairs) for (const s of pair) s.close()
        }
      }),
      { numRuns: RUNS, seed: SEED },
    )
    expect(executed).toBeGreaterThan(RUNS * 5)
    if (process.platform === 'linux') expect(openFdCount()).toBe(before)
  })
})
