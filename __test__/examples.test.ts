// The examples users copy (examples/transport-echo-server.ts, transport-client.ts,
// http-server.ts, resp-server.ts), compiled to dist-examples/ as `npm run demo` does, each run
// as a child process on port 0 and driven by real peers over loopback: curl, Python raw
// sockets, redis-cli and redis-benchmark (skipped when not installed: Debian's redis-tools).
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { hasPython, python } from './helpers.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const EXAMPLES = ['transport-echo-server', 'transport-client', 'http-server', 'resp-server']
const js = (name: string) => join(ROOT, 'dist-examples', `${name}.js`)

/** Whether `cmd --version` runs. */
function has(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore', timeout: 5000 }).status === 0
}
const hasCurl = has('curl')
const hasRedisCli = has('redis-cli')
const hasRedisBenchmark = has('redis-benchmark')

// The examples import 'bsd-sockets' as users do, which resolves to dist/ (npm test builds
// it). Compile them here when dist-examples/ is missing or older than their sources.
beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'index.d.ts')))
    throw new Error('dist/ is missing: run `npm run build` first')
  const stale = EXAMPLES.some(
    (name) =>
      !existsSync(js(name)) ||
      statSync(js(name)).mtimeMs < statSync(join(ROOT, 'examples', `${name}.ts`)).mtimeMs,
  )
  if (!stale) return
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.examples.json')], {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 120_000,
  })
}, 150_000)

const children: ChildProcess[] = []

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill()
})

interface Running {
  child: ChildProcess
  port: number
  /** Everything it printed so far (stdout and stderr). */
  output(): string
  /** Resolves with its exit code (or signal) once it has exited. */
  exited: Promise<number | string | null>
}

/** Starts example `name` on port 0; resolves once it printed the port it listens on. */
async function start(name: string, env: Record<string, string> = {}): Promise<Running> {
  const child = spawn(process.execPath, [js(name), '0'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let out = ''
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? signal)),
  )
  child.stdout?.setEncoding('utf8')
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    out += d
  })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} printed no port: ${out}`)), 15_000)
    child.stdout?.on('data', (d: string) => {
      out += d
      const m = /listening on port (\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    void exited.then((how) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited (${how}) before listening: ${out}`))
    })
  })
  return { child, port, output: () => out, exited }
}

interface Result {
  stdout: string
  stderr: string
  code: number | null
}

/** Runs `cmd args` with `input` on stdin; killed after `timeoutMs`. Never rejects on exit. */
function run(cmd: string, args: string[], input = '', timeoutMs = 20_000): Promise<Result> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  children.push(child)
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ stdout, stderr, code })
    })
    child.stdin.on('error', () => {})
    child.stdin.end(input)
  })
}

// A raw-socket peer: connects, sends each chunk (a pause after each, with TCP_NODELAY, so the
// server most likely reads them apart), optionally shuts down its write side, then reads until
// the server closes and prints all it got, hex-encoded. It fails if the server never closes.
const CONVERSE = `
import socket, sys, time
port, shut, chunks = int(sys.argv[1]), sys.argv[2] == 'eof', sys.argv[3:]
s = socket.create_connection(('127.0.0.1', port), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for c in chunks:
    s.sendall(bytes.fromhex(c))
    time.sleep(0.03)
if shut:
    s.shutdown(socket.SHUT_WR)
out = b''
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
print(out.hex())
`

/**
 * Sends `chunks` to `port` from Python and returns everything the server sent until it closed.
 * `eof`: shut down the write side after the last chunk (else the server must close by itself).
 */
async function converse(port: number, chunks: (string | Buffer)[], eof = false): Promise<Buffer> {
  const hex = chunks.map((c) => Buffer.from(c).toString('hex'))
  const r = await python(CONVERSE, [port, eof ? 'eof' : 'wait', ...hex])
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return Buffer.from(r.stdout.trim(), 'hex')
}

// A client that sends much while it reads nothing for a while: the server's write buffer goes
// over its high-water mark, the example pauses reading, and resumes once this reads. `data` is
// a Python expression sent from a thread (then EOF when `eof`); the result is `report`, a Python
// expression over `data` and `got` (all received until the server closed).
async function lateReader(port: number, data: string, report: string, eof = true) {
  const r = await python(
    `
import os, socket, sys, threading, time
data = ${data}
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
def send():
    s.sendall(data)
    if ${eof ? 'True' : 'False'}:
        s.shutdown(socket.SHUT_WR)
threading.Thread(target=send).start()
time.sleep(0.5)
got = bytearray()
while True:
    d = s.recv(1 << 20)
    if not d:
        break
    got += d
print(*(${report}))
`,
    [port],
  )
  expect(r.stderr).toBe('')
  return r.stdout.trim()
}

