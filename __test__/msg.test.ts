// sendmsg/recvmsg: vectored I/O, descriptors passed for real (to and from Python child
// processes, to a worker thread), SOCK_SEQPACKET, peer credentials, the async variants, every
// errno these calls expose, and argument checks.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_UNIX,
  type AncillaryInput,
  BlockingIOError,
  BrokenPipeError,
  CMSG_LEN,
  CMSG_SPACE,
  fromfd,
  MSG_CTRUNC,
  MSG_TRUNC,
  recvFds,
  SCM_CREDENTIALS,
  SCM_RIGHTS,
  SO_PASSCRED,
  SO_PEERCRED,
  SOCK_DGRAM,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  SOL_SOCKET,
  type Socket,
  SocketError,
  sendFds,
  socket,
  socketpair,
  TimeoutError,
} from '../ts/index.js'
import {
  closeTracked,
  DIST,
  errname,
  fdFlags,
  hasMsg,
  hasProcFds,
  hasPython,
  hasUnixStream,
  O_CLOEXEC,
  openFdCount,
  python,
  tmpUnixPath,
  track,
} from './helpers.js'

afterEach(closeTracked)

/** Fds this test opened with fs, closed after it. */
const files: number[] = []
afterEach(() => {
  for (const fd of files.splice(0)) fs.closeSync(fd)
})

/** A tracked AF_UNIX pair, both timed so nothing hangs. */
function pair(type = SOCK_STREAM): [Socket, Socket] {
  const [a, b] = socketpair(AF_UNIX, type)
  track(a, b)
  a.settimeout(5)
  b.settimeout(5)
  return [a, b]
}

/** A temp file opened read/write holding `text`; its fd is closed after the test. */
function tempFile(text = ''): number {
  const path = join(fs.mkdtempSync(join(tmpdir(), 'bsd-sockets-msg-')), 'f')
  const fd = fs.openSync(path, 'w+')
  fs.rmSync(path)
  fs.writeSync(fd, text)
  files.push(fd)
  return fd
}

function expectCode(fn: () => unknown, code: string, syscall: string): SocketError {
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(SocketError)
  const err = caught as SocketError
  expect(err.code).toBe(errname(code))
  expect(err.syscall).toBe(syscall)
  return err
}

const cloexec = (fd: number) => (fdFlags(fd) & O_CLOEXEC) !== 0

// Windows: no recvmsg / sendmsg (EOPNOTSUPP).
describe.skipIf(!hasMsg)('vectored I/O', () => {
  it('sendmsg sends several buffers as one stream, in order', () => {
    const [a, b] = pair()
    const parts = ['head:', Buffer.alloc(0), new Uint16Array([0x6f62, 0x7964]), 'tail']
    expect(a.sendmsg(parts)).toBe(13)
    const got = Buffer.alloc(13)
    let n = 0
    while (n < 13) n += b.recvInto(got.subarray(n))
    expect(got.toString()).toBe('head:bodytail')
  })

  it('recvmsgInto scatters one datagram over two buffers', () => {
    const [a, b] = pair(SOCK_DGRAM)
    a.send('0123456789')
    const first = new DataView(new ArrayBuffer(4))
    const second = Buffer.alloc(16)
    const [n, anc, flags, addr] = b.recvmsgInto([first, second])
    expect([n, anc, flags, addr]).toEqual([10, [], 0, null])
    expect(Buffer.from(first.buffer).toString()).toBe('0123')
    expect(second.subarray(0, 6).toString()).toBe('456789')
  })

  it('recvmsg returns the data, no ancillary data, and flags 0 on a stream', () => {
    const [a, b] = pair()
    a.sendmsg(['hello'])
    expect(b.recvmsg(100, CMSG_SPACE(16))).toEqual([Buffer.from('hello'), [], 0, null])
  })

  it('sendmsg with an address on UDP loopback; recvmsg names the sender', () => {
    const rx = track(socket(AF_INET, SOCK_DGRAM))
    const tx = track(socket(AF_INET, SOCK_DGRAM))
    rx.settimeout(5)
    rx.bind(['127.0.0.1', 0])
    tx.bind(['127.0.0.1', 0])
    expect(tx.sendmsg(['da', 'ta'], [], 0, rx.getsockname())).toBe(4)
    const [data, anc, flags, addr] = rx.recvmsg(64)
    expect([data.toString(), anc, flags]).toEqual(['data', [], 0])
    expect(addr).toEqual(tx.getsockname())
  })

  it('a datagram longer than the buffers is cut and flagged MSG_TRUNC', () => {
    const [a, b] = pair(SOCK_DGRAM)
    a.sendmsg(['0123456789'])
    const [data, , flags] = b.recvmsg(4)
    expect(data.toString()).toBe('0123')
    expect(flags & MSG_TRUNC).toBe(MSG_TRUNC)
  })
})

