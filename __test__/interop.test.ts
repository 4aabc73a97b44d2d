// Python's own `socket` module as the peer, in a child process: TCP, UDP and Unix, both ways.
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { AF_INET, AF_UNIX, SHUT_WR, SOCK_DGRAM, SOCK_STREAM, socket } from '../ts/index.js'
import { closeTracked, hasPython, hasUnixStream, tmpUnixPath, track } from './helpers.js'

afterEach(closeTracked)

const KILL_AFTER_MS = 15_000

interface Peer {
  /** Resolves with the child's first line of output (a port, or 'ready'). */
  firstLine: Promise<string>
  /** Resolves when the child exits. */
  done: Promise<{ stdout: string; stderr: string; code: number | null }>
  child: ChildProcess
}

const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL')
})

/**
 * Starts `python3 -c code ...args`. Spawning is synchronous: the child runs once this returns,
 * so the test may then block in a socket call (with a timeout) before awaiting anything.
 */
function pythonPeer(code: string, args: readonly (string | number)[] = []): Peer {
  // The alarm ends a stuck child even while this thread is blocked in a socket call.
  const script = `import signal; signal.alarm(${KILL_AFTER_MS / 1000})\n${code}`
  const child = spawn('python3', ['-c', script, ...args.map(String)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8')
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
  })
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: string) => {
      stdout += d
      const nl = stdout.indexOf('\n')
      if (nl !== -1) resolve(stdout.slice(0, nl))
    })
    child.on('close', (exit) =>
      reject(new Error(`python exited (${exit}) before a line: ${stdout} ${stderr}`)),
    )
    child.on('error', reject)
  })
  // Tests that never read the first line must not leave a rejection unhandled.
  firstLine.catch(() => {})
  const done = new Promise<{ stdout: string; stderr: string; code: number | null }>(
    (resolve, reject) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS)
      child.on('error', (e) => {
        clearTimeout(timer)
        reject(e)
      })
      child.on('close', (exit) => {
        clearTimeout(timer)
        resolve({ stdout, stderr, code: exit })
      })
    },
  )
  return { firstLine, done, child }
}

