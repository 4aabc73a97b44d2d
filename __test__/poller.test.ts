// Poller: register/modify/unregister/poll on every backend (the default and the forced
// poll(2)), watch(cb) on Node's event loop, ref/unref and process exit, on real sockets.

import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  errno,
  POLLER_EDGE,
  POLLER_ONESHOT,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLOUT,
  POLLPRI,
  type PollEvent,
  Poller,
  type PollerBackend,
  SO_LINGER,
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
  DIST,
  errname,
  hasProcFds,
  linger,
  listener,
  script,
  track,
} from './helpers.js'

const EAGAIN = errno.EAGAIN
const ECONNRESET = errno.ECONNRESET
/** An fd number no process has open (above any RLIMIT_NOFILE). */
const NEVER_OPEN = 2 ** 31 - 1

const pollers: Poller[] = []
afterEach(() => {
  for (const p of pollers.splice(0)) p.close()
  closeTracked()
})

function poller(backend?: PollerBackend): Poller {
  const p = new Poller(backend === undefined ? {} : { backend })
  pollers.push(p)
  return p
}

/** A tracked connected AF_UNIX stream pair. */
function pair(): [Socket, Socket] {
  const [a, b] = socketpair()
  track(a, b)
  return [a, b]
}

/** The SocketError `fn` throws. */
function socketError(fn: () => unknown): SocketError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(SocketError)
    return e as SocketError
  }
  throw new Error('expected a SocketError')
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Sorted copy, for comparing event lists whose order is the kernel's. */
function sorted(events: PollEvent[]): PollEvent[] {
  return [...events].sort((x, y) => x[0] - y[0])
}

/** Watches `p` and queues its batches; `next()` takes the oldest one not yet taken. */
function watching(p: Poller) {
  const batches: PollEvent[][] = []
  let taken = 0
  let wake: (() => void) | undefined
  p.watch((events) => {
    batches.push(events)
    wake?.()
  })
  return {
    batches,
    async next(): Promise<PollEvent[]> {
      while (taken === batches.length) {
        const arrived = new Promise<void>((r) => {
          wake = r
        })
        const timer = setTimeout(() => wake?.(), 5000)
        await arrived
        clearTimeout(timer)
        if (taken === batches.length) throw new Error('no batch within 5 s')
      }
      return batches[taken++] as PollEvent[]
    },
    /** Drops the batches not taken yet. */
    skip(): void {
      taken = batches.length
    },
  }
}

const backends: [string, PollerBackend | undefined][] = [
  ['default backend', undefined],
  ['poll(2) backend', 'poll'],
]