// Windows: no recvmsg / sendmsg (EOPNOTSUPP).
describe.skipIf(!hasMsg)('SOCK_SEQPACKET', () => {
  it('bind/listen/accept/connect, record boundaries kept, MSG_TRUNC reported', () => {
    const path = tmpUnixPath()
    const srv = track(socket(AF_UNIX, SOCK_SEQPACKET))
    srv.settimeout(5)
    srv.bind(path)
    srv.listen(4)
    const client = track(socket(AF_UNIX, SOCK_SEQPACKET))
    client.settimeout(5)
    client.connect(path)
    const [conn] = srv.accept()
    track(conn)
    conn.settimeout(5)
    expect(conn.type).toBe(SOCK_SEQPACKET)
    client.send('one')
    client.sendmsg(['tw', 'o!'])
    client.send('a longer third record')
    expect(conn.recv(100).toString()).toBe('one')
    expect(conn.recv(100).toString()).toBe('two!')
    const [data, , flags] = conn.recvmsg(8)
    expect(data.toString()).toBe('a longer')
    expect(flags & MSG_TRUNC).toBe(MSG_TRUNC)
    // The cut-off rest is gone: the next read is the next record.
    client.send('next')
    expect(conn.recvmsg(8)[0].toString()).toBe('next')
    client.close()
    expect(conn.recv(8).length).toBe(0)
  })

  it('socketpair(AF_UNIX, SOCK_SEQPACKET) keeps boundaries', () => {
    const [a, b] = pair(SOCK_SEQPACKET)
    a.send('x')
    a.send('yz')
    expect(b.recvmsg(100)[0].toString()).toBe('x')
    expect(b.recvmsg(100)[0].toString()).toBe('yz')
  })
})