describe('examples/transport-echo-server.ts and transport-client.ts', () => {
  for (const [label, env] of [
    ['Protocol', {}],
    ['BufferedProtocol', { BUFFERED: '1' }],
  ] as const) {
    it(`the client's lines come back, then both sides close (${label})`, async () => {
      const server = await start('transport-echo-server', env)
      const r = await run(process.execPath, [
        js('transport-client'),
        String(server.port),
        'one',
        'two',
      ])
      expect(r.stderr).toBe('')
      expect(r.stdout).toBe('reply: one\nreply: two\nclosed\n')
      expect(r.code).toBe(0)
    })

    it.skipIf(!hasPython)(
      `16 MiB to a client that reads late come back whole (${label})`,
      async () => {
        const server = await start('transport-echo-server', env)
        const r = await lateReader(server.port, 'os.urandom(16 << 20)', 'len(got), got == data')
        expect(r).toBe(`${16 << 20} True`)
      },
    )
  }

  // Windows: no SIGINT to send a child (kill() terminates it), and no python3 under wine.
  it.skipIf(!hasPython || process.platform === 'win32')(
    'SIGINT closes the server and its connections, and the process exits',
    async () => {
      const server = await start('transport-echo-server')
      // A connection the server's closeClients() must close: Python sees EOF on it.
      const peer = spawn('python3', [
        '-c',
        `
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
s.sendall(b'ping')
assert s.recv(4) == b'ping'
print('served', flush=True)
print('eof' if s.recv(1) == b'' else 'data', flush=True)
`,
        String(server.port),
      ])
      children.push(peer)
      let out = ''
      const served = new Promise<void>((resolve) =>
        peer.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d
          if (out.includes('served')) resolve()
        }),
      )
      const peerExited = new Promise((resolve) => peer.once('close', resolve))
      await served
      server.child.kill('SIGINT')
      expect(await server.exited).toBe(0)
      expect(server.output()).toContain('echo server closed')
      expect(await peerExited).toBe(0)
      expect(out).toBe('served\neof\n')
    },
  )

  it('the client exits 1 with the errno when nobody listens', async () => {
    const server = await start('transport-echo-server')
    server.child.kill('SIGINT')
    await server.exited
    const r = await run(process.execPath, [js('transport-client'), String(server.port)])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('ECONNREFUSED')
  })
})

const OK = (connection: 'keep-alive' | 'close', body = 'Hello, World!\n') =>
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n' +
  `Connection: ${connection}\r\n\r\n${body}`
const BAD = 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'

