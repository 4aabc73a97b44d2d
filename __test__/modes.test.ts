// Python's three modes: blocking, non-blocking (EAGAIN / EINPROGRESS), timed (ETIMEDOUT).
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_UNIX,
  BlockingIOError,
  errno,
  fromfd,
  getdefaulttimeout,
  SO_ERROR,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  SocketError,
  select,
  setdefaulttimeout,
  socket,
  socketpair,
  TimeoutError,
} from '../ts/index.js'
import {
  CONNECT_PENDING,
  closeTracked,
  connectedPair,
  errname,
  hasUnixStream,
  listener,
  track,
} from './helpers.js'

afterEach(closeTracked)

/** What `fn` threw (fails the test if it did not throw). */
function thrown(fn: () => unknown): SocketError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(SocketError)
    return e as SocketError
  }
  throw new Error('expected the call to throw')
}

describe('mode switches', () => {
  it('a new socket blocks: getblocking() true, gettimeout() null', () => {
    const s = track(socket())
    expect(s.getblocking()).toBe(true)
    expect(s.gettimeout()).toBeNull()
    expect(s.timeout).toBeNull()
  })

  it('setblocking(false) is timeout 0', () => {
    const s = track(socket())
    s.setblocking(false)
    expect(s.gettimeout()).toBe(0)
    expect(s.getblocking()).toBe(false)
    s.setblocking(true)
    expect(s.gettimeout()).toBeNull()
    expect(s.getblocking()).toBe(true)
  })

  it('settimeout(2.5) is timed, and still "blocking" as Python says', () => {
    const s = track(socket())
    s.settimeout(2.5)
    expect(s.gettimeout()).toBe(2.5)
    expect(s.timeout).toBe(2.5)
    expect(s.getblocking()).toBe(true)
    s.settimeout(null)
    expect(s.gettimeout()).toBeNull()
    s.settimeout(0)
    expect(s.gettimeout()).toBe(0)
    expect(s.getblocking()).toBe(false)
  })

  it('rejects bad timeouts before any syscall', () => {
    const s = track(socket())
    expect(() => s.settimeout(-1)).toThrow(RangeError)
    expect(() => s.settimeout(Number.NaN)).toThrow(RangeError)
    expect(() => s.settimeout(Number.POSITIVE_INFINITY)).toThrow(RangeError)
    expect(() => s.settimeout('1' as unknown as number)).toThrow(TypeError)
    expect(() => s.setblocking(1 as unknown as boolean)).toThrow(TypeError)
    expect(s.gettimeout()).toBeNull()
  })

  it.skipIf(SOCK_NONBLOCK === undefined)('SOCK_NONBLOCK in the type starts non-blocking', () => {
    const s = track(socket(AF_INET, SOCK_STREAM | (SOCK_NONBLOCK ?? 0)))
    expect(s.type).toBe(SOCK_STREAM)
    expect(s.getblocking()).toBe(false)
    expect(thrown(() => s.accept()).code).toBe(errname('EINVAL'))
  })

  it('dup() keeps the mode; fromfd() reads O_NONBLOCK back', () => {
    const [a, b] = socketpair()
    track(a, b)
    a.settimeout(1.5)
    const d = track(a.dup())
    expect(d.gettimeout()).toBe(1.5)
    b.setblocking(false)
    const adopted = track(fromfd(b.detach()))
    // Windows: Winsock cannot say whether a socket is non-blocking (FIONBIO only sets it), so
    // fromfd() cannot read the mode back there.
    if (process.platform !== 'win32') expect(adopted.gettimeout()).toBe(0)
  })
})