// Windows: no SCM_RIGHTS.
describe.skipIf(SCM_RIGHTS === undefined)('passing descriptors', () => {
  it.skipIf(!hasPython)(
    'sends an open file and a socket to a Python child (socket.recv_fds), which uses them',
    async () => {
      const [a, b] = pair()
      const file = tempFile()
      const [mine, theirs] = pair()
      const child = python(
        `
import os, socket
s = socket.socket(fileno=3)
msg, fds, flags, addr = socket.recv_fds(s, 100, 4)
os.write(fds[0], b"python wrote this")
t = socket.socket(fileno=fds[1])
t.sendall(b"via the passed socket")
print(msg.decode(), len(fds), flags)
`,
        [],
        { fds: [b.fileno()] },
      )
      expect(sendFds(a, ['two fds'], [file, theirs.fileno()])).toBe(7)
      const r = await child
      expect(r.stderr).toBe('')
      expect(r.stdout.trim()).toBe('two fds 2 0')
      const text = Buffer.alloc(64)
      expect(text.toString('utf8', 0, fs.readSync(file, text, 0, 64, 0))).toBe('python wrote this')
      expect(mine.recv(100).toString()).toBe('via the passed socket')
    },
  )

  it.skipIf(!hasPython)(
    'receives a file and a socket from a Python child (socket.send_fds) and uses them',
    async () => {
      const [a, b] = pair()
      const child = python(
        `
import os, socket, tempfile
s = socket.socket(fileno=3)
f = tempfile.TemporaryFile()
f.write(b"from python"); f.flush(); f.seek(0)
p1, p2 = socket.socketpair()
socket.send_fds(s, [b"here"], [f.fileno(), p1.fileno()])
p1.close()
p2.settimeout(5)
print(p2.recv(100).decode())
`,
        [],
        { fds: [b.fileno()] },
      )
      const [data, fds, flags, addr] = recvFds(a, 100, 4)
      expect([data.toString(), fds.length, flags, addr]).toEqual(['here', 2, 0, null])
      files.push(fds[0])
      const text = Buffer.alloc(64)
      expect(text.toString('utf8', 0, fs.readSync(fds[0], text, 0, 64, 0))).toBe('from python')
      if (hasProcFds) expect(fds.every(cloexec)).toBe(true)
      const sock = track(fromfd(fds[1])) // takes ownership of the socket fd
      expect(sock.type).toBe(SOCK_STREAM)
      sock.send('hi from node')
      sock.close()
      const r = await child
      expect(r.stderr).toBe('')
      expect(r.stdout.trim()).toBe('hi from node')
    },
  )

  it('raw SCM_RIGHTS through sendmsg/recvmsg: the received fd is the same open file', () => {
    const [a, b] = pair()
    const file = tempFile('shared offset')
    a.sendmsg(['x'], [[SOL_SOCKET, SCM_RIGHTS as number, Int32Array.of(file)]])
    const [, anc, flags] = b.recvmsg(10, CMSG_SPACE(4))
    expect(flags).toBe(0)
    expect(anc).toHaveLength(1)
    const [level, type, data] = anc[0]
    expect([level, type, data.length]).toEqual([SOL_SOCKET, SCM_RIGHTS, 4])
    const got = new Int32Array(data.buffer.slice(data.byteOffset, data.byteOffset + 4))[0]
    files.push(got)
    expect(got).not.toBe(file)
    // One open file description: writing through the copy moves the original's offset.
    fs.writeSync(got, '!')
    const buf = Buffer.alloc(20)
    expect(buf.toString('utf8', 0, fs.readSync(file, buf, 0, 20, 0))).toBe('shared offset!')
  })

  it('the same through every socket type and count: stream, seqpacket, datagram; 0 to 200 fds', () => {
    const file = tempFile('shared')
    for (const type of [SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM]) {
      const [a, b] = pair(type)
      for (const count of [0, 1, 3, 200]) {
        const fds = Array<number>(count).fill(file)
        expect(sendFds(a, [`${count} fds`], fds)).toBe(`${count} fds`.length)
        const [data, got, flags, addr] = recvFds(b, 64, count)
        files.push(...got)
        expect([data.toString(), got.length, flags]).toEqual([`${count} fds`, count, 0])
        expect(addr === null || addr === '').toBe(true)
        for (const fd of got) {
          expect(fs.fstatSync(fd).ino).toBe(fs.fstatSync(file).ino)
        }
      }
      // sendmsg with one SCM_RIGHTS message and recvmsg see the same fds.
      a.sendmsg(['raw'], [[SOL_SOCKET, SCM_RIGHTS as number, Int32Array.of(file)]])
      const [raw, anc] = b.recvmsg(8, CMSG_SPACE(4))
      const [level, kind, ints] = anc[0] as [number, number, Buffer]
      expect([raw.toString(), level, kind, ints.length]).toEqual(['raw', SOL_SOCKET, SCM_RIGHTS, 4])
      files.push(new Int32Array(Uint8Array.from(ints).buffer)[0] as number)
    }
  })

  it.skipIf(!hasProcFds)('received fds are CLOEXEC', () => {
    const [a, b] = pair()
    const file = tempFile()
    sendFds(a, ['x'], [file, file])
    const [, fds] = recvFds(b, 10, 2)
    files.push(...fds)
    expect(fds).toHaveLength(2)
    expect(fds.map(cloexec)).toEqual([true, true])
  })

  it.skipIf(!hasProcFds)('fds that do not fit (MSG_CTRUNC) are closed, not leaked', () => {
    const [a, b] = pair()
    const file = tempFile()
    const before = openFdCount()
    sendFds(a, ['x'], [file, file, file])
    const [data, none, flags] = recvFds(b, 10, 0)
    expect([data.toString(), none]).toEqual(['x', []])
    expect(flags & MSG_CTRUNC).toBe(MSG_CTRUNC)
    expect(openFdCount()).toBe(before)
    // No control buffer at all (the stream fast path): dropped and flagged too.
    sendFds(a, ['z'], [file, file])
    const [z, noAnc, flagsZ] = b.recvmsg(10)
    expect([z.toString(), noAnc, flagsZ & MSG_CTRUNC]).toEqual(['z', [], MSG_CTRUNC])
    expect(openFdCount()).toBe(before)
    sendFds(a, ['y'], [file, file, file])
    const [, one, flags1] = b.recvmsg(10, CMSG_LEN(4))
    expect(flags1 & MSG_CTRUNC).toBe(MSG_CTRUNC)
    expect(one).toHaveLength(1)
    const fd = new Int32Array(Uint8Array.from(one[0][2]).buffer)
    expect(fd).toHaveLength(1)
    expect(openFdCount()).toBe(before + 1)
    fs.closeSync(fd[0])
    expect(openFdCount()).toBe(before)
  })

  it('a worker thread blocked in recvFds gets a passed fd and reads the file', async () => {
    const [a, b] = pair()
    const file = tempFile('seen by the worker')
    const worker = new Worker(
      `
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
import(workerData.url).then((lib) => {
  const sock = lib.fromfd(workerData.fd)
  sock.settimeout(5)
  parentPort.postMessage('ready')
  const [data, fds] = lib.recvFds(sock, 100, 1) // blocks this thread only
  const buf = Buffer.alloc(64)
  const text = buf.toString('utf8', 0, fs.readSync(fds[0], buf, 0, 64, 0))
  fs.closeSync(fds[0])
  sock.close()
  parentPort.postMessage([data.toString(), text])
})
`,
      { eval: true, workerData: { url: DIST, fd: b.detach() } },
    )
    const messages: unknown[] = []
    const done = new Promise<unknown>((resolve, reject) => {
      worker.on('message', (m) => {
        messages.push(m)
        if (m === 'ready') sendFds(a, ['fd for you'], [file])
        else resolve(m)
      })
      worker.on('error', reject)
    })
    expect(await done).toEqual(['fd for you', 'seen by the worker'])
    await worker.terminate()
  })
})

