// select(): Python's select.select on poll(2), with real sockets and raw fds.
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  errno,
  MSG_OOB,
  SOCK_STREAM,
  type Socket,
  SocketError,
  select,
  socket,
  socketpair,
} from '../ts/index.js'
import { closeTracked, errname, hasProcFds, track } from './helpers.js'

afterEach(closeTracked)

/** A connected socketpair, closed after the test. */
function pair(): [Socket, Socket] {
  const [a, b] = socketpair()
  track(a, b)
  return [a, b]
}

/** A TCP listener on 127.0.0.1 with an ephemeral port, closed after the test. */
function listener(): [Socket, number] {
  const s = socket(AF_INET, SOCK_STREAM)
  track(s)
  s.bind(['127.0.0.1', 0])
  s.listen()
  return [s, (s.getsockname() as [string, number])[1]]
}

function expectEBADF(fn: () => unknown, code = 'EBADF'): void {
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  expect(caught).toBeInstanceOf(SocketError)
  expect((caught as SocketError).code).toBe(errname(code))
  expect((caught as SocketError).errno).toBe(errno[code])
  expect((caught as SocketError).syscall).toBe('select')
}

describe('select returns the very objects it was given', () => {
  it('Sockets', () => {
    const [a, b] = pair()
    b.sendall('x')
    const [r, w, x] = select([a], [a], [a], 5)
    expect(r).toHaveLength(1)
    expect(r[0]).toBe(a)
    expect(w[0]).toBe(a)
    expect(x).toEqual([])
  })

  it('raw fd numbers', () => {
    const [a, b] = pair()
    b.sendall('x')
    const fd = a.fileno()
    const [r, w, x] = select([fd], [fd], [], 5)
    expect(r).toEqual([fd])
    expect(w).toEqual([fd])
    expect(x).toEqual([])
  })

  it('an object with fileno()', () => {
    const [a, b] = pair()
    b.sendall('x')
    const wrapper = { fileno: () => a.fileno(), label: 'mine' }
    const [r] = select([wrapper], [], [], 5)
    expect(r).toHaveLength(1)
    expect(r[0]).toBe(wrapper)
  })

  // Windows: select() takes sockets only (WSAENOTSOCK for a file).
  it.skipIf(process.platform === 'win32')(
    'an fd that is not a socket (/dev/null is always ready)',
    () => {
      const fd = openSync('/dev/null', 'r')
      try {
        expect(select([fd], [fd], [], 5)).toEqual([[fd], [fd], []])
      } finally {
        closeSync(fd)
      }
    },
  )

  it('mixed kinds in one list keep their order and identity', () => {
    const [a, b] = pair()
    const [c, d] = pair()
    b.sendall('x')
    d.sendall('y')
    const wrapper = { fileno: () => c.fileno() }
    const [r] = select([a, wrapper], [], [], 5)
    expect(r).toHaveLength(2)
    expect(r[0]).toBe(a)
    expect(r[1]).toBe(wrapper)
  })
})

