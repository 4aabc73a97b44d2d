// The bsd-sockets Poller peer of bench-server: the same level-triggered loop in JS, with
// Poller.watch() delivering each loop turn's ready fds and the no-throw calls tryAccept /
// tryRecvInto / trySend returning -errno (no promise, no exception per operation). Like the
// native server: accept until EAGAIN, one recv and one send per readiness event, and while an
// echo waits for room the connection is watched for POLLOUT only. Uses the built package
// (npm run build first).
//
//   node benchmark/servers/bsd-poller.mjs [--mode echo|sink|close] [--port 0] [--backlog 4096]
import { constants } from 'node:os'
import { IPPROTO_TCP, POLLIN, POLLOUT, Poller, TCP_NODELAY } from '../../dist/index.js'
import { exitWhenStdinCloses, serverOptions } from './contract.mjs'
import { tcpListener } from './listener.mjs'

const opts = serverOptions('bsd-poller')
const echo = opts.mode === 'echo'
const closeAtOnce = opts.mode === 'close'

const EAGAIN = constants.errno.EAGAIN
const ECONNABORTED = constants.errno.ECONNABORTED

const srv = tcpListener(opts)
srv.setblocking(false)
const listenFd = srv.fileno()
process.stdout.write(`PORT ${srv.getsockname()[1]}\n`)

exitWhenStdinCloses()

/**
 * Connections by fd. `pending` holds echo bytes the socket would not take yet.
 * @type {({ sock: import('../../dist/index.js').Socket, pending: Buffer | null } | undefined)[]}
 */
const conns = []
const buf = Buffer.allocUnsafe(65536)
// The view sent back for a read of `viewLen` bytes, kept: ping-pong reads one size.
let view = buf
let viewLen = buf.length

const poller = new Poller()
poller.register(listenFd, POLLIN)

function acceptAll() {
  for (;;) {
    const r = srv.tryAccept()
    if (typeof r === 'number') {
      if (r === -ECONNABORTED) continue
      // EAGAIN: drained. EMFILE/ENFILE: leave the rest queued until some close.
      return
    }
    const [conn] = r
    if (closeAtOnce) {
      conn.close()
      continue
    }
    conn.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
    const fd = conn.fileno()
    conns[fd] = { sock: conn, pending: null }
    poller.register(fd, POLLIN)
  }
}

function drop(fd, c) {
  poller.unregister(fd)
  conns[fd] = undefined
  c.sock.close()
}

poller.watch((events) => {
  for (let i = 0; i < events.length; i++) {
    const fd = events[i][0]
    if (fd === listenFd) {
      acceptAll()
      continue
    }
    const c = conns[fd]
    if (c === undefined) continue
    const sock = c.sock
    if (c.pending !== null) {
      // Waiting for room to finish an echo.
      const sent = sock.trySend(c.pending)
      if (sent === -EAGAIN) continue
      if (sent < 0) {
        drop(fd, c)
        continue
      }
      if (sent === c.pending.length) {
        c.pending = null
        poller.modify(fd, POLLIN)
      } else {
        c.pending = c.pending.subarray(sent)
      }
      continue
    }
    const n = sock.tryRecvInto(buf)
    if (n > 0) {
      if (!echo) continue
      if (n !== viewLen) {
        view = buf.subarray(0, n)
        viewLen = n
      }
      const sent = sock.trySend(view)
      if (sent === n) continue
      if (sent < 0 && sent !== -EAGAIN) {
        drop(fd, c)
        continue
      }
      c.pending = Buffer.from(buf.subarray(Math.max(sent, 0), n))
      poller.modify(fd, POLLOUT)
    } else if (n !== -EAGAIN) {
      // 0 = end of stream: close (in sink mode the client waits for it); < 0: an error.
      drop(fd, c)
    }
  }
})