// Windows: no recvmsg / sendmsg (EOPNOTSUPP).
describe.skipIf(!hasMsg)('async', () => {
  it('recvmsgAsync waits for a message with fds; sendmsgAsync sends one', async () => {
    const [a, b] = pair()
    const file = tempFile()
    const pending = b.recvmsgAsync(100, CMSG_SPACE(4))
    await new Promise((r) => setImmediate(r))
    expect(
      await a.sendmsgAsync(
        ['late ', 'news'],
        [[SOL_SOCKET, SCM_RIGHTS as number, Int32Array.of(file)]],
      ),
    ).toBe(9)
    const [data, anc, flags, addr] = await pending
    expect([data.toString(), anc.length, flags, addr]).toEqual(['late news', 1, 0, null])
    files.push(new Int32Array(Uint8Array.from(anc[0][2]).buffer)[0])
  })

  it('recvmsgIntoAsync waits, then scatters the message over the buffers with its fds', async () => {
    for (const type of [SOCK_STREAM, SOCK_SEQPACKET]) {
      const [a, b] = pair(type)
      const file = tempFile()
      const head = Buffer.alloc(5)
      const tail = new Uint8Array(10)
      const pending = b.recvmsgIntoAsync([head, tail], CMSG_SPACE(4))
      await new Promise((r) => setImmediate(r))
      a.sendmsg(['hello', ' world'], [[SOL_SOCKET, SCM_RIGHTS as number, Int32Array.of(file)]])
      const [n, anc, flags, addr] = await pending
      expect([n, head.toString(), Buffer.from(tail.subarray(0, 6)).toString()]).toEqual([
        11,
        'hello',
        ' world',
      ])
      expect([anc.length, flags, addr]).toEqual([1, 0, null])
      const got = new Int32Array(Uint8Array.from(anc[0][2]).buffer)[0] as number
      files.push(got)
      expect(cloexec(got)).toBe(true)
      // Without control data, a stream takes the fd-only path: an end of stream resolves 0.
      const none = b.recvmsgIntoAsync([head])
      a.close()
      expect((await none)[0]).toBe(0)
    }
  })

  it('recvmsgIntoAsync rejects: bad arguments first, then timeout, abort and close', async () => {
    const [a, b] = pair()
    const one = Buffer.alloc(8)
    await expect(b.recvmsgIntoAsync([one, one.subarray(4)])).rejects.toThrow(/overlapping/)
    await expect(b.recvmsgIntoAsync(['x' as never])).rejects.toBeInstanceOf(TypeError)
    await expect(b.recvmsgIntoAsync([one], 2 ** 21)).rejects.toBeInstanceOf(RangeError)
    await expect(b.recvmsgIntoAsync([one], 0, 0, { timeout: 0.01 })).rejects.toMatchObject({
      code: errname('ETIMEDOUT'),
      syscall: 'recvmsg',
    })
    const ac = new AbortController()
    const aborted = b.recvmsgIntoAsync([one], 0, 0, { signal: ac.signal })
    ac.abort()
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' })
    const closed = b.recvmsgIntoAsync([one], CMSG_SPACE(4))
    b.close()
    await expect(closed).rejects.toMatchObject({ code: errname('EBADF') })
    await expect(b.recvmsgIntoAsync([one])).rejects.toMatchObject({ code: errname('EBADF') })
    a.close()
  })

  it('sendmsgAsync waits for room, then sends', async () => {
    const [a, b] = pair()
    a.setblocking(false)
    b.setblocking(false)
    const chunk = Buffer.alloc(65536)
    while (a.trySend(chunk) > 0) {}
    let sent = false
    const pending = a.sendmsgAsync(['after ', 'the flood']).then((n) => {
      sent = true
      return n
    })
    await new Promise((r) => setImmediate(r))
    expect(sent).toBe(false)
    const sink = Buffer.alloc(65536)
    for (let i = 0; i < 100_000 && !sent; i++) {
      b.tryRecvInto(sink)
      await new Promise((r) => setImmediate(r))
    }
    expect(await pending).toBe(15)
  })

  it('rejects with the errno, and with TypeError for bad arguments', async () => {
    const lone = track(socket(AF_UNIX, SOCK_STREAM))
    await expect(lone.sendmsgAsync(['x'])).rejects.toMatchObject({
      code: errname('ENOTCONN'),
      syscall: 'sendmsg',
    })
    const [a] = pair()
    await expect(a.recvmsgAsync(10, 2 ** 21)).rejects.toBeInstanceOf(RangeError)
    await expect(a.sendmsgAsync('x' as never)).rejects.toBeInstanceOf(TypeError)
    await expect(a.recvmsgAsync(10, 0, 0, { timeout: 0.01 })).rejects.toBeInstanceOf(TimeoutError)
  })
})