describe.each(backends)('Poller on the %s', (_name, backend) => {
  it('names its backend and fd', () => {
    const p = poller(backend)
    expect(p.backend).toBe(backend ?? Poller.available()[0])
    if (p.backend === 'poll') expect(p.fileno()).toBe(-1)
    else expect(p.fileno()).toBeGreaterThanOrEqual(0)
    expect(p.closed).toBe(false)
  })

  it('reports nothing on timeout: poll(0) and a short wait return []', () => {
    const p = poller(backend)
    const [a] = pair()
    p.register(a, POLLIN)
    expect(p.poll(0)).toEqual([])
    expect(p.poll(0.02)).toEqual([])
  })

  it('reports readable data under the fd, and writable room', () => {
    const p = poller(backend)
    const [a, b] = pair()
    p.register(a, POLLIN)
    b.sendall('x')
    expect(p.poll(5)).toEqual([[a.fileno(), POLLIN]])
    // Level-triggered: reported again while unread.
    expect(p.poll(0)).toEqual([[a.fileno(), POLLIN]])
    expect(a.recv(1).toString()).toBe('x')
    expect(p.poll(0)).toEqual([])
    p.register(b, POLLOUT)
    expect(p.poll(0)).toEqual([[b.fileno(), POLLOUT]])
  })

  it('takes a Socket, a raw fd, or any object with fileno()', () => {
    const p = poller(backend)
    const [a, b] = pair()
    const [c, d] = pair()
    const [e, f] = pair()
    p.register(a, POLLIN)
    p.register(c.fileno(), POLLIN)
    p.register({ fileno: () => e.fileno() }, POLLIN)
    for (const s of [b, d, f]) s.sendall('x')
    expect(sorted(p.poll(5))).toEqual(
      sorted([
        [a.fileno(), POLLIN],
        [c.fileno(), POLLIN],
        [e.fileno(), POLLIN],
      ]),
    )
    p.unregister(c.fileno())
    p.unregister(a)
    p.unregister({ fileno: () => e.fileno() })
    expect(p.poll(0)).toEqual([])
  })

  it('registers POLLIN | POLLOUT by default, as Python does (POLLPRI is accepted, ignored)', () => {
    const p = poller(backend)
    const [a, b] = pair()
    p.register(a)
    expect(p.poll(0)).toEqual([[a.fileno(), POLLOUT]])
    b.sendall('x')
    expect(p.poll(0)).toEqual([[a.fileno(), POLLIN | POLLOUT]])
    p.modify(a, POLLIN | POLLPRI)
    expect(p.poll(0)).toEqual([[a.fileno(), POLLIN]])
  })

  it('modify changes the interest; unregister stops the reports', () => {
    const p = poller(backend)
    const [a, b] = pair()
    b.sendall('x')
    p.register(a, POLLOUT)
    expect(p.poll(0)).toEqual([[a.fileno(), POLLOUT]])
    p.modify(a, POLLIN)
    expect(p.poll(0)).toEqual([[a.fileno(), POLLIN]])
    p.modify(a, 0)
    expect(p.poll(0)).toEqual([])
    p.modify(a, POLLIN | POLLOUT)
    expect(p.poll(0)).toEqual([[a.fileno(), POLLIN | POLLOUT]])
    p.unregister(a)
    expect(p.poll(0)).toEqual([])
    // Registering again after unregister is allowed.
    p.register(a, POLLIN)
    expect(p.poll(0)).toEqual([[a.fileno(), POLLIN]])
  })

  it('reports the peer closing as POLLIN | POLLHUP, on TCP as on AF_UNIX', () => {
    const p = poller(backend)
    const [a, b] = pair()
    const [client, server] = connectedPair(AF_INET)
    p.register(a, POLLIN)
    p.register(server, POLLIN)
    b.close()
    client.close()
    expect(sorted(p.poll(5))).toEqual(
      sorted([
        [a.fileno(), POLLIN | POLLHUP],
        [server.fileno(), POLLIN | POLLHUP],
      ]),
    )
  })

  // Windows (wine 8): after the SO_LINGER {1, 0} close the next recv gives EOF (0), not
  // ECONNRESET: wine's reset reaches the peer as a plain end of stream.
  it.skipIf(process.platform === 'win32')(
    'reports a reset connection with POLLERR, and the error from the next call',
    () => {
      const p = poller(backend)
      const [client, server] = connectedPair(AF_INET)
      p.register(server, POLLIN)
      client.setsockopt(SOL_SOCKET, SO_LINGER, linger(1, 0))
      client.close()
      const [[fd, ev]] = p.poll(5) as [PollEvent]
      expect(fd).toBe(server.fileno())
      expect(ev & (POLLIN | POLLERR)).toBe(POLLIN | POLLERR)
      expect(server.tryRecvInto(Buffer.alloc(8))).toBe(-ECONNRESET)
    },
  )

  it('edge-triggered: reports new data at least once per arrival', () => {
    const p = poller(backend)
    const [a, b] = pair()
    p.register(a, POLLIN | POLLER_EDGE)
    b.sendall('x')
    expect(p.poll(5)).toEqual([[a.fileno(), POLLIN]])
    // epoll may stay silent now (the data is not new), poll(2) reports it again: both allowed.
    b.sendall('y')
    expect(p.poll(5)).toEqual([[a.fileno(), POLLIN]])
    const buf = Buffer.alloc(8)
    expect(a.tryRecvInto(buf)).toBe(2)
    expect(a.tryRecvInto(buf)).toBe(-EAGAIN)
  })

  it('one-shot: one report, then silent until modify re-arms it', () => {
    const p = poller(backend)
    const [a, b] = pair()
    p.register(a, POLLIN | POLLER_ONESHOT)
    b.sendall('x')
    expect(p.poll(5)).toEqual([[a.fileno(), POLLIN]])
    expect(p.poll(0)).toEqual([])
    expect(p.poll(0.02)).toEqual([])
    p.modify(a, POLLIN | POLLER_ONESHOT)
    expect(p.poll(0)).toEqual([[a.fileno(), POLLIN]])
    expect(p.poll(0)).toEqual([])
    // Still registered: unregister works, register again is EEXIST until then.
    expect(socketError(() => p.register(a, POLLIN)).code).toBe(errname('EEXIST'))
    p.unregister(a)
  })

  it('maxevents caps one poll; the rest come with the next polls', () => {
    const p = poller(backend)
    const fds: number[] = []
    for (let i = 0; i < 3; i++) {
      const [a, b] = pair()
      p.register(a, POLLIN)
      b.sendall('x')
      fds.push(a.fileno())
    }
    const seen = new Set<number>()
    for (let i = 0; i < 3; i++) {
      const got = p.poll(5, 1)
      expect(got).toHaveLength(1)
      seen.add((got[0] as PollEvent)[0])
    }
    expect([...seen].sort()).toEqual([...fds].sort())
    expect(p.poll(0, 64)).toHaveLength(3)
  })

  it('reports only the ready ones among 200 registered pairs', () => {
    const p = poller(backend)
    const socks: [Socket, Socket][] = []
    for (let i = 0; i < 200; i++) {
      const [a, b] = pair()
      p.register(a, POLLIN)
      socks.push([a, b])
    }
    const ready = [3, 57, 101, 150, 199]
    for (const i of ready) socks[i]?.[1].sendall('x')
    const want = ready.map((i) => [socks[i]?.[0].fileno(), POLLIN] as PollEvent)
    expect(sorted(p.poll(5))).toEqual(sorted(want))
  })

  it('EEXIST for a second register, ENOENT for modify/unregister of an unknown fd', () => {
    const p = poller(backend)
    const [a, b] = pair()
    p.register(a, POLLIN)
    const ctl = p.backend === 'epoll' ? 'epoll_ctl' : p.backend === 'kqueue' ? 'kevent' : 'poll'
    for (const err of [
      socketError(() => p.register(a, POLLIN)),
      socketError(() => p.register(a.fileno(), POLLOUT)),
    ]) {
      expect(err.code).toBe(errname('EEXIST'))
      expect(err.errno).toBe(errno.EEXIST)
      expect(err.syscall).toBe(ctl)
      expect(err.message).toBe(`${ctl} EEXIST`)
    }
    for (const err of [
      socketError(() => p.modify(b, POLLIN)),
      socketError(() => p.unregister(b)),
    ]) {
      expect(err.code).toBe(errname('ENOENT'))
      expect(err.errno).toBe(errno.ENOENT)
      expect(err.syscall).toBe(ctl)
    }
  })

  it('EBADF for an fd that is not open, a closed Socket, and a closed Poller', () => {
    const p = poller(backend)
    for (const fn of [
      () => p.register(NEVER_OPEN, POLLIN),
      () => p.modify(NEVER_OPEN, POLLIN),
      () => p.unregister(NEVER_OPEN),
    ]) {
      const err = socketError(fn)
      expect(err.code).toBe(errname('EBADF'))
      expect(err.errno).toBe(errno.EBADF)
    }
    const [a] = pair()
    a.close()
    expect(socketError(() => p.register(a, POLLIN)).code).toBe(errname('EBADF'))
    p.close()
    const [c] = pair()
    expect(socketError(() => p.register(c, POLLIN)).code).toBe(errname('EBADF'))
    expect(socketError(() => p.poll(0)).code).toBe(errname('EBADF'))
    expect(socketError(() => p.watch(() => {})).code).toBe(errname('EBADF'))
  })

  it('a Socket closed while registered: unregister(sock) says EBADF and forgets it', () => {
    const p = poller(backend)
    const [a] = pair()
    p.register(a, POLLIN)
    a.close()
    expect(socketError(() => p.unregister(a)).code).toBe(errname('EBADF'))
    // The number may come back for a new socket, which registers cleanly.
    const [c, d] = pair()
    p.register(c, POLLIN)
    d.sendall('x')
    expect(p.poll(5)).toEqual([[c.fileno(), POLLIN]])
  })

  it('close() is idempotent; fileno() is -1 and closed true afterwards', () => {
    const p = poller(backend)
    const [a] = pair()
    p.register(a, POLLIN)
    p.close()
    p.close()
    expect(p.fileno()).toBe(-1)
    expect(p.closed).toBe(true)
    expect(p.backend).toBe(backend ?? Poller.available()[0])
    // The registered socket is not the poller's: it stays open.
    expect(a.fileno()).toBeGreaterThanOrEqual(0)
  })

  it('Symbol.dispose closes it', () => {
    let fd: number
    {
      using p = new Poller(backend === undefined ? {} : { backend })
      fd = p.fileno()
      expect(p.closed).toBe(false)
    }
    if (fd >= 0 && hasProcFds) expect(existsSync(`/proc/self/fd/${fd}`)).toBe(false)
  })

  it('rejects bad arguments before any native call', () => {
    const p = poller(backend)
    const [a] = pair()
    expect(() => p.register('3' as unknown as number)).toThrow(TypeError)
    expect(() => p.register({} as unknown as number)).toThrow(TypeError)
    expect(() => p.register(-1)).toThrow(RangeError)
    expect(() => p.register(1.5)).toThrow(RangeError)
    expect(() => p.register(a, -1)).toThrow(RangeError)
    expect(() => p.register(a, 1 << 20)).toThrow(RangeError)
    expect(() => p.register(a, 'x' as unknown as number)).toThrow(TypeError)
    expect(() => p.modify(a, undefined as unknown as number)).toThrow(TypeError)
    expect(() => p.poll(-1)).toThrow(RangeError)
    expect(() => p.poll(Number.NaN)).toThrow(RangeError)
    expect(() => p.poll('1' as unknown as number)).toThrow(TypeError)
    expect(() => p.poll(0, 0)).toThrow(RangeError)
    expect(() => p.poll(0, 1.5)).toThrow(RangeError)
    expect(() => p.watch('cb' as unknown as () => void)).toThrow(TypeError)
    // Named, with what was received; never a native conversion message.
    const undef = { fileno: () => undefined as unknown as number }
    for (const call of [() => p.register(undef), () => p.modify(undef, POLLIN)]) {
      expect(call).toThrow(
        /^The "target\.fileno\(\)" argument must be of type number\. Received undefined$/,
      )
    }
    expect(() => p.register('3' as unknown as number)).toThrow(/Received type string \('3'\)$/)
    expect(() => p.register(new Map() as never)).toThrow(/Received an instance of Map$/)
    expect(() => p.watch(5 as never)).toThrow(/"cb" argument .* Received type number \(5\)$/)
    // None of these registered anything.
    p.register(a, POLLIN)
  })
})

