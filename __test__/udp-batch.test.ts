// Batched datagrams: sendmany / recvmanyInto (recvmmsg/sendmmsg on Linux) on real loopback UDP.
// The portable recvmsg/sendmsg loop runs the same contract in crates/core/tests/batch.rs.
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  BlockingIOError,
  ConnectionRefusedError,
  errno,
  MAX_BATCH,
  MSG_TRUNC,
  SOCK_DGRAM,
  type Socket,
  type SocketAddress,
  SocketError,
  socket,
  socketpair,
  TimeoutError,
} from '../ts/index.js'
import {
  closeTracked,
  errname,
  hasIPv6,
  hasPython,
  hasUnixDgram,
  python,
  track,
} from './helpers.js'

afterEach(closeTracked)

/** A datagram socket bound to loopback port 0, timed. */
function udp(family = AF_INET): Socket {
  const s = track(socket(family, SOCK_DGRAM))
  s.settimeout(5)
  s.bind(family === AF_INET6 ? ['::1', 0] : ['127.0.0.1', 0])
  return s
}

/** Whether the batch calls exist here: Windows has none (every batch is EOPNOTSUPP). */
const hasBatches = (() => {
  const s = socket(AF_INET, SOCK_DGRAM)
  try {
    return s.tryRecvmanyInto([Buffer.alloc(1)], new Int32Array(1)) !== -(errno.EOPNOTSUPP as number)
  } finally {
    s.close()
  }
})()

/** Whether recv with MSG_TRUNC returns a datagram's full size here (Linux does). */
const truncGivesFullSize = (() => {
  if (!hasUnixDgram) return false
  const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM)
  try {
    a.send(Buffer.alloc(100))
    return b.recvInto(Buffer.alloc(10), 0, MSG_TRUNC) === 100
  } finally {
    a.close()
    b.close()
  }
})()

const buffers = (n: number, size: number) => Array.from({ length: n }, () => Buffer.alloc(size))

/** Receives until `n` datagrams arrived; returns their bytes and senders. */
function recvAll(s: Socket, n: number, size = 2048): [Buffer[], SocketAddress[]] {
  const bufs = buffers(n, size)
  const lengths = new Int32Array(n)
  const addresses: (SocketAddress | null)[] = []
  const data: Buffer[] = []
  const from: SocketAddress[] = []
  while (data.length < n) {
    const want = n - data.length
    const got = s.recvmanyInto(bufs.slice(0, want), lengths, { addresses })
    for (let i = 0; i < got; i++) {
      data.push(Buffer.from(bufs[i].subarray(0, lengths[i])))
      from.push(addresses[i] as SocketAddress)
    }
  }
  return [data, from]
}