describe('non-blocking', () => {
  it('recv with nothing to read throws BlockingIOError EAGAIN', () => {
    const [, server] = connectedPair()
    server.setblocking(false)
    const err = thrown(() => server.recv(10))
    expect(err).toBeInstanceOf(BlockingIOError)
    expect(err.name).toBe('BlockingIOError')
    expect(err.code).toBe(errname('EAGAIN'))
    expect(err.errno).toBe(errno.EAGAIN)
    expect(err.syscall).toBe('recv')
    expect(err.message).toBe(`recv ${errname('EAGAIN')}`)
  })

  it('recvInto / recvfrom with nothing to read throw EAGAIN too', () => {
    const [a, b] = socketpair()
    track(a, b)
    a.setblocking(false)
    expect(thrown(() => a.recvInto(Buffer.alloc(4)))).toMatchObject({
      code: errname('EAGAIN'),
      syscall: 'recv',
    })
    expect(thrown(() => a.recvfrom(4))).toMatchObject({
      code: errname('EAGAIN'),
      syscall: 'recvfrom',
    })
  })

  it('recv returns what is there', () => {
    const [client, server] = connectedPair()
    server.setblocking(false)
    client.sendall('ready')
    // The bytes are in flight on loopback; wait for readability with select, not a sleep.
    expect(select([server], [], [], 5)[0]).toEqual([server])
    expect(server.recv(10).toString()).toBe('ready')
  })

  it('accept with no pending connection throws EAGAIN', () => {
    const l = listener()
    l.setblocking(false)
    const err = thrown(() => l.accept())
    expect(err).toBeInstanceOf(BlockingIOError)
    expect(err.code).toBe(errname('EAGAIN'))
    expect(err.errno).toBe(errno.EAGAIN)
    expect(err.syscall).toBe('accept')
  })

  it('send on a full buffer throws EAGAIN', () => {
    const [a, b] = socketpair()
    track(a, b)
    a.setblocking(false)
    const chunk = Buffer.alloc(64 * 1024)
    let err: SocketError | undefined
    for (let i = 0; i < 10_000 && !err; i++) {
      try {
        a.send(chunk)
      } catch (e) {
        err = e as SocketError
      }
    }
    expect(err).toBeInstanceOf(BlockingIOError)
    expect(err).toMatchObject({ code: errname('EAGAIN'), syscall: 'send' })
  })

  it('connect to a listener throws EINPROGRESS, then select() says writable and SO_ERROR is 0', () => {
    const l = listener()
    const c = track(socket())
    c.setblocking(false)
    const err = thrown(() => c.connect(l.getsockname()))
    expect(err).toBeInstanceOf(BlockingIOError)
    expect(err.code).toBe(errname(CONNECT_PENDING))
    expect(err.errno).toBe(errno[CONNECT_PENDING])
    expect(err.syscall).toBe('connect')
    const [host, port] = l.getsockname() as [string, number]
    expect(err.message).toBe(`connect ${errname(CONNECT_PENDING)} ${host}:${port}`)
    expect(err.address).toBe(host)
    expect(err.port).toBe(port)

    const [r, w, x] = select([], [c], [], 5)
    expect(r).toEqual([])
    expect(w).toEqual([c])
    expect(x).toEqual([])
    expect(c.getsockopt(SOL_SOCKET, SO_ERROR)).toBe(0)
    expect(c.getpeername()).toEqual(l.getsockname())
    const [conn, addr] = l.accept()
    track(conn)
    expect(addr).toEqual(c.getsockname())
  })

  it('connectEx returns EINPROGRESS, then 0 or EISCONN once connected', () => {
    const l = listener()
    const c = track(socket())
    c.setblocking(false)
    expect(c.connectEx(l.getsockname())).toBe(errno[CONNECT_PENDING])
    expect(select([], [c], [], 5)[1]).toEqual([c])
    expect([0, errno.EISCONN]).toContain(c.connectEx(l.getsockname()))
    // Once connected, Linux answers EISCONN from then on.
    expect([0, errno.EISCONN]).toContain(c.connectEx(l.getsockname()))
    expect(c.getsockopt(SOL_SOCKET, SO_ERROR)).toBe(0)
  })

  it.skipIf(!hasUnixStream)(
    'a non-blocking AF_UNIX connect to a listening path completes at once',
    () => {
      const l = listener(AF_UNIX)
      const c = track(socket(AF_UNIX))
      c.setblocking(false)
      expect(c.connectEx(l.getsockname())).toBe(0)
      expect(c.getpeername()).toBe(l.getsockname())
    },
  )
})