describe.skipIf(!hasPython)('Python socket as a peer', () => {
  it('a Python TCP client talks to our server', async () => {
    const srv = track(socket(AF_INET, SOCK_STREAM))
    srv.bind(['127.0.0.1', 0])
    srv.listen()
    const port = (srv.getsockname() as [string, number])[1]
    const peer = pythonPeer(
      `
import socket, sys
with socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10) as s:
    s.sendall(b'hello from python')
    s.shutdown(socket.SHUT_WR)
    data = b''
    while True:
        chunk = s.recv(1024)
        if not chunk:
            break
        data += chunk
    print(data.decode())
`,
      [port],
    )
    // The child is already running; block here (bounded) until it connects.
    srv.settimeout(10)
    const [conn, addr] = srv.accept()
    track(conn)
    expect(addr).toEqual(['127.0.0.1', expect.any(Number)])
    conn.settimeout(10)
    let got = Buffer.alloc(0)
    for (;;) {
      const chunk = conn.recv(1024)
      if (chunk.length === 0) break
      got = Buffer.concat([got, chunk])
    }
    expect(got.toString()).toBe('hello from python')
    conn.sendall(Buffer.concat([Buffer.from('echo: '), got]))
    conn.close()
    const res = await peer.done
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    expect(res.stdout.trim()).toBe('echo: hello from python')
  })

  it('our TCP client talks to a Python server', async () => {
    const peer = pythonPeer(`
import socket
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
    srv.bind(('127.0.0.1', 0))
    srv.listen(1)
    print(srv.getsockname()[1], flush=True)
    srv.settimeout(10)
    conn, addr = srv.accept()
    with conn:
        conn.settimeout(10)
        data = b''
        while not data.endswith(b'\\n'):
            chunk = conn.recv(1024)
            if not chunk:
                break
            data += chunk
        conn.sendall(data.upper())
        print(addr[0], addr[1])
`)
    const port = Number(await peer.firstLine)
    expect(port).toBeGreaterThan(0)
    const cli = track(socket(AF_INET, SOCK_STREAM))
    cli.settimeout(10)
    cli.connect(['127.0.0.1', port])
    cli.sendall('hello from node\n')
    let got = ''
    while (!got.endsWith('\n')) {
      const chunk = cli.recv(1024)
      if (chunk.length === 0) break
      got += chunk.toString()
    }
    expect(got).toBe('HELLO FROM NODE\n')
    const [, ourPort] = cli.getsockname() as [string, number]
    cli.close()
    const res = await peer.done
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    // Python saw our address as we see it.
    expect(res.stdout.trim().split('\n')[1]).toBe(`127.0.0.1 ${ourPort}`)
  })

  it('UDP: a Python sender to us, and our reply back', async () => {
    const s = track(socket(AF_INET, SOCK_DGRAM))
    s.bind(['127.0.0.1', 0])
    const port = (s.getsockname() as [string, number])[1]
    const peer = pythonPeer(
      `
import socket, sys
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.settimeout(10)
    s.bind(('127.0.0.1', 0))
    s.sendto(b'ping from python', ('127.0.0.1', int(sys.argv[1])))
    data, addr = s.recvfrom(1024)
    print(data.decode(), addr[1] == int(sys.argv[1]))
`,
      [port],
    )
    s.settimeout(10)
    const [data, from] = s.recvfrom(1024)
    expect(data.toString()).toBe('ping from python')
    expect(from).toEqual(['127.0.0.1', expect.any(Number)])
    expect(s.sendto(`pong to ${(from as [string, number])[1]}`, from)).toBeGreaterThan(0)
    const res = await peer.done
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    expect(res.stdout.trim()).toBe(`pong to ${(from as [string, number])[1]} True`)
  })

  it('UDP: we send to a Python receiver and get its reply', async () => {
    const peer = pythonPeer(`
import socket
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.bind(('127.0.0.1', 0))
    print(s.getsockname()[1], flush=True)
    s.settimeout(10)
    data, addr = s.recvfrom(1024)
    s.sendto(data.upper(), addr)
    print(addr[0], addr[1])
`)
    const port = Number(await peer.firstLine)
    const s = track(socket(AF_INET, SOCK_DGRAM))
    s.settimeout(10)
    s.sendto('ping from node', ['127.0.0.1', port])
    const [data, from] = s.recvfrom(1024)
    expect(data.toString()).toBe('PING FROM NODE')
    expect(from).toEqual(['127.0.0.1', port])
    const ourPort = (s.getsockname() as [string, number])[1]
    const res = await peer.done
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    expect(res.stdout.trim().split('\n')[1]).toBe(`127.0.0.1 ${ourPort}`)
  })

  it.skipIf(!hasUnixStream)('Unix stream: a Python client to our server', async () => {
    const path = tmpUnixPath()
    const srv = track(socket(AF_UNIX, SOCK_STREAM))
    srv.bind(path)
    srv.listen()
    const peer = pythonPeer(
      `
import socket, sys
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
    s.settimeout(10)
    s.connect(sys.argv[1])
    s.sendall(b'unix hello')
    s.shutdown(socket.SHUT_WR)
    print(s.recv(1024).decode(), s.getpeername() == sys.argv[1])
`,
      [path],
    )
    srv.settimeout(10)
    const [conn, addr] = srv.accept()
    track(conn)
    expect(addr).toBe('')
    conn.settimeout(10)
    let got = ''
    for (;;) {
      const chunk = conn.recv(1024)
      if (chunk.length === 0) break
      got += chunk.toString()
    }
    expect(got).toBe('unix hello')
    conn.sendall('unix reply')
    conn.close()
    const res = await peer.done
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    expect(res.stdout.trim()).toBe('unix reply True')
  })

  it.skipIf(!hasUnixStream)('Unix stream: our client to a Python server', async () => {
    const path = tmpUnixPath()
    const peer = pythonPeer(
      `
import socket, sys
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as srv:
    srv.bind(sys.argv[1])
    srv.listen(1)
    print('ready', flush=True)
    srv.settimeout(10)
    conn, addr = srv.accept()
    with conn:
        conn.settimeout(10)
        data = b''
        while True:
            chunk = conn.recv(1024)
            if not chunk:
                break
            data += chunk
        conn.sendall(data[::-1])
`,
      [path],
    )
    expect(await peer.firstLine).toBe('ready')
    const cli = track(socket(AF_UNIX, SOCK_STREAM))
    cli.settimeout(10)
    cli.connect(path)
    expect(cli.getpeername()).toBe(path)
    cli.sendall('abcdef')
    cli.shutdown(SHUT_WR)
    let got = ''
    for (;;) {
      const chunk = cli.recv(1024)
      if (chunk.length === 0) break
      got += chunk.toString()
    }
    expect(got).toBe('fedcba')
    const res = await peer.done
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
  })

  it('bulk data: 1 MiB from Python arrives intact', async () => {
    const srv = track(socket(AF_INET, SOCK_STREAM))
    srv.bind(['127.0.0.1', 0])
    srv.listen()
    const port = (srv.getsockname() as [string, number])[1]
    const peer = pythonPeer(
      `
import socket, sys, hashlib
data = bytes(i % 251 for i in range(1 << 20))
with socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10) as s:
    s.sendall(data)
print(hashlib.sha256(data).hexdigest())
`,
      [port],
    )
    srv.settimeout(10)
    const [conn] = srv.accept()
    track(conn)
    conn.settimeout(10)
    const buf = Buffer.alloc(1 << 20)
    let n = 0
    for (;;) {
      const got = conn.recvInto(buf.subarray(n))
      if (got === 0) break
      n += got
      if (n === buf.length) {
        expect(conn.recv(1).length).toBe(0)
        break
      }
    }
    expect(n).toBe(1 << 20)
    const res = await peer.done
    expect(res.code).toBe(0)
    expect(createHash('sha256').update(buf).digest('hex')).toBe(res.stdout.trim())
  })
})