// Windows: no batch calls (EOPNOTSUPP: no recvmmsg, no per-call MSG_DONTWAIT).
describe.skipIf(!hasBatches)('sendmany / recvmanyInto', () => {
  it('64 datagrams keep their boundaries, order and sender', () => {
    const rx = udp()
    const tx = udp()
    const data = Array.from({ length: 64 }, (_, i) => Buffer.alloc(i + 1, i))
    expect(tx.sendmany(data, rx.getsockname())).toBe(64)
    const [got, from] = recvAll(rx, 64)
    expect(got).toEqual(data)
    for (const a of from) expect(a).toEqual(tx.getsockname())
  })

  it('tells senders apart; a run from one sender shares one address array', () => {
    const rx = udp()
    const a = udp()
    const b = udp()
    a.sendmany(['a1', 'a2'], rx.getsockname())
    b.sendmany(['b1'], rx.getsockname())
    a.sendmany(['a3'], rx.getsockname())
    const lengths = new Int32Array(4)
    const addresses: (SocketAddress | null)[] = []
    expect(rx.recvmanyInto(buffers(4, 8), lengths, { addresses })).toBe(4)
    expect(addresses).toEqual([a.getsockname(), a.getsockname(), b.getsockname(), a.getsockname()])
    expect(addresses[1]).toBe(addresses[0])
    expect(addresses[3]).not.toBe(addresses[0])
    // Replying to the senders: one destination per datagram, each to its own.
    const replies = ['r-a1', 'r-a2', 'r-b1', 'r-a3']
    expect(rx.sendmany(replies, addresses as SocketAddress[])).toBe(4)
    expect(recvAll(a, 3)[0].map(String)).toEqual(['r-a1', 'r-a2', 'r-a3'])
    expect(recvAll(b, 1)[0].map(String)).toEqual(['r-b1'])
  })

  it.skipIf(!hasIPv6)('IPv6 senders come back as 4-tuples', () => {
    const rx = udp(AF_INET6)
    const tx = udp(AF_INET6)
    expect(tx.sendmany([Buffer.from('six')], rx.getsockname())).toBe(1)
    const [got, from] = recvAll(rx, 1)
    expect(got[0].toString()).toBe('six')
    expect(from[0]).toEqual(tx.getsockname())
  })

  it('takes any view and strings; Uint16Array bytes go as they are', () => {
    const rx = udp()
    const tx = udp()
    const u16 = new Uint16Array([1, 2, 3])
    const dv = new DataView(new ArrayBuffer(5))
    expect(tx.sendmany(['text', u16, dv, new ArrayBuffer(2)], rx.getsockname())).toBe(4)
    const [got] = recvAll(rx, 4)
    expect(got.map((b) => b.length)).toEqual([4, 6, 5, 2])
    // Receiving into views other than Buffer works too.
    tx.sendmany([Buffer.from([9, 8, 7, 6])], rx.getsockname())
    const into = new Uint32Array(1)
    const lengths = new Int32Array(1)
    expect(rx.recvmanyInto([into], lengths)).toBe(1)
    expect(lengths[0]).toBe(4)
    expect(Buffer.from(into.buffer)).toEqual(Buffer.from([9, 8, 7, 6]))
  })

  it('returns a partial batch: only what is queued after the first datagram', () => {
    const rx = udp()
    const tx = udp()
    tx.sendmany(['a', 'bb', 'ccc'], rx.getsockname())
    const lengths = new Int32Array(8)
    expect(rx.recvmanyInto(buffers(8, 16), lengths)).toBe(3)
    expect([...lengths.subarray(0, 3)]).toEqual([1, 2, 3])
  })

  it('one address per datagram', () => {
    const a = udp()
    const b = udp()
    const tx = udp()
    expect(
      tx.sendmany(['to-a', 'to-b', 'to-a2'], [a.getsockname(), b.getsockname(), a.getsockname()]),
    ).toBe(3)
    expect(recvAll(a, 2)[0].map(String)).toEqual(['to-a', 'to-a2'])
    expect(recvAll(b, 1)[0].map(String)).toEqual(['to-b'])
  })

  it('a connected socket needs no address; an unconnected one says EDESTADDRREQ', () => {
    const rx = udp()
    const tx = udp()
    expect(() => tx.sendmany(['x'])).toThrow(
      expect.objectContaining({ code: errname('EDESTADDRREQ'), syscall: 'sendmmsg' }),
    )
    tx.connect(rx.getsockname())
    expect(tx.sendmany(['x', 'y'])).toBe(2)
    expect(recvAll(rx, 2)[0].map(String)).toEqual(['x', 'y'])
  })

  it('Unix datagram sockets', () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM)
    track(a, b)
    b.settimeout(5)
    expect(a.sendmany(['u1', 'u2'])).toBe(2)
    expect(recvAll(b, 2)[0].map(String)).toEqual(['u1', 'u2'])
  })

  it('EAGAIN when nothing is queued on a non-blocking socket; try* returns -EAGAIN', () => {
    const rx = udp()
    rx.setblocking(false)
    const lengths = new Int32Array(4)
    expect(() => rx.recvmanyInto(buffers(4, 8), lengths)).toThrow(BlockingIOError)
    expect(() => rx.recvmanyInto(buffers(4, 8), lengths)).toThrow(
      expect.objectContaining({ code: errname('EAGAIN'), syscall: 'recvmmsg' }),
    )
    // tryRecvmanyInto never waits, whatever the mode.
    rx.settimeout(5)
    expect(rx.tryRecvmanyInto(buffers(4, 8), lengths)).toBe(-(errno.EAGAIN as number))
  })

  it('ETIMEDOUT with settimeout', () => {
    const rx = udp()
    rx.settimeout(0.02)
    expect(() => rx.recvmanyInto(buffers(2, 8), new Int32Array(2))).toThrow(TimeoutError)
  })

  it('EMSGSIZE for a too-large first datagram; later ones end the batch', () => {
    const tx = udp()
    const big = Buffer.alloc(70_000)
    expect(() => tx.sendmany([big], tx.getsockname())).toThrow(
      expect.objectContaining({ code: errname('EMSGSIZE'), syscall: 'sendmmsg' }),
    )
    expect(tx.trySendmany([big], tx.getsockname())).toBe(-(errno.EMSGSIZE as number))
    expect(tx.sendmany(['ok', big, 'never'], tx.getsockname())).toBe(1)
  })

  it('reports truncation per datagram in msgFlags', () => {
    const rx = udp()
    const tx = udp()
    tx.sendmany([Buffer.alloc(4), Buffer.alloc(100)], rx.getsockname())
    const lengths = new Int32Array(2)
    const msgFlags = new Int32Array(2)
    expect(rx.recvmanyInto(buffers(2, 10), lengths, { msgFlags })).toBe(2)
    expect([...lengths]).toEqual([4, 10])
    expect(msgFlags[0] & MSG_TRUNC).toBe(0)
    expect(msgFlags[1] & MSG_TRUNC).toBe(MSG_TRUNC)
  })

  it.skipIf(!truncGivesFullSize)('with flags MSG_TRUNC, lengths are full sizes (Linux)', () => {
    const rx = udp()
    const tx = udp()
    tx.sendmany([Buffer.alloc(100)], rx.getsockname())
    const lengths = new Int32Array(1)
    const msgFlags = new Int32Array(1)
    expect(rx.recvmanyInto(buffers(1, 10), lengths, { msgFlags, flags: MSG_TRUNC })).toBe(1)
    expect(lengths[0]).toBe(100)
    expect(msgFlags[0] & MSG_TRUNC).toBe(MSG_TRUNC)
  })

  it('ECONNREFUSED when a connected peer is gone', () => {
    const tx = udp()
    const gone = udp()
    const addr = gone.getsockname()
    gone.close()
    tx.connect(addr)
    expect(tx.sendmany(['x'])).toBe(1)
    expect(() => tx.recvmanyInto(buffers(1, 8), new Int32Array(1))).toThrow(
      expect.objectContaining({ code: errname('ECONNREFUSED') }),
    )
  })

  it('EBADF after close, from our own state', () => {
    const s = udp()
    s.close()
    expect(() => s.recvmanyInto(buffers(1, 8), new Int32Array(1))).toThrow(
      expect.objectContaining({ code: errname('EBADF') }),
    )
    expect(s.trySendmany(['x'], ['127.0.0.1', 9])).toBe(-(errno.EBADF as number))
  })

  it('an empty batch is 0 with no syscall', () => {
    const s = udp()
    s.setblocking(false)
    expect(s.recvmanyInto([], new Int32Array(0))).toBe(0)
    expect(s.sendmany([], ['127.0.0.1', 9])).toBe(0)
  })

  it('bad arguments are TypeError / RangeError before any syscall', () => {
    const s = udp()
    const to = s.getsockname()
    const tooMany = buffers(MAX_BATCH + 1, 1)
    expect(() => s.recvmanyInto(tooMany, new Int32Array(MAX_BATCH + 1))).toThrow(RangeError)
    expect(() => s.sendmany(tooMany, to)).toThrow(RangeError)
    expect(() => s.recvmanyInto('x' as never, new Int32Array(1))).toThrow(TypeError)
    expect(() => s.recvmanyInto(['x' as never], new Int32Array(1))).toThrow(/buffers\[0\]/)
    expect(() => s.sendmany([1 as never], to)).toThrow(TypeError)
    expect(() => s.recvmanyInto(buffers(2, 1), new Int32Array(1))).toThrow(RangeError)
    expect(() => s.recvmanyInto(buffers(1, 1), [0] as never)).toThrow(TypeError)
    expect(() =>
      s.recvmanyInto(buffers(2, 1), new Int32Array(2), { msgFlags: new Int32Array(1) }),
    ).toThrow(RangeError)
    expect(() =>
      s.recvmanyInto(buffers(1, 1), new Int32Array(1), { addresses: {} as never }),
    ).toThrow(TypeError)
    expect(() => s.recvmanyInto(buffers(1, 1), new Int32Array(1), null as never)).toThrow(TypeError)
    expect(() => s.sendmany(['a', 'b'], [to, to, to])).toThrow(RangeError)
    expect(() => s.sendmany(['a'], ['127.0.0.1', 70000])).toThrow(RangeError)
    expect(() => s.sendmany(['a'], to, 1.5)).toThrow(RangeError)
    // Two receive buffers sharing bytes would be two aliasing writes: refused.
    const one = Buffer.alloc(8)
    expect(() => s.recvmanyInto([one, one.subarray(4)], new Int32Array(2))).toThrow(/overlapping/)
    // A batch found disjoint once is remembered; a change to it is checked again.
    const big = Buffer.alloc(64 * 20)
    const batch = Array.from({ length: 20 }, (_, i) => big.subarray(i * 64, i * 64 + 64))
    const lens = new Int32Array(20)
    expect(s.tryRecvmanyInto(batch, lens)).toBe(-(errno.EAGAIN as number))
    expect(s.tryRecvmanyInto(batch, lens)).toBe(-(errno.EAGAIN as number))
    batch[7] = big.subarray(7 * 64 + 32, 8 * 64 + 32) // same length, overlaps its neighbour
    expect(() => s.tryRecvmanyInto(batch, lens)).toThrow(/overlapping/)
  })

  it.skipIf(!hasPython)('interoperates with Python as the UDP peer', async () => {
    const s = udp()
    const port = (s.getsockname() as [string, number])[1]
    const peer = python(
      `
import socket, sys
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as p:
    p.settimeout(10)
    p.bind(('127.0.0.1', 0))
    for i in range(10):
        p.sendto(bytes([i]) * (i + 1), ('127.0.0.1', int(sys.argv[1])))
    got = [p.recvfrom(64)[0] for _ in range(10)]
    print(' '.join(g.decode() for g in got))
`,
      [port],
    )
    s.settimeout(10)
    const [data, from] = recvAll(s, 10)
    expect(data).toEqual(Array.from({ length: 10 }, (_, i) => Buffer.alloc(i + 1, i)))
    expect(new Set(from.map((a) => JSON.stringify(a))).size).toBe(1)
    const replies = data.map((d) => `len${d.length}`)
    expect(s.sendmany(replies, from[0])).toBe(10)
    const res = await peer
    expect(res.stderr).toBe('')
    expect(res.stdout.trim()).toBe(replies.join(' '))
  })

  it('SocketError carries the errno number', () => {
    const s = udp()
    s.setblocking(false)
    try {
      s.recvmanyInto(buffers(1, 1), new Int32Array(1))
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(SocketError)
      expect((e as SocketError).errno).toBe(errno.EAGAIN)
    }
  })
})