describe('readiness', () => {
  it('readable only after data arrives', () => {
    const [a, b] = pair()
    expect(select([a], [], [], 0)).toEqual([[], [], []])
    b.sendall('hello')
    const [r] = select([a], [], [], 5)
    expect(r).toEqual([a])
    expect(a.recv(100).toString()).toBe('hello')
    expect(select([a], [], [], 0)[0]).toEqual([])
  })

  it('a listening socket is readable when a connection is pending', () => {
    const [srv, port] = listener()
    expect(select([srv], [], [], 0)[0]).toEqual([])
    const cli = socket(AF_INET, SOCK_STREAM)
    track(cli)
    cli.settimeout(10)
    cli.connect(['127.0.0.1', port])
    const [r] = select([srv], [], [], 5)
    expect(r).toEqual([srv])
    srv.settimeout(10)
    const [conn] = srv.accept()
    track(conn)
  })

  it('a fresh connected socket is writable', () => {
    const [a] = pair()
    const [r, w, x] = select([], [a], [], 5)
    expect(r).toEqual([])
    expect(w).toEqual([a])
    expect(x).toEqual([])
  })

  it('a fresh TCP connection is writable on both ends', () => {
    const [srv, port] = listener()
    const cli = socket(AF_INET, SOCK_STREAM)
    track(cli)
    cli.settimeout(10)
    cli.connect(['127.0.0.1', port])
    srv.settimeout(10)
    const [conn] = srv.accept()
    track(conn)
    expect(select([], [cli, conn], [], 5)[1]).toEqual([cli, conn])
  })

  it('xlist reports out-of-band data', () => {
    const [srv, port] = listener()
    const cli = socket(AF_INET, SOCK_STREAM)
    track(cli)
    cli.settimeout(10)
    cli.connect(['127.0.0.1', port])
    srv.settimeout(10)
    const [conn] = srv.accept()
    track(conn)
    expect(select([], [], [conn], 0)[2]).toEqual([])
    cli.send('!', MSG_OOB)
    expect(select([], [], [conn], 5)[2]).toEqual([conn])
  })

  it('readable at end of stream (peer closed)', () => {
    const [a, b] = pair()
    b.close()
    const [r] = select([a], [], [], 5)
    expect(r).toEqual([a])
    expect(a.recv(10).length).toBe(0)
  })

  it('readable after the peer shuts down writing', () => {
    const [srv, port] = listener()
    const cli = socket(AF_INET, SOCK_STREAM)
    track(cli)
    cli.settimeout(10)
    cli.connect(['127.0.0.1', port])
    srv.settimeout(10)
    const [conn] = srv.accept()
    track(conn)
    cli.close()
    expect(select([conn], [], [], 5)[0]).toEqual([conn])
    conn.settimeout(10)
    expect(conn.recv(10).length).toBe(0)
  })

  it('one fd in both rlist and wlist', () => {
    const [a, b] = pair()
    // Writable but not readable yet.
    expect(select([a], [a], [], 5)).toEqual([[], [a], []])
    b.sendall('x')
    expect(select([a], [a], [], 5)).toEqual([[a], [a], []])
  })

  it('duplicates are each reported', () => {
    const [a, b] = pair()
    b.sendall('x')
    const fd = a.fileno()
    const [r, w] = select([a, a, fd], [a, a], [], 5)
    expect(r).toEqual([a, a, fd])
    expect(w).toEqual([a, a])
  })

  it('only the ready ones, in the order given', () => {
    const [a, b] = pair()
    const [c, d] = pair()
    const [e, f] = pair()
    b.sendall('x')
    f.sendall('y')
    expect(select([a, c, e], [], [], 5)[0]).toEqual([a, e])
    expect(d.fileno()).toBeGreaterThan(0)
  })
})

describe('timeouts', () => {
  it('timeout 0 polls and returns at once, empty when idle', () => {
    const [a] = pair()
    expect(select([a], [], [a], 0)).toEqual([[], [], []])
  })

  it('a short timeout returns three empty lists when nothing is ready', () => {
    const [a] = pair()
    expect(select([a], [], [a], 0.05)).toEqual([[], [], []])
  })

  it('three empty lists with a timeout just waits and returns empty', () => {
    expect(select([], [], [], 0.01)).toEqual([[], [], []])
  })

  it('null or omitted timeout waits until ready (already ready here)', () => {
    const [a, b] = pair()
    b.sendall('x')
    expect(select([a], [], [], null)[0]).toEqual([a])
    expect(select([a], [], [])[0]).toEqual([a])
  })
})

