// tcpInfo(): TCP_INFO's state and counters on real loopback connections.
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  SOCK_DGRAM,
  SOCK_STREAM,
  socket,
  socketpair,
} from '../ts/index.js'
import {
  closeTracked,
  connectedPair,
  errname,
  hasTcpInfo,
  hasUnixStream,
  listener,
  track,
} from './helpers.js'

afterEach(closeTracked)

const isLinux = process.platform === 'linux'

// Windows: no TCP_INFO; tcpInfo() is EOPNOTSUPP there (hasTcpInfo).
describe('tcpInfo', () => {
  it.skipIf(!hasTcpInfo)('a listening socket is LISTEN', () => {
    expect(listener(AF_INET).tcpInfo().state).toBe('LISTEN')
  })

  it.skipIf(!hasTcpInfo)(
    'a connected pair is ESTABLISHED and counts the bytes of a transfer',
    () => {
      const [client, server] = connectedPair(AF_INET)
      const before = client.tcpInfo()
      expect(before.state).toBe('ESTABLISHED')
      expect(server.tcpInfo().state).toBe('ESTABLISHED')
      const data = Buffer.alloc(100_000, 7)
      client.sendall(data)
      let got = 0
      while (got < data.length) got += server.recv(65536).length
      const after = client.tcpInfo()
      expect(after.rtt).toBeGreaterThan(0)
      expect(after.sndMss).toBeGreaterThan(0)
      expect(after.sndCwnd).toBeGreaterThan(0)
      expect(after.bytesSent).toBeGreaterThanOrEqual(data.length)
      if (isLinux) {
        expect(after.bytesAcked as number).toBeGreaterThanOrEqual(
          (before.bytesAcked as number) + data.length,
        )
        expect(server.tcpInfo().bytesReceived).toBeGreaterThanOrEqual(data.length)
      }
    },
  )

  it.skipIf(!hasTcpInfo)('every field is a number or null, with the documented names', () => {
    const info = listener(AF_INET).tcpInfo()
    expect(Object.keys(info)).toContain('bytesAcked')
    for (const [k, v] of Object.entries(info)) {
      if (k !== 'state') expect(v === null || typeof v === 'number').toBe(true)
    }
  })

  it.skipIf(!hasTcpInfo)('after the peer closes, the other side is CLOSE_WAIT', () => {
    const [client, server] = connectedPair(AF_INET)
    client.close()
    expect(server.recv(10).length).toBe(0)
    expect(server.tcpInfo().state).toBe('CLOSE_WAIT')
  })

  it('EOPNOTSUPP on UDP and Unix sockets, EBADF once closed', () => {
    const udp = track(socket(AF_INET, SOCK_DGRAM))
    expect(() => udp.tcpInfo()).toThrow(
      expect.objectContaining({ code: errname('EOPNOTSUPP'), syscall: 'getsockopt' }),
    )
    // IPv6 UDP: the kernel alone would say ENOPROTOOPT; the type is checked first.
    const udp6 = track(socket(AF_INET6, SOCK_DGRAM))
    expect(() => udp6.tcpInfo()).toThrow(expect.objectContaining({ code: errname('EOPNOTSUPP') }))
    if (hasUnixStream) {
      const [a, b] = socketpair(AF_UNIX, SOCK_STREAM)
      track(a, b)
      expect(() => a.tcpInfo()).toThrow(expect.objectContaining({ code: errname('EOPNOTSUPP') }))
    }
    const s = track(socket(AF_INET, SOCK_STREAM))
    s.close()
    expect(() => s.tcpInfo()).toThrow(expect.objectContaining({ code: errname('EBADF') }))
  })
})