// Windows: no peer credentials (no SO_PEERCRED / LOCAL_PEERCRED).
describe.skipIf(process.platform === 'win32')('peer credentials', () => {
  it('over a socketpair: our own pid, uid and gid', () => {
    const [a, b] = pair()
    for (const s of [a, b]) {
      const c = s.peerCredentials()
      expect([c.uid, c.gid]).toEqual([process.getuid?.(), process.getgid?.()])
      if (c.pid !== null) expect(c.pid).toBe(process.pid)
    }
  })

  it.skipIf(!hasPython)('of a Python child that connected: its pid', async () => {
    const path = tmpUnixPath()
    const srv = track(socket(AF_UNIX, SOCK_STREAM))
    srv.settimeout(5)
    srv.bind(path)
    srv.listen(1)
    const child = python(
      `
import os, socket, sys
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
print(os.getpid(), flush=True)
c.settimeout(5)
c.recv(1)
`,
      [path],
    )
    const [conn] = srv.accept()
    track(conn)
    const cred = conn.peerCredentials()
    conn.send('x')
    const r = await child
    expect(r.stderr).toBe('')
    if (cred.pid !== null) expect(cred.pid).toBe(Number(r.stdout.trim()))
    expect(cred.uid).toBe(process.getuid?.())
    if (SO_PEERCRED !== undefined) {
      // The raw struct ucred through the buffer form of getsockopt: { pid, uid, gid } as C ints.
      const raw = conn.getsockopt(SOL_SOCKET, SO_PEERCRED, 12)
      const ints = new Int32Array(Uint8Array.from(raw).buffer)
      expect([...ints]).toEqual([cred.pid, cred.uid, cred.gid])
    }
  })

  it.skipIf(SO_PASSCRED === undefined)('SCM_CREDENTIALS arrives as generic ancillary data', () => {
    const [a, b] = pair(SOCK_DGRAM)
    b.setsockopt(SOL_SOCKET, SO_PASSCRED as number, 1)
    a.send('who')
    const [, anc] = b.recvmsg(10, CMSG_SPACE(12))
    expect(anc).toHaveLength(1)
    const [level, type, data] = anc[0]
    expect([level, type]).toEqual([SOL_SOCKET, SCM_CREDENTIALS])
    expect(Buffer.isBuffer(data)).toBe(true)
    expect(data.readInt32LE(0) === process.pid || data.readInt32BE(0) === process.pid).toBe(true)
  })

  it('ENOTCONN without a peer, EOPNOTSUPP outside AF_UNIX', () => {
    const lone = track(socket(AF_UNIX, SOCK_STREAM))
    const err = expectCode(() => lone.peerCredentials(), 'ENOTCONN', 'getsockopt')
    expect(err.errno).toBeGreaterThan(0)
    const udp = track(socket(AF_INET, SOCK_DGRAM))
    expectCode(() => udp.peerCredentials(), 'EOPNOTSUPP', 'getsockopt')
  })
})

