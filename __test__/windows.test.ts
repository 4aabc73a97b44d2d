// What is Windows' own, seen from JS: Winsock's codes and names on the same error classes,
// the blocking mode that Winsock sockets emulate, and a clear error for what Windows lacks.
// Real loopback sockets in Windows Node (`npm run test:windows` runs it under wine); skipped
// elsewhere, where the rest of the suite covers the same calls.
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  BlockingIOError,
  ConnectionRefusedError,
  createServer,
  errno,
  MSG_DONTWAIT,
  POLLIN,
  Poller,
  SCM_RIGHTS,
  SO_EXCLUSIVEADDRUSE,
  SO_REUSEPORT,
  SOCK_STREAM,
  SOL_SOCKET,
  type SocketError,
  sendFds,
  socket,
  socketpair,
} from '../ts/index.js'
import { closeTracked, connectedPair, track } from './helpers.js'

afterEach(closeTracked)

/** The error `fn` throws (the test fails if it throws none). */
function thrown(fn: () => unknown): SocketError {
  try {
    fn()
  } catch (e) {
    return e as SocketError
  }
  throw new Error('expected an error')
}

describe.skipIf(process.platform !== 'win32')('Windows', () => {
  it("errno holds Winsock's numbers under the POSIX names, as Python's errno module there", () => {
    expect(errno.EAGAIN).toBe(10035)
    expect(errno.EAGAIN).toBe(errno.WSAEWOULDBLOCK)
    expect(errno.ECONNREFUSED).toBe(errno.WSAECONNREFUSED)
  })

  it('a refused connect is ConnectionRefusedError WSAECONNREFUSED, errno 10061', () => {
    const probe = track(socket())
    probe.bind(['127.0.0.1', 0])
    const port = (probe.getsockname() as [string, number])[1]
    probe.close() // nothing listens on the port now
    const err = thrown(() => track(socket()).connect(['127.0.0.1', port]))
    expect(err).toBeInstanceOf(ConnectionRefusedError)
    expect([err.code, err.errno]).toEqual(['WSAECONNREFUSED', errno.ECONNREFUSED])
  })

  it('MSG_DONTWAIT on a blocking socket: WSAEWOULDBLOCK at once, and it stays blocking', async () => {
    const [client, server] = connectedPair(AF_INET, null)
    const err = thrown(() => server.recv(10, MSG_DONTWAIT))
    expect(err).toBeInstanceOf(BlockingIOError)
    expect([err.code, err.errno]).toEqual(['WSAEWOULDBLOCK', 10035])
    expect(server.gettimeout()).toBe(null)
    client.send('late')
    expect(server.recv(10).toString()).toBe('late')
  })

  it('socketpair() is a loopback TCP pair, as Python makes it there', () => {
    const [a, b] = socketpair()
    track(a, b)
    expect([a.family, a.type]).toEqual([AF_INET, SOCK_STREAM])
    a.sendall('ping')
    expect(b.recv(4).toString()).toBe('ping')
  })

  it('what Windows lacks fails with a SocketError, the socket left as it was', () => {
    expect([SCM_RIGHTS, SO_REUSEPORT]).toEqual([undefined, undefined])
    const [a, b] = socketpair()
    track(a, b)
    expect(thrown(() => sendFds(a, ['x'], [a.fileno()])).code).toBe('WSAEOPNOTSUPP')
    expect(thrown(() => a.sendmsg(['x'])).code).toBe('WSAEOPNOTSUPP')
    expect(thrown(() => a.toNetSocket()).code).toBe('WSAEOPNOTSUPP')
    expect(thrown(() => createServer(['127.0.0.1', 0], { reusePort: true })).code).toBe(
      'WSAENOPROTOOPT',
    )
    expect(a.fileno()).toBeGreaterThan(0)
    expect(a.send('still open')).toBe(10)
  })

  it('SO_EXCLUSIVEADDRUSE keeps a second socket off the port', () => {
    const first = track(socket())
    first.setsockopt(SOL_SOCKET, SO_EXCLUSIVEADDRUSE as number, 1)
    first.bind(['127.0.0.1', 0])
    first.listen(1)
    const second = track(socket())
    const err = thrown(() => second.bind(first.getsockname() as [string, number]))
    expect(['WSAEADDRINUSE', 'WSAEACCES']).toContain(err.code)
  })

  it("the Poller runs on WSAPoll, and a handle goes through JS's fd number and back", () => {
    const [a, b] = socketpair()
    track(a, b)
    const p = new Poller()
    try {
      expect(p.backend).toBe('poll')
      p.register(b, POLLIN)
      a.send('x')
      expect(p.poll(5).map(([fd]) => fd)).toEqual([b.fileno()])
    } finally {
      p.close()
    }
  })
})