describe('Poller construction', () => {
  it('lists the available backends, best first', () => {
    const list = Poller.available()
    expect(list.length).toBeGreaterThanOrEqual(1)
    expect(list).toContain('poll')
    expect(list[list.length - 1]).toBe('poll')
  })

  it('rejects an unknown backend with TypeError', () => {
    expect(() => new Poller({ backend: 'select' as PollerBackend })).toThrow(TypeError)
    expect(() => new Poller(null as unknown as object)).toThrow(TypeError)
  })

  const missing = (['epoll', 'kqueue'] as const).filter((b) => !Poller.available().includes(b))
  it.skipIf(missing.length === 0)('ENOSYS for a backend this platform lacks', () => {
    const err = socketError(() => new Poller({ backend: missing[0] as PollerBackend }))
    expect(err.code).toBe(errname('ENOSYS'))
    expect(err.errno).toBe(errno.ENOSYS)
  })

  it.skipIf(!hasProcFds)('closes its fds: the fd count returns to baseline', () => {
    const count = () => readdirSync('/proc/self/fd').length
    const [a] = pair()
    const before = count()
    for (let i = 0; i < 50; i++) {
      const p = new Poller()
      p.register(a, POLLIN)
      p.watch(() => {})
      p.close()
    }
    expect(count()).toBe(before)
  })

  it('exports the mode flags above the poll(2) bits', () => {
    expect(POLLER_EDGE & 0xffff).toBe(0)
    expect(POLLER_ONESHOT & 0xffff).toBe(0)
    expect(POLLER_EDGE & POLLER_ONESHOT).toBe(0)
  })
})

