// bsd-sockets peers of crates/bench's bench-udp-server: every datagram sent back to its sender.
//
//   node benchmark/servers/bsd-udp.mjs --api batch|single|poller [--mode udp-echo] [--port 0]
//
// - batch: recvmanyInto + sendmany (recvmmsg/sendmmsg), blocking, in a worker thread.
// - single: recvfromInto + sendto per datagram, blocking, in a worker thread.
// - poller: tryRecvmanyInto + trySendmany on a non-blocking socket, driven by Poller.watch()
//   on the main thread's event loop (what a Node service would run).
// The main thread prints the port and holds the runner's stdin leash.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import {
  AF_INET,
  POLLIN,
  Poller,
  SO_RCVBUF,
  SO_SNDBUF,
  SOCK_DGRAM,
  SOL_SOCKET,
  socket,
} from '../../dist/index.js'
import { exitWhenStdinCloses, serverOptions, UDP_BUFFER } from './contract.mjs'

const BATCH = 64

function bound(port) {
  const s = socket(AF_INET, SOCK_DGRAM)
  s.setsockopt(SOL_SOCKET, SO_RCVBUF, UDP_BUFFER)
  s.setsockopt(SOL_SOCKET, SO_SNDBUF, UDP_BUFFER)
  s.bind(['127.0.0.1', port])
  return s
}

/** Buffers, lengths and senders of one batch, reused for every call. */
function batch() {
  const bufs = Array.from({ length: BATCH }, () => Buffer.allocUnsafe(2048))
  return { bufs, lengths: new Int32Array(BATCH), addresses: [] }
}

/** Echoes the `n` datagrams `b` holds (`trySendmany` when `tryIt`); returns the count sent. */
function echo(s, b, n, tryIt) {
  const replies = new Array(n)
  for (let i = 0; i < n; i++) replies[i] = b.bufs[i].subarray(0, b.lengths[i])
  const to = b.addresses.length === n ? b.addresses : b.addresses.slice(0, n)
  return tryIt ? s.trySendmany(replies, to) : s.sendmany(replies, to)
}

if (isMainThread) {
  const opts = serverOptions('bsd-udp', { api: 'batch' })
  if (opts.api === 'poller') {
    const s = bound(opts.port)
    s.setblocking(false)
    const b = batch()
    const options = { addresses: b.addresses }
    const poller = new Poller()
    poller.register(s, POLLIN)
    poller.watch(() => {
      // Drain: a level-triggered report comes again while datagrams remain, but one turn
      // taking several batches saves the loop's round trips.
      for (let k = 0; k < 4; k++) {
        const n = s.tryRecvmanyInto(b.bufs, b.lengths, options)
        if (n <= 0) break
        echo(s, b, n, true)
      }
    })
    process.stdout.write(`PORT ${s.getsockname()[1]}\n`)
  } else if (opts.api === 'batch' || opts.api === 'single') {
    const worker = new Worker(new URL(import.meta.url), { workerData: opts })
    worker.on('message', (port) => process.stdout.write(`PORT ${port}\n`))
    worker.on('error', (e) => {
      console.error(`bsd-udp: ${e.message}`)
      process.exit(1)
    })
  } else {
    console.error(`bsd-udp: unknown --api ${opts.api}`)
    process.exit(2)
  }
  exitWhenStdinCloses()
} else {
  const s = bound(workerData.port)
  parentPort.postMessage(s.getsockname()[1])
  if (workerData.api === 'batch') {
    const b = batch()
    const options = { addresses: b.addresses }
    for (;;) {
      const n = s.recvmanyInto(b.bufs, b.lengths, options)
      echo(s, b, n, false)
    }
  } else {
    const buf = Buffer.allocUnsafe(2048)
    for (;;) {
      const [n, from] = s.recvfromInto(buf)
      s.sendto(buf.subarray(0, n), from)
    }
  }
}