// Windows: no recvmsg / sendmsg (EOPNOTSUPP).
describe.skipIf(!hasMsg)('errnos', () => {
  it('EAGAIN: non-blocking recvmsg with nothing queued', () => {
    const [, b] = pair()
    b.setblocking(false)
    const err = expectCode(() => b.recvmsg(10, 64), 'EAGAIN', 'recvmsg')
    expect(err).toBeInstanceOf(BlockingIOError)
    expectCode(() => b.recvmsgInto([Buffer.alloc(4)]), 'EAGAIN', 'recvmsg')
    expectCode(() => recvFds(b, 10, 1), 'EAGAIN', 'recvmsg')
  })

  it('ETIMEDOUT: timed recvmsg with nothing queued', () => {
    const [, b] = pair()
    b.settimeout(0.01)
    expect(expectCode(() => b.recvmsg(10), 'ETIMEDOUT', 'recvmsg')).toBeInstanceOf(TimeoutError)
    expectCode(() => recvFds(b, 10, 1), 'ETIMEDOUT', 'recvmsg')
  })

  it('EBADF: an fd that is not open in SCM_RIGHTS; nothing is sent', () => {
    const [a, b] = pair()
    expectCode(() => sendFds(a, ['x'], [2 ** 31 - 1]), 'EBADF', 'sendmsg')
    a.close()
    expect(b.recv(10).length).toBe(0)
  })

  it('ENOTCONN on an unconnected Unix stream, EDESTADDRREQ on an unconnected UDP socket', () => {
    const lone = track(socket(AF_UNIX, SOCK_STREAM))
    expectCode(() => lone.sendmsg(['x']), 'ENOTCONN', 'sendmsg')
    const udp = track(socket(AF_INET, SOCK_DGRAM))
    expectCode(() => udp.sendmsg(['x']), 'EDESTADDRREQ', 'sendmsg')
  })

  it('EMSGSIZE: more buffers than IOV_MAX, or a datagram too long', () => {
    const [a] = pair()
    // More buffers than IOV_MAX: refused before any allocation or syscall.
    expect(() => a.sendmsg(Array(4096).fill('z'))).toThrow(RangeError)
    const [d] = pair(SOCK_DGRAM)
    expectCode(() => d.sendmsg([Buffer.alloc(4 << 20)]), 'EMSGSIZE', 'sendmsg')
  })

  it('EINVAL: a SOL_SOCKET control message type the kernel does not know', () => {
    const [a] = pair()
    expectCode(
      () => a.sendmsg(['x'], [[SOL_SOCKET, 0x7fff, new Uint8Array(4)]]),
      'EINVAL',
      'sendmsg',
    )
  })

  it('EPIPE after the peer closed, with SIGPIPE at its default action in a child', () => {
    const code = `
const lib = await import(process.env.BSD_DIST)
// Node ignores SIGPIPE; libuv resets it to SIG_DFL when its last listener goes.
const noop = () => {}
process.on('SIGPIPE', noop)
process.off('SIGPIPE', noop)
const [a, b] = lib.socketpair()
b.close()
try { a.sendmsg(['x', 'y']); console.log('sent') } catch (e) { console.log(e.code) }
try { lib.sendFds(a, ['x'], [0]); console.log('sent') } catch (e) { console.log(e.code) }
`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      env: { ...process.env, BSD_DIST: DIST },
      encoding: 'utf8',
      timeout: 15_000,
    })
    expect(r.signal).toBeNull()
    expect(r.stdout.trim().split('\n')).toEqual(['EPIPE', 'EPIPE'])
    // The same through the in-process class.
    const [a, b] = pair()
    b.close()
    expect(expectCode(() => a.sendmsg(['x']), 'EPIPE', 'sendmsg')).toBeInstanceOf(BrokenPipeError)
  })

  it('EBADF from a closed socket, without touching the fd number', () => {
    const [a] = pair()
    a.close()
    expectCode(() => a.sendmsg(['x']), 'EBADF', 'sendmsg')
    expectCode(() => sendFds(a, ['x'], [0]), 'EBADF', 'sendmsg')
    expectCode(() => a.recvmsg(1), 'EBADF', 'recvmsg')
    expectCode(() => a.recvmsg(1, 64), 'EBADF', 'recvmsg')
    expectCode(() => recvFds(a, 1, 1), 'EBADF', 'recvmsg')
    expectCode(() => a.peerCredentials(), 'EBADF', 'getsockopt')
  })
})