describe.each(backends)('Poller.watch on the %s', (_name, backend) => {
  it('delivers the ready fds of one loop turn in ONE call', async () => {
    const p = poller(backend)
    const pairs = [pair(), pair(), pair()]
    for (const [a] of pairs) p.register(a, POLLIN)
    const w = watching(p)
    for (const [, b] of pairs) b.sendall('x')
    const batch = await w.next()
    expect(sorted(batch)).toEqual(sorted(pairs.map(([a]) => [a.fileno(), POLLIN] as PollEvent)))
  })

  it('runs on the event loop while a timer runs, batch after batch', async () => {
    const p = poller(backend)
    const [a, b] = pair()
    p.register(a, POLLIN)
    const buf = Buffer.alloc(64)
    let ticks = 0
    const seen: { ticks: number; events: PollEvent[] }[] = []
    let done: () => void = () => {}
    const finished = new Promise<void>((r) => {
      done = r
    })
    p.watch((events) => {
      seen.push({ ticks, events })
      // Drain until EAGAIN, as the portability rules say.
      while (a.tryRecvInto(buf) > 0);
      if (seen.length === 3) done()
    })
    const timer = setInterval(() => {
      ticks++
      if (ticks % 3 === 0) b.sendall('ping')
    }, 1)
    await finished
    clearInterval(timer)
    for (const s of seen) expect(s.events).toEqual([[a.fileno(), POLLIN]])
    // The timer ran between batches: the loop was never blocked.
    expect(seen[0]?.ticks).toBeGreaterThanOrEqual(3)
    expect(seen[2]?.ticks).toBeGreaterThan(seen[0]?.ticks as number)
  })

  it('is level-triggered: an undrained fd is delivered again on the next turns', async () => {
    const p = poller(backend)
    const [a, b] = pair()
    p.register(a, POLLIN)
    const w = watching(p)
    b.sendall('x')
    expect(await w.next()).toEqual([[a.fileno(), POLLIN]])
    expect(await w.next()).toEqual([[a.fileno(), POLLIN]])
    expect(a.recv(1).toString()).toBe('x')
    w.skip()
    b.sendall('y')
    expect(await w.next()).toEqual([[a.fileno(), POLLIN]])
  })

  it('among 200 watched pairs delivers only the ready ones', async () => {
    const p = poller(backend)
    const socks: [Socket, Socket][] = []
    for (let i = 0; i < 200; i++) {
      const [a, b] = pair()
      p.register(a, POLLIN)
      socks.push([a, b])
    }
    const w = watching(p)
    const ready = [0, 42, 99, 150, 199]
    for (const i of ready) socks[i]?.[1].sendall('x')
    const want = ready.map((i) => [socks[i]?.[0].fileno(), POLLIN] as PollEvent)
    expect(sorted(await w.next())).toEqual(sorted(want))
  })

  it('unwatch() stops delivery; the fds stay registered for poll()', async () => {
    const p = poller(backend)
    const [a, b] = pair()
    p.register(a, POLLIN)
    const w = watching(p)
    b.sendall('x')
    await w.next()
    expect(p.unwatch()).toBe(p)
    const count = w.batches.length
    await sleep(50)
    expect(w.batches.length).toBe(count)
    expect(p.poll(0)).toEqual([[a.fileno(), POLLIN]])
    // And watch() again resumes.
    const w2 = watching(p)
    expect(await w2.next()).toEqual([[a.fileno(), POLLIN]])
  })

  it('register, modify and unregister while watching update the watches', async () => {
    const p = poller(backend)
    const [a, b] = pair()
    const [c, d] = pair()
    p.register(a, POLLIN)
    const w = watching(p)
    p.register(c, POLLIN)
    d.sendall('x')
    expect(await w.next()).toEqual([[c.fileno(), POLLIN]])
    p.modify(c, POLLOUT)
    w.skip()
    expect(await w.next()).toEqual([[c.fileno(), POLLOUT]])
    p.modify(c, 0)
    p.unregister(c)
    w.skip()
    b.sendall('y')
    expect(await w.next()).toEqual([[a.fileno(), POLLIN]])
    p.unregister(a)
    w.skip()
    const count = w.batches.length
    await sleep(50)
    expect(w.batches.length).toBe(count)
  })

  // Windows: after modify() re-arms a, the batch also reports c, whose byte was read already
  // ([[c, POLLIN], [a, POLLIN]]): libuv's readiness there lags a read. Not understood yet.
  it.skipIf(process.platform === 'win32')(
    'one-shot: delivered once, then again only after modify',
    async () => {
      const p = poller(backend)
      const [a, b] = pair()
      const [c, d] = pair()
      p.register(a, POLLIN | POLLER_ONESHOT)
      p.register(c, POLLIN)
      const w = watching(p)
      b.sendall('x')
      expect(await w.next()).toEqual([[a.fileno(), POLLIN]])
      // `a` is still unread but disarmed: the next batch is c's alone.
      d.sendall('y')
      expect(await w.next()).toEqual([[c.fileno(), POLLIN]])
      expect(c.recv(1).toString()).toBe('y')
      w.skip()
      p.modify(a, POLLIN | POLLER_ONESHOT)
      expect(await w.next()).toEqual([[a.fileno(), POLLIN]])
    },
  )

  // Windows (wine 8): the first report is POLLIN alone (768), not POLLIN | POLLERR: wine's
  // SO_LINGER {1, 0} close seems to reach the peer as EOF rather than a reset.
  it.skipIf(process.platform === 'win32')(
    'a reset connection comes with POLLERR, then its hangup on the next turn',
    async () => {
      const p = poller(backend)
      const [client, server] = connectedPair(AF_INET)
      p.register(server, POLLIN)
      const buf = Buffer.alloc(8)
      const results: number[] = []
      const events: number[] = []
      let done: () => void = () => {}
      const finished = new Promise<void>((r) => {
        done = r
      })
      p.watch((batch) => {
        for (const [, ev] of batch) {
          events.push(ev)
          const n = server.tryRecvInto(buf)
          results.push(n)
          if (n === 0) {
            p.unregister(server)
            done()
          }
        }
      })
      client.setsockopt(SOL_SOCKET, SO_LINGER, linger(1, 0))
      client.close()
      await finished
      expect((events[0] as number) & (POLLIN | POLLERR)).toBe(POLLIN | POLLERR)
      expect(results[0]).toBe(-ECONNRESET)
      expect(results[results.length - 1]).toBe(0)
    },
  )

  it('serves TCP with tryAccept / tryRecvInto / trySend, no promise per call', async () => {
    const p = poller(backend)
    const srv = listener(AF_INET)
    p.register(srv, POLLIN)
    const buf = Buffer.alloc(1024)
    const conns = new Map<number, Socket>()
    p.watch((events) => {
      for (const [fd] of events) {
        if (fd === srv.fileno()) {
          for (;;) {
            const r = srv.tryAccept()
            if (typeof r === 'number') {
              expect(r).toBe(-EAGAIN)
              break
            }
            track(r[0])
            conns.set(r[0].fileno(), r[0])
            p.register(r[0], POLLIN)
          }
          continue
        }
        const conn = conns.get(fd) as Socket
        const n = conn.tryRecvInto(buf)
        if (n > 0) expect(conn.trySend(buf.subarray(0, n))).toBe(n)
        else if (n === 0) {
          p.unregister(conn)
          conns.delete(fd)
          conn.close()
        }
      }
    })
    const clients = [0, 1, 2].map(() => {
      const c = track(socket(AF_INET, SOCK_STREAM))
      c.connect(srv.getsockname())
      return c
    })
    for (const [i, c] of clients.entries()) {
      await c.sendallAsync(`hello ${i}`)
      const got = Buffer.alloc(16)
      const n = await c.recvIntoAsync(got)
      expect(got.subarray(0, n).toString()).toBe(`hello ${i}`)
    }
    expect(conns.size).toBe(3)
  })

  it('EEXIST when the fd is already watched by another watching Poller', () => {
    const p = poller(backend)
    const q = poller(backend)
    const [a] = pair()
    p.register(a, POLLIN)
    p.watch(() => {})
    q.watch(() => {})
    const err = socketError(() => q.register(a, POLLIN))
    expect(err.code).toBe(errname('EEXIST'))
    expect(err.syscall).toBe('watch')
    // Nothing half-done: q did not keep the registration.
    expect(socketError(() => q.unregister(a)).code).toBe(errname('ENOENT'))
    p.unregister(a)
    q.register(a, POLLIN)
  })

  // Windows: a closed socket's handle number is not handed out again at once (no lowest-free
  // fd rule), so there is no reused number to test with.
  it.skipIf(process.platform === 'win32')(
    'closing a registered Socket removes it, so its reused fd number works anywhere',
    async () => {
      const p = poller(backend)
      const [a] = pair()
      const fd = a.fileno()
      p.register(a, POLLIN)
      p.watch(() => {})
      a.close()
      // The number comes back for a new socket, whose async calls must not meet a stale watch.
      const [c, d] = pair()
      expect(c.fileno()).toBe(fd)
      const got = c.recvAsync(10, 0, { timeout: 5 })
      d.sendall('after')
      expect((await got).toString()).toBe('after')
    },
  )

  it('close() while watching stops delivery', async () => {
    const p = poller(backend)
    const [a, b] = pair()
    p.register(a, POLLIN)
    const w = watching(p)
    p.close()
    b.sendall('x')
    await sleep(50)
    expect(w.batches).toEqual([])
  })
})