describe('examples/http-server.ts', () => {
  /** curl's -w '%{num_connects}' per URL: 1 for a new connection, 0 for a reused one. */
  async function curl(
    server: Running,
    args: string[],
    urls: string[],
  ): Promise<{ connects: string; out: string }> {
    const base = `http://127.0.0.1:${server.port}`
    const r = await run('curl', [
      '-sS',
      '-v',
      '--max-time',
      '10',
      ...args,
      ...urls.flatMap((u) => ['-w', '[%{http_code} %{num_connects}]\n', `${base}${u}`]),
    ])
    expect(r.code).toBe(0)
    const connects = [...r.stdout.matchAll(/\[(\d+) (\d+)\]/g)].map((m) => `${m[1]}:${m[2]}`)
    return { connects: connects.join(' '), out: r.stdout + r.stderr }
  }

  it.skipIf(!hasCurl)('curl: several URLs on one keep-alive connection', async () => {
    const server = await start('http-server')
    const { connects, out } = await curl(server, [], ['/', '/a/path', '/?q=1'])
    expect(connects).toBe('200:1 200:0 200:0')
    expect(out).toContain('Re-using existing connection')
    expect(out.match(/Hello, World!/g)).toHaveLength(3)
  })

  it.skipIf(!hasCurl)('curl: Connection: close and HTTP/1.0 get a connection each', async () => {
    const server = await start('http-server')
    expect((await curl(server, ['-H', 'Connection: close'], ['/', '/'])).connects).toBe(
      '200:1 200:1',
    )
    const http10 = await curl(server, ['--http1.0'], ['/', '/'])
    expect(http10.connects).toBe('200:1 200:1')
    expect(http10.out).toContain('< Connection: close')
    // HTTP/1.0 asking for keep-alive keeps it.
    const kept = await curl(server, ['--http1.0', '-H', 'Connection: keep-alive'], ['/', '/'])
    expect(kept.connects).toBe('200:1 200:0')
  })

  it.skipIf(!hasCurl)('curl: POST bodies are read and skipped, the connection reused', async () => {
    const server = await start('http-server')
    const body = 'x'.repeat(100_000)
    const { connects, out } = await curl(server, ['--data-binary', body], ['/upload', '/upload'])
    expect(connects).toBe('200:1 200:0')
    expect(out.match(/Hello, World!/g)).toHaveLength(2)
  })

  it.skipIf(!hasPython)(
    'pipelined requests in one read are answered in order, HEAD without a body',
    async () => {
      const server = await start('http-server')
      const got = await converse(server.port, [
        'GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD /h HTTP/1.1\r\nHost: x\r\n\r\n' +
          'GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\n\r\n',
      ])
      expect(got.toString('latin1')).toBe(OK('keep-alive') + OK('keep-alive', '') + OK('close'))
    },
  )

  it.skipIf(!hasPython)(
    'a request split across reads, and one read holding the end of one and a whole other',
    async () => {
      const server = await start('http-server')
      const got = await converse(server.port, [
        'GE',
        'T / HTTP/1.1\r\nHo',
        'st: x\r\n\r',
        '\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nConnection: cl',
        'ose\r\n\r\n',
      ])
      expect(got.toString('latin1')).toBe(OK('keep-alive').repeat(2) + OK('close'))
    },
  )

  it.skipIf(!hasPython)(
    'a body that looks like a request is skipped, even split across reads',
    async () => {
      const server = await start('http-server')
      const fake = 'GET /fake HTTP/1.1\r\n\r\n'
      const got = await converse(server.port, [
        `POST /a HTTP/1.1\r\nContent-Length: ${fake.length}\r\n\r\n${fake.slice(0, 7)}`,
        `${fake.slice(7)}POST /b HTTP/1.1\r\ncontent-length: 3\r\nConnection: close\r\n\r\nab`,
        'c',
      ])
      expect(got.toString('latin1')).toBe(OK('keep-alive') + OK('close'))
    },
  )

  it.skipIf(!hasPython)(
    '100,000 pipelined requests from a client that reads late: every answer, in order',
    async () => {
      const server = await start('http-server')
      const r = await lateReader(
        server.port,
        "b'GET / HTTP/1.1\\r\\n\\r\\n' * 99999 + b'GET / HTTP/1.1\\r\\nConnection: close\\r\\n\\r\\n'",
        "got.count(b'HTTP/1.1 200 OK'), got.endswith(b'Connection: close\\r\\n\\r\\nHello, World!\\n')",
        false,
      )
      expect(r).toBe('100000 True')
    },
  )

  it.skipIf(!hasPython)(
    'HTTP/1.0 without keep-alive: one answer, then the server closes',
    async () => {
      const server = await start('http-server')
      const got = await converse(server.port, ['GET / HTTP/1.0\r\n\r\n'])
      expect(got.toString('latin1')).toBe(OK('close'))
    },
  )

  it.skipIf(!hasPython)(
    'garbage gets 400 and the connection closed, after the answers before it',
    async () => {
      const server = await start('http-server')
      expect((await converse(server.port, ['garbage\r\n\r\n'])).toString('latin1')).toBe(BAD)
      const got = await converse(server.port, [
        'GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nno colon here\r\n\r\nGET / HTTP/1.1\r\n\r\n',
      ])
      expect(got.toString('latin1')).toBe(OK('keep-alive') + BAD)
      const chunked = await converse(server.port, [
        'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ])
      expect(chunked.toString('latin1')).toBe(BAD)
    },
  )

  it.skipIf(!hasPython)('a head over 8 KiB with no blank line gets 400', async () => {
    const server = await start('http-server')
    // Sent whole, then EOF: the server reads it all before it answers and closes.
    const got = await converse(server.port, [`GET /${'a'.repeat(9000)}`], true)
    expect(got.toString('latin1')).toBe(BAD)
  })
})

/** RESP encoding of a command: an array of bulk strings. */
function resp(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const a of args) {
    const b = Buffer.from(a)
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'))
  }
  return Buffer.concat(parts)
}

describe('examples/resp-server.ts', () => {
  it.skipIf(!hasRedisCli)('redis-cli: PING, SET, GET, ECHO, DEL, unknown command', async () => {
    const server = await start('resp-server')
    const cli = async (...args: string[]) => {
      const r = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port), ...args])
      expect(r.code).toBe(0)
      return r.stdout.trim()
    }
    expect(await cli('PING')).toBe('PONG')
    expect(await cli('ping', 'hello there')).toBe('hello there')
    expect(await cli('SET', 'greeting', 'hello\r\nworld')).toBe('OK')
    expect(await cli('GET', 'greeting')).toBe('hello\r\nworld')
    expect(await cli('ECHO', 'x y')).toBe('x y')
    expect(await cli('DEL', 'greeting', 'missing')).toBe('1')
    expect(await cli('GET', 'greeting')).toBe('')
    expect(await cli('FLUSHALL')).toContain("ERR unknown command 'FLUSHALL'")
    expect(await cli('GET', 'a', 'b')).toContain("ERR wrong number of arguments for 'get'")
  })

  it.skipIf(!hasRedisCli)('redis-cli --pipe: 2,000 pipelined SETs, then GETs', async () => {
    const server = await start('resp-server')
    const port = String(server.port)
    const sets = Array.from({ length: 2000 }, (_, i) => resp('SET', `key${i}`, `value${i}`))
    const r = await run('redis-cli', ['-p', port, '--pipe'], Buffer.concat(sets).toString())
    expect(r.stdout).toContain('errors: 0, replies: 2000')
    expect(r.code).toBe(0)
    // Non-interactive redis-cli: one command per stdin line.
    const gets = await run('redis-cli', ['-p', port], 'GET key0\nGET key1999\nGET nope\n')
    expect(gets.stdout).toBe('value0\nvalue1999\n\n')
  })

  it.skipIf(!hasPython)(
    'Python: pipelined and split commands, inline commands, binary values',
    async () => {
      const server = await start('resp-server')
      const binary = Buffer.from([0, 0xff, 13, 10, 0x24, 0x2a, 0x80])
      const all = Buffer.concat([
        resp('PING'),
        resp('SET', 'bin', binary),
        resp('GET', 'bin'),
        Buffer.from('PING\r\nECHO  inline  \r\nset k v\n\r\n'),
        resp('GET', 'k'),
        resp('DEL', 'k', 'bin', 'none'),
        resp('GET', 'bin'),
        resp('NOPE', 'x'),
      ])
      // Cut the stream at awkward places: inside a length line, a bulk string, its CRLF.
      const cuts = [3, 20, 31, 45, 46, 60, 75, 90, all.length]
      const chunks = cuts.map((end, i) => all.subarray(i === 0 ? 0 : cuts[i - 1], end))
      const got = await converse(server.port, chunks, true)
      const expected = Buffer.concat([
        Buffer.from('+PONG\r\n+OK\r\n$7\r\n'),
        binary,
        Buffer.from(
          "\r\n+PONG\r\n$6\r\ninline\r\n+OK\r\n$1\r\nv\r\n:2\r\n$-1\r\n-ERR unknown command 'NOPE'\r\n",
        ),
      ])
      expect(got.toString('hex')).toBe(expected.toString('hex'))
    },
  )

  it.skipIf(!hasPython)(
    'GETs of a 100 kB value to a client that reads late: every reply whole',
    async () => {
      const server = await start('resp-server')
      const r = await lateReader(
        server.port,
        "b'*3\\r\\n$3\\r\\nSET\\r\\n$3\\r\\nbig\\r\\n$100000\\r\\n' + b'v' * 100000 + b'\\r\\n' +" +
          " b'*2\\r\\n$3\\r\\nGET\\r\\n$3\\r\\nbig\\r\\n' * 300",
        "len(got), got == b'+OK\\r\\n' + (b'$100000\\r\\n' + b'v' * 100000 + b'\\r\\n') * 300",
      )
      expect(r).toBe(`${5 + 300 * 100011} True`)
    },
  )

  it.skipIf(!hasPython)(
    'Python: a protocol error gets its reply, then the server closes',
    async () => {
      const server = await start('resp-server')
      const got = await converse(server.port, [
        Buffer.concat([resp('PING'), Buffer.from('*1\r\nx')]),
      ])
      expect(got.toString()).toBe("+PONG\r\n-ERR Protocol error: expected '$', got 'x'\r\n")
      const bad = await converse(server.port, ['*2\r\n$abc\r\n'])
      expect(bad.toString()).toBe('-ERR Protocol error: invalid bulk length\r\n')
    },
  )

  it.skipIf(!hasRedisBenchmark)(
    'redis-benchmark -t ping,set,get: every test reports a rate',
    async () => {
      const server = await start('resp-server')
      const r = await run(
        'redis-benchmark',
        [
          '-h',
          '127.0.0.1',
          '-p',
          String(server.port),
          '-q',
          '-n',
          '2000',
          '-c',
          '10',
          '-t',
          'ping,set,get',
        ],
        '',
        60_000,
      )
      expect(r.code).toBe(0)
      // -q prints "NAME: <rate> requests per second, ..." per test (progress lines use \r).
      const rates = new Map(
        [...r.stdout.matchAll(/^(\w+): ([\d.]+) requests per second/gm)].map((m) => [
          m[1],
          Number(m[2]),
        ]),
      )
      expect([...rates.keys()].sort()).toEqual(['GET', 'PING_INLINE', 'PING_MBULK', 'SET'])
      for (const rate of rates.values()) expect(rate).toBeGreaterThan(0)
    },
    90_000,
  )
})