// Windows: no batch calls (EOPNOTSUPP: no recvmmsg, no per-call MSG_DONTWAIT).
describe.skipIf(!hasBatches)('recvmanyIntoAsync / sendmanyAsync', () => {
  const tick = () => new Promise((r) => setImmediate(r))

  it('waits on the event loop for the first datagram, then takes what is queued', async () => {
    const rx = udp()
    const tx = udp()
    const bufs = buffers(8, 16)
    const lengths = new Int32Array(8)
    const addresses: (SocketAddress | null)[] = []
    const msgFlags = new Int32Array(8)
    let settled = false
    const pending = rx.recvmanyIntoAsync(bufs, lengths, { addresses, msgFlags, timeout: 5 })
    pending.then(() => {
      settled = true
    })
    await tick()
    expect(settled).toBe(false)
    expect(await tx.sendmanyAsync(['one', 'two', 'three'], rx.getsockname())).toBe(3)
    expect(await pending).toBe(3)
    expect(bufs.slice(0, 3).map((b, i) => b.subarray(0, lengths[i]).toString())).toEqual([
      'one',
      'two',
      'three',
    ])
    expect(addresses.slice(0, 3)).toEqual(Array(3).fill(tx.getsockname()))
    expect([...msgFlags.subarray(0, 3)]).toEqual([0, 0, 0])
    // Already queued: resolves without waiting for readiness.
    tx.sendmany(['four'], rx.getsockname())
    await tick()
    expect(await rx.recvmanyIntoAsync(bufs, lengths)).toBe(1)
    expect(await rx.recvmanyIntoAsync([], new Int32Array(0))).toBe(0)
  })

  it('sendmanyAsync waits for room (a full Unix datagram queue), then sends', async () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM)
    track(a, b)
    const dgram = Buffer.alloc(1024)
    let filled = 0
    while (a.trySendmany([dgram]) === 1) filled++
    expect(filled).toBeGreaterThan(0)
    let sent = -1
    const pending = a.sendmanyAsync(['late', 'later']).then((n) => {
      sent = n
    })
    await tick()
    expect(sent).toBe(-1)
    const sink = buffers(64, 1024)
    const lengths = new Int32Array(64)
    for (let drained = 0; drained <= filled; ) {
      const n = b.tryRecvmanyInto(sink, lengths)
      if (n > 0) drained += n
      else await tick()
    }
    await pending
    expect(sent).toBeGreaterThanOrEqual(1)
  })

  it('rejects with ECONNREFUSED when the connected peer is gone', async () => {
    const gone = udp()
    const to = gone.getsockname()
    gone.close()
    const s = udp()
    s.connect(to)
    const waiting = s.recvmanyIntoAsync(buffers(2, 8), new Int32Array(2), { timeout: 5 })
    expect(await s.sendmanyAsync(['anyone?'])).toBe(1)
    await expect(waiting).rejects.toBeInstanceOf(ConnectionRefusedError)
    await expect(waiting).rejects.toMatchObject({ syscall: 'recvmmsg' })
  })

  it('rejects on timeout, abort and close; bad arguments before any syscall', async () => {
    const s = udp()
    const lengths = new Int32Array(2)
    await expect(
      s.recvmanyIntoAsync(buffers(2, 8), lengths, { timeout: 0.01 }),
    ).rejects.toMatchObject({ code: errname('ETIMEDOUT'), syscall: 'recvmmsg' })
    const ac = new AbortController()
    const aborted = s.recvmanyIntoAsync(buffers(2, 8), lengths, { signal: ac.signal })
    ac.abort()
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' })
    const one = Buffer.alloc(8)
    await expect(s.recvmanyIntoAsync([one, one.subarray(4)], lengths)).rejects.toThrow(
      /overlapping/,
    )
    await expect(s.recvmanyIntoAsync(buffers(3, 8), lengths)).rejects.toBeInstanceOf(RangeError)
    await expect(
      s.recvmanyIntoAsync(buffers(1, 8), lengths, { timeout: -1 }),
    ).rejects.toBeInstanceOf(RangeError)
    await expect(s.sendmanyAsync([1 as never], s.getsockname())).rejects.toBeInstanceOf(TypeError)
    await expect(s.sendmanyAsync(['a'], ['127.0.0.1', 70000])).rejects.toBeInstanceOf(RangeError)
    const lone = udp()
    await expect(lone.sendmanyAsync(['a'])).rejects.toMatchObject({
      code: errname('EDESTADDRREQ'),
      syscall: 'sendmmsg',
    })
    const closed = s.recvmanyIntoAsync(buffers(2, 8), lengths)
    s.close()
    await expect(closed).rejects.toMatchObject({ code: errname('EBADF') })
    await expect(s.sendmanyAsync(['a'], lone.getsockname())).rejects.toMatchObject({
      code: errname('EBADF'),
    })
  })

  it.skipIf(!hasPython)('serves a Python peer on the event loop', async () => {
    const s = udp()
    const port = (s.getsockname() as [string, number])[1]
    const peer = python(
      `
import socket, sys
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as p:
    p.settimeout(10)
    for i in range(5):
        p.sendto(b'ping%d' % i, ('127.0.0.1', int(sys.argv[1])))
        print(p.recvfrom(64)[0].decode())
`,
      [port],
    )
    const bufs = buffers(4, 64)
    const lengths = new Int32Array(4)
    const addresses: (SocketAddress | null)[] = []
    for (let echoed = 0; echoed < 5; ) {
      const n = await s.recvmanyIntoAsync(bufs, lengths, { addresses, timeout: 10 })
      const replies = bufs.slice(0, n).map((b, i) => `pong${b.subarray(4, lengths[i])}`)
      echoed += await s.sendmanyAsync(replies, addresses.slice(0, n) as SocketAddress[])
    }
    const res = await peer
    expect(res.stderr).toBe('')
    expect(res.stdout.trim().split('\n')).toEqual(['pong0', 'pong1', 'pong2', 'pong3', 'pong4'])
  })
})