describe('Poller.watch and process exit', () => {
  /** A .mjs that starts with a Poller `p` watching-ready on `a` (peer `b`), then `code`. */
  const pollerScript = (code: string) =>
    script(
      `import { Poller, socketpair, POLLIN } from '${DIST}'\nconst [a, b] = socketpair()\nconst p = new Poller()\np.register(a, POLLIN)\n${code}`,
    )

  /** Runs `pollerScript(code)` in a child node; resolves its exit code and output. */
  function run(code: string): Promise<{ code: number | null; out: string }> {
    const file = pollerScript(code)
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    return new Promise((resolve) => {
      child.on('exit', (exit) => {
        clearTimeout(killer)
        resolve({ code: exit, out })
      })
    })
  }

  // An unref'ed timer sends later: only a ref'ed watch keeps the process alive until then.
  const later = `setTimeout(() => b.send('x'), 200).unref()\n`
  const onEvent = `p.watch((ev) => { console.log('event', ev.length); p.close() })\n`

  it('a watching poller keeps the process alive', async () => {
    const res = await run(`${onEvent}${later}`)
    expect(res).toEqual({ code: 0, out: 'event 1\n' })
  })

  it('with unref() the process exits by itself', async () => {
    const res = await run(`${onEvent}p.unref()\n${later}console.log('ready')\n`)
    expect(res).toEqual({ code: 0, out: 'ready\n' })
  })

  it('ref() after unref() keeps it alive again, also for fds registered later', async () => {
    const res = await run(
      `p.unregister(a)\n${onEvent}p.unref().ref()\np.register(a, POLLIN)\n${later}`,
    )
    expect(res).toEqual({ code: 0, out: 'event 1\n' })
  })

  it('works in a worker thread, on its own loop, and the worker exits when done', async () => {
    const w = new Worker(
      pollerScript(`import { parentPort } from 'node:worker_threads'
p.watch((ev) => { parentPort.postMessage(ev); p.close(); a.close(); b.close() })
b.send('x')
`),
    )
    const messages: unknown[] = []
    w.on('message', (m) => messages.push(m))
    const code = await new Promise<number>((resolve, reject) => {
      w.on('error', reject)
      w.on('exit', resolve)
    })
    expect(code).toBe(0)
    expect(messages).toHaveLength(1)
    expect((messages[0] as PollEvent[])[0]?.[1]).toBe(POLLIN)
  })

  it('a callback that throws is an uncaught exception, and the next poller is still called', async () => {
    const res = await run(`const [c, d] = socketpair()
const q = new Poller()
q.register(c, POLLIN)
let calls = 0
process.on('uncaughtException', (e) => {
  console.log(e.message, 'after', calls, 'calls')
  if (e.message === 'second') { p.close(); q.close() }
})
p.watch(() => { calls++; throw new Error('first') })
q.watch(() => { calls++; throw new Error('second') })
b.send('x')
d.send('x')
`)
    // Both ready in one turn: both callbacks run before either error is reported.
    expect(res.out.split('\n').sort()).toEqual(['', 'first after 2 calls', 'second after 2 calls'])
    expect(res.code).toBe(0)
  })

  it('unwatch() lets the process exit', async () => {
    const res = await run(`${onEvent}p.unwatch()\n${later}console.log('ready')\n`)
    expect(res).toEqual({ code: 0, out: 'ready\n' })
  })
})