// Windows: no recvmsg / sendmsg (EOPNOTSUPP).
describe.skipIf(!hasMsg)('lists are any iterable, as in Python', () => {
  const rights = (data: ArrayBufferView): AncillaryInput => [SOL_SOCKET, SCM_RIGHTS as number, data]

  /** Yields `items`; `state.closed` turns true once the consumer stopped it (its finally ran). */
  function* yielding<T>(items: T[], state = { closed: false }): Generator<T> {
    try {
      yield* items
    } finally {
      state.closed = true
    }
  }

  it('sendmsg / recvmsgInto take generators and Sets for buffers and ancdata', () => {
    const [a, b] = pair()
    const file = tempFile('one file')
    const sent = a.sendmsg(
      yielding<string | Uint8Array>(['ab', Buffer.from('cd'), Uint8Array.of(0x65)]),
      yielding([rights(Int32Array.of(file))]),
    )
    expect(sent).toBe(5)
    const head = Buffer.alloc(2)
    const tail = Buffer.alloc(3)
    const [n, anc] = b.recvmsgInto(new Set([head, tail]), CMSG_SPACE(4))
    expect([n, `${head}${tail}`, anc.length]).toEqual([5, 'abcde', 1])
    const got = new Int32Array(Uint8Array.from(anc[0]?.[2] as Buffer).buffer)[0] as number
    files.push(got)
    expect(fs.fstatSync(got).ino).toBe(fs.fstatSync(file).ino)
  })

  it('sendFds / recvFds: buffers and fds from generators (and an Int32Array of fds)', () => {
    for (const type of [SOCK_STREAM, SOCK_DGRAM]) {
      const [a, b] = pair(type)
      const file = tempFile()
      expect(sendFds(a, yielding(['x', 'y']), yielding([file, file]))).toBe(2)
      const [data, fds] = recvFds(b, 10, 4)
      files.push(...fds)
      expect([data.toString(), fds.length]).toEqual(['xy', 2])
      expect(sendFds(a, new Set(['z']), Int32Array.of(file))).toBe(1)
      const [, more] = recvFds(b, 10, 4)
      files.push(...more)
      expect(more).toHaveLength(1)
    }
  })

  it('the async forms and the batch calls take them too', async () => {
    const [a, b] = pair()
    const into = Buffer.alloc(4)
    const pending = b.recvmsgIntoAsync(yielding([into]))
    expect(await a.sendmsgAsync(yielding(['pi', 'ng']))).toBe(4)
    expect((await pending)[0]).toBe(4)
    expect(into.toString()).toBe('ping')
    const [c, d] = pair(SOCK_DGRAM)
    expect(c.sendmany(yielding(['one', 'two']))).toBe(2)
    const bufs = [Buffer.alloc(8), Buffer.alloc(8)]
    const lengths = new Int32Array(2)
    expect(d.recvmanyInto(yielding(bufs), lengths)).toBe(2)
    expect(bufs.map((x, i) => x.toString('utf8', 0, lengths[i]))).toEqual(['one', 'two'])
  })

  it('an endless generator meets the bound (RangeError), is stopped, and nothing is sent', () => {
    const [a, b] = pair()
    function* forever<T>(item: T, state: { closed: boolean }): Generator<T> {
      try {
        for (;;) yield item
      } finally {
        state.closed = true
      }
    }
    type State = { closed: boolean }
    const buffers = /"buffers" argument holds more than 1024 buffers/
    const cases: [(s: State) => unknown, RegExp][] = [
      [(s) => a.sendmsg(forever('x', s)), buffers],
      [(s) => b.recvmsgInto(forever(Buffer.alloc(1), s)), buffers],
      [
        (s) => a.sendmsg(['x'], forever(rights(new Uint8Array(0)), s)),
        /"ancdata" argument holds more than \d+ control messages/,
      ],
      [(s) => sendFds(a, ['x'], forever(0, s)), /"fds" argument holds more than \d+ fds/],
      [(s) => a.sendmany(forever('x', s)), buffers],
    ]
    for (const [call, message] of cases) {
      const state = { closed: false }
      expect(() => call(state)).toThrow(message)
      expect(state.closed).toBe(true)
    }
    // An array over the bound says how long it is.
    expect(() => a.sendmsg(new Array(1025).fill('x'))).toThrow(/holds 1025 buffers; at most 1024/)
    b.setblocking(false)
    expectCode(() => b.recv(1), 'EAGAIN', 'recv')
  })

  it('every refusal names the type it received (never an empty name)', () => {
    const [a, b] = pair()
    const gen = (function* () {})()
    for (const [call, message] of [
      [() => a.sendmsg(5 as never), /"buffers" argument .* Received type number \(5\)$/],
      [() => a.sendmsg('str' as never), /Received type string \('str'\)$/],
      [() => a.sendmsg(Buffer.from('x') as never), /Received an instance of Buffer$/],
      [() => a.sendmsg(['x'], {} as never), /"ancdata" .* Received an instance of Object$/],
      [
        () => a.sendmsg(['x'], [gen] as never),
        /"ancdata\[0\]" .* Received an instance of Generator$/,
      ],
      [() => a.sendmsg([gen] as never), /"buffers\[0\]" .* Received an instance of Generator$/],
      [
        () => a.sendmsg([Object.create(null)] as never),
        /Received an object with a null prototype$/,
      ],
      [() => a.sendmsg([new Map()] as never), /Received an instance of Map$/],
      [() => a.sendmsg([() => 1] as never), /Received function \(anonymous\)$/],
      [() => a.sendmsg([undefined] as never), /"buffers\[0\]" .* Received undefined$/],
      [() => b.recvmsgInto(new WeakSet() as never), /Received an instance of WeakSet$/],
      [() => sendFds(a, ['x'], 3 as never), /"fds" .* Received type number \(3\)$/],
      [() => sendFds({} as never, ['x'], [0]), /"sock" .* Received an instance of Object$/],
      [() => b.recvmanyInto([Buffer.alloc(1)], [0] as never), /Received an array of 1 item$/],
    ] as const) {
      expect(call).toThrow(TypeError)
      expect(call).toThrow(message)
    }
  })
})