describe('timed', () => {
  it('recv on an idle socket throws TimeoutError ETIMEDOUT', () => {
    const [, server] = connectedPair()
    server.settimeout(0.05)
    const err = thrown(() => server.recv(10))
    expect(err).toBeInstanceOf(TimeoutError)
    expect(err.name).toBe('TimeoutError')
    expect(err.code).toBe(errname('ETIMEDOUT'))
    expect(err.errno).toBe(errno.ETIMEDOUT)
    expect(err.syscall).toBe('recv')
    expect(err.message).toBe(`recv ${errname('ETIMEDOUT')}`)
    // The socket is still usable afterwards, and still timed.
    expect(server.gettimeout()).toBe(0.05)
  })

  it('recvInto / recvfrom time out the same way', () => {
    const [a, b] = socketpair()
    track(a, b)
    a.settimeout(0.05)
    expect(thrown(() => a.recvInto(Buffer.alloc(4)))).toMatchObject({
      code: errname('ETIMEDOUT'),
      syscall: 'recv',
    })
    expect(thrown(() => a.recvfromInto(Buffer.alloc(4)))).toMatchObject({
      code: errname('ETIMEDOUT'),
      syscall: 'recvfrom',
    })
  })

  it('accept with no pending connection throws ETIMEDOUT', () => {
    const l = listener()
    l.settimeout(0.05)
    const err = thrown(() => l.accept())
    expect(err).toBeInstanceOf(TimeoutError)
    expect(err.code).toBe(errname('ETIMEDOUT'))
    expect(err.syscall).toBe('accept')
  })

  it('recv succeeds at once when data is already there', () => {
    const [client, server] = connectedPair()
    client.sendall('waiting for you')
    server.settimeout(5)
    let got = ''
    while (got.length < 15) got += server.recv(100).toString()
    expect(got).toBe('waiting for you')
  })

  it('recv returns the empty Buffer when the peer closes', () => {
    const [client, server] = connectedPair()
    client.close()
    server.settimeout(5)
    expect(server.recv(10).length).toBe(0)
  })

  it('connect to a listener completes within the timeout', () => {
    const l = listener()
    const c = track(socket())
    c.settimeout(5)
    c.connect(l.getsockname())
    expect(c.getpeername()).toEqual(l.getsockname())
    expect(c.gettimeout()).toBe(5)
    const [conn] = l.accept()
    track(conn)
    c.sendall('timed')
    conn.settimeout(5)
    expect(conn.recv(10).toString()).toBe('timed')
  })

  it('sendall to a peer that never reads throws TimeoutError with bytesSent', () => {
    const [a, b] = socketpair()
    track(a, b)
    a.settimeout(0.05)
    const data = Buffer.alloc(8 * 1024 * 1024)
    const err = thrown(() => a.sendall(data))
    expect(err).toBeInstanceOf(TimeoutError)
    expect(err.code).toBe(errname('ETIMEDOUT'))
    expect(err.syscall).toBe('send')
    expect(err.bytesSent).toBeGreaterThan(0)
    expect(err.bytesSent).toBeLessThan(data.length)
  })
})

describe('setdefaulttimeout', () => {
  afterEach(() => setdefaulttimeout(null))

  it('every new socket starts with it: socket, socketpair, fromfd, accept', () => {
    expect(getdefaulttimeout()).toBeNull()
    const before = track(socket())
    setdefaulttimeout(0.05)
    expect(getdefaulttimeout()).toBe(0.05)
    expect(before.gettimeout()).toBeNull()
    const s = track(socket())
    expect(s.gettimeout()).toBe(0.05)
    const [a, b] = socketpair()
    track(a, b)
    expect([a.gettimeout(), b.gettimeout()]).toEqual([0.05, 0.05])
    // The timeout is real: a recv with nothing to read ends in ETIMEDOUT.
    expect(thrown(() => a.recv(1))).toBeInstanceOf(TimeoutError)
    const spare = socket()
    const fd = spare.detach()
    expect(track(fromfd(fd)).gettimeout()).toBe(0.05)
    const srv = listener()
    const client = track(socket())
    client.connect(srv.getsockname())
    const [conn] = srv.accept()
    track(conn)
    expect(conn.gettimeout()).toBe(0.05)
    setdefaulttimeout(0)
    expect(track(socket()).getblocking()).toBe(false)
    setdefaulttimeout(null)
    expect(track(socket()).gettimeout()).toBeNull()
  })

  it('refuses what settimeout refuses, and keeps the old default', () => {
    setdefaulttimeout(2)
    expect(() => setdefaulttimeout(-1)).toThrow(RangeError)
    expect(() => setdefaulttimeout('1' as never)).toThrow(TypeError)
    expect(getdefaulttimeout()).toBe(2)
  })
})