describe('errors', () => {
  it('a closed Socket in a list is EBADF', () => {
    const [a, b] = pair()
    a.close()
    expectEBADF(() => select([a], [], [], 0))
    expectEBADF(() => select([b], [a], [], 0))
    expectEBADF(() => select([], [], [a], 0))
  })

  it('a raw fd number that is not open is EBADF', () => {
    const s = socket(AF_INET, SOCK_STREAM)
    const fd = s.fileno()
    s.close()
    // Nothing in this thread opened a file since, so the number is still free.
    if (hasProcFds) expect(existsSync(`/proc/self/fd/${fd}`)).toBe(false)
    // Winsock cannot tell a closed handle from a non-socket: WSAENOTSOCK for both.
    expectEBADF(() => select([fd], [], [], 0), process.platform === 'win32' ? 'ENOTSOCK' : 'EBADF')
  })

  it('a negative timeout is a RangeError', () => {
    const [a] = pair()
    expect(() => select([a], [], [], -1)).toThrow(RangeError)
    expect(() => select([a], [], [], Number.NaN)).toThrow(RangeError)
  })

  it('a fileno() answering undefined, or a hole, is a TypeError naming the item', () => {
    const [a, b] = pair()
    const undef = { fileno: () => undefined as unknown as number }
    expect(() => select([a, undef], [], [], 0)).toThrow(
      /^The "rlist\[1\]\.fileno\(\)" argument must be of type number\. Received undefined$/,
    )
    expect(() => select([], [], [b, undef], 0)).toThrow(/"xlist\[1\]\.fileno\(\)"/)
    const holey: Socket[] = [a]
    holey[2] = b
    for (const call of [() => select(holey, [], [], 0), () => select([], holey, [], 0)]) {
      expect(call).toThrow(TypeError)
      expect(call).toThrow(/list\[1\]" argument must be an fd number .* Received undefined$/)
    }
    expect(() => select([a, 'x' as never], [], [], 0)).toThrow(/Received type string \('x'\)$/)
    expect(() => select(new Set([a]) as never, [], [], 0)).toThrow(/Received an instance of Set$/)
  })

  it('a list changed by a fileno() call: select watches and returns the items it read', () => {
    const [a, b] = pair()
    b.send('x')
    // Emptied while read: no hole reaches the native call.
    const emptied: { fileno(): number }[] = [
      {
        fileno: () => {
          emptied.length = 0
          return a.fileno()
        },
      },
      a,
    ]
    const first = emptied[0]
    expect(select(emptied, [], [], 0)[0]).toEqual([first, a])
    // Grown at its front while read: the ready objects are still the ones given, in order.
    const grown: ({ fileno(): number } | number)[] = []
    const front = {
      fileno: () => {
        grown.unshift(-1)
        return a.fileno()
      },
    }
    grown.push(front, b)
    const [ready] = select(grown, [], [], 0)
    expect(ready).toHaveLength(1)
    expect(ready[0]).toBe(front)
  })

  it('a list that is not an array is a TypeError', () => {
    const [a] = pair()
    // biome-ignore lint/suspicious/noExplicitAny: testing bad input on purpose
    const bad = a as any
    expect(() => select(bad, [], [], 0)).toThrow(TypeError)
    // biome-ignore lint/suspicious/noExplicitAny: testing bad input on purpose
    expect(() => select([], null as any, [], 0)).toThrow(TypeError)
    // biome-ignore lint/suspicious/noExplicitAny: testing bad input on purpose
    expect(() => select([], [], 'abc' as any, 0)).toThrow(TypeError)
  })
})

/** The soft RLIMIT_NOFILE, from /proc/self/limits; undefined if it cannot be read. */
function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    if (!m) return undefined
    return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1])
  } catch {
    return undefined
  }
}

describe('no FD_SETSIZE limit', () => {
  const limit = openFileLimit()

  it.skipIf(limit === undefined || limit < 1100)('selects on a socket with fileno() > 1024', () => {
    const all: Socket[] = []
    try {
      let high: [Socket, Socket] | undefined
      while (!high) {
        const p = socketpair()
        all.push(...p)
        if (p[0].fileno() > 1024) high = p
        else if (all.length > 4000) throw new Error('fd numbers never rose above 1024')
      }
      const [a, b] = high
      expect(a.fileno()).toBeGreaterThan(1024)
      expect(select([a], [], [], 0)).toEqual([[], [], []])
      b.sendall('high')
      const [r, w] = select([a], [a], [], 5)
      expect(r).toEqual([a])
      expect(w).toEqual([a])
      // Low and high fds together.
      const low = all[0] as Socket
      const lowPeer = all[1] as Socket
      lowPeer.sendall('low')
      expect(select([low, a], [], [], 5)[0]).toEqual([low, a])
      expect(a.recv(10).toString()).toBe('high')
    } finally {
      for (const s of all) s.close()
    }
  })
})