describe.skipIf(!hasUnixStream)('argument checks (before any syscall)', () => {
  it('TypeError / RangeError naming the argument', () => {
    const [a, b] = pair()
    expect(() => a.sendmsg('x' as never)).toThrow(/"buffers" argument must be an array/)
    expect(() => a.sendmsg(['x', 5 as never])).toThrow(TypeError)
    expect(() => a.sendmsg(['x', 5 as never])).toThrow(/buffers\[1\]/)
    expect(() => a.sendmsg(['x'], [[SOL_SOCKET, SCM_RIGHTS] as never])).toThrow(/ancdata\[0\]/)
    expect(() => a.sendmsg(['x'], [[SOL_SOCKET, 1.5, new Uint8Array(4)]])).toThrow(RangeError)
    expect(() => a.sendmsg(['x'], [[SOL_SOCKET, SCM_RIGHTS as number, 'str' as never]])).toThrow(
      TypeError,
    )
    expect(() =>
      a.sendmsg(['x'], [[SOL_SOCKET, SCM_RIGHTS as number, Buffer.alloc(2 ** 20 + 1)]]),
    ).toThrow(RangeError)
    expect(() => a.sendmsg(['x'], [], 'flags' as never)).toThrow(/"flags"/)
    expect(() => a.sendmsg(['x'], [], 0, ['127.0.0.1', 1] as never)).toThrow(TypeError)
    expect(() => b.recvmsg(-1)).toThrow(RangeError)
    expect(() => b.recvmsg(10, 2 ** 20 + 1)).toThrow(/"ancbufsize"/)
    expect(() => b.recvmsgInto(Buffer.alloc(4) as never)).toThrow(/"buffers" argument/)
    const mem = Buffer.alloc(16)
    expect(() => b.recvmsgInto([mem.subarray(0, 8), mem.subarray(4, 12)])).toThrow(/overlapping/)
    expect(() => b.recvmsgInto([new Uint8Array(mem.buffer, mem.byteOffset, 8), mem])).toThrow(
      /overlapping/,
    )
    // Past 16 buffers the check sorts by offset; an empty view in between hides nothing.
    const many = Array.from(
      { length: 20 },
      (_, i) => new Uint8Array(mem.buffer, mem.byteOffset + (i % 16), 0),
    )
    many.push(mem.subarray(0, 8), mem.subarray(4, 4), mem.subarray(6, 7))
    expect(() => b.recvmsgInto(many)).toThrow(/overlapping/)
    expect(() => sendFds(a, ['x'], [-1])).toThrow(/"fds\[0\]"/)
    expect(() => sendFds(a, ['x'], [1.5])).toThrow(RangeError)
    expect(() => sendFds(a, ['x'], 3 as never)).toThrow(TypeError)
    expect(() => sendFds({} as never, ['x'], [0])).toThrow(/"sock"/)
    expect(() => recvFds(b, 10, -1)).toThrow(/"maxfds"/)
    expect(() => CMSG_LEN(-1)).toThrow(RangeError)
    expect(() => CMSG_SPACE(2 ** 32 - 1)).toThrow(RangeError)
    // Nothing was sent by any of these.
    b.setblocking(false)
    expectCode(() => b.recv(1), 'EAGAIN', 'recv')
  })

  it.skipIf(!hasPython)(
    "CMSG_LEN / CMSG_SPACE: RangeError exactly where Python's raise OverflowError",
    async () => {
      // Python's largest accepted length for each (the result must fit a C int), found by
      // bisection on this machine, and the sizes it gives there.
      const res = await python(`
import json, socket
def largest(f):
    lo, hi = 0, 2 ** 32
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            f(mid)
            lo = mid
        except OverflowError:
            hi = mid
    return lo
n, m = largest(socket.CMSG_LEN), largest(socket.CMSG_SPACE)
print(json.dumps([n, socket.CMSG_LEN(n), m, socket.CMSG_SPACE(m)]))
`)
      expect(res.stderr).toBe('')
      const [lenMax, len, spaceMax, space] = JSON.parse(res.stdout) as number[]
      expect(CMSG_LEN(lenMax as number)).toBe(len)
      expect(CMSG_SPACE(spaceMax as number)).toBe(space)
      for (const call of [
        () => CMSG_LEN((lenMax as number) + 1),
        () => CMSG_SPACE((spaceMax as number) + 1),
        () => CMSG_LEN(2 ** 31),
        () => CMSG_SPACE(2 ** 32 - 1),
        () => CMSG_LEN(2 ** 53),
      ]) {
        expect(call).toThrow(RangeError)
        expect(call).toThrow(/"length"/)
      }
    },
  )

  // Windows: no recvmsg (EOPNOTSUPP).
  it.skipIf(!hasMsg)('disjoint views of one ArrayBuffer are fine; CMSG_LEN <= CMSG_SPACE', () => {
    const [a, b] = pair(SOCK_DGRAM)
    a.send('abcdef')
    const mem = new ArrayBuffer(6)
    const r = b.recvmsgInto([new Uint8Array(mem, 3, 3), new Uint8Array(mem, 0, 3)])
    expect(r[0]).toBe(6)
    expect(Buffer.from(mem).toString()).toBe('defabc')
    // 20 one-byte views of one ArrayBuffer, out of order (the sorted check): fine.
    a.send('0123456789abcdefghij')
    const wide = new ArrayBuffer(20)
    const views = Array.from({ length: 20 }, (_, i) => new Uint8Array(wide, 19 - i, 1))
    expect(b.recvmsgInto(views)[0]).toBe(20)
    expect(Buffer.from(wide).toString()).toBe('jihgfedcba9876543210')
    expect(CMSG_LEN(0)).toBeGreaterThan(0)
    expect(CMSG_LEN(4)).toBeLessThanOrEqual(CMSG_SPACE(4))
  })
})
