// Test helpers: real loopback sockets, cleanup after each test, Python as a peer.
//
// Usage in a test file:
//
//   import { afterEach } from 'vitest'
//   import { closeTracked, connectedPair, listener, python, track } from './helpers.js'
//   afterEach(closeTracked)
//
// - `track(sock)` / `track(a, b)`: records sockets (returns its first argument) so that
//   `closeTracked()` closes them after the test. `listener` and `connectedPair` track theirs.
// - `closeTracked()`: closes every tracked socket (twice is harmless) and removes the
//   temporary directories `tmpUnixPath` made. Register it with `afterEach(closeTracked)`.
// - `listener(family = AF_INET)`: a TCP socket bound to loopback port 0 (127.0.0.1 or ::1;
//   for AF_UNIX a fresh path from `tmpUnixPath`), listening, `settimeout(5)`.
// - `connectedPair(family = AF_INET, timeout = 5)`: `[client, serverSide]` over TCP loopback
//   (connect, then accept: the kernel completes the handshake from the backlog, so one thread
//   suffices). Both have `settimeout(timeout)` (`null` leaves them blocking).
// - `tmpUnixPath(name = 'sock')`: a path in a fresh `mkdtemp` dir under os.tmpdir().
// - `abstractName()`: a unique Linux abstract AF_UNIX name (leading '\0').
// - `python(code, args = [], options = {})`: runs `python3 -c code ...args` and resolves
//   `{ stdout, stderr, code }`. Killed after 15 s (also from inside the child with
//   signal.alarm, which works even while this thread is blocked in a socket call).
//   `options.fds`: fds to hand the child as its fds 3, 4, ... (a socket's own fds are CLOEXEC
//   and are not inherited otherwise). `options.input`: written to the child's stdin.
//   Spawning is synchronous, so the child is running when `python()` returns; a test may
//   block (accept with a timeout, say) before awaiting the promise.
// - `hasIPv6`: whether ::1 can be bound here (for `it.skipIf(!hasIPv6)`).
// - `hasUnixStream` / `hasUnixDgram`: whether an AF_UNIX SOCK_STREAM / SOCK_DGRAM socket can
//   be created here (not under wine 8, which has no AF_UNIX); `hasPython`: whether python3
//   runs; `hasMsg`: whether recvmsg / sendmsg exist (not on Windows); `hasTcpInfo`: whether
//   `tcpInfo()` works (Linux). Probed once, for `it.skipIf(!hasX)` / `describe.skipIf(!hasX)`.
// - `errname(posix)`: the platform's name of a POSIX errno name, as a SocketError's `code`
//   carries it: 'ECONNREFUSED' on Unix, 'WSAECONNREFUSED' on Windows (names Winsock lacks,
//   such as 'EEXIST', stay as they are).
// - `timeval(seconds)`: a C `struct timeval` (64-bit Linux/macOS layout; Windows: a DWORD of
//   milliseconds) for SO_RCVTIMEO /
//   SO_SNDTIMEO, to bound a call that must run on a truly blocking socket.
// - `openFdCount()` / `fdFlags(fd)`: this process's open fd count and an fd's open-file flags
//   (O_NONBLOCK, O_CLOEXEC), from /proc (Linux).
// - `DIST`: the built package's entry (npm test builds it first) as a file URL, for child
//   processes and workers to import (an absolute Windows path is no ESM specifier); `script(code)`: `code` written to a fresh temp .mjs (removed by
//   `closeTracked`), its path returned; `runWorker(code, onMessage?)`: that script in a
//   worker thread, `{ w, messages, exited }`.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { expect } from 'vitest'
import { native } from '../ts/binding.js'
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  errno,
  SOCK_DGRAM,
  SOCK_STREAM,
  type Socket,
  socket,
} from '../ts/index.js'

const tracked: Socket[] = []
const tmpDirs: string[] = []

/** Records sockets for `closeTracked()`; returns the first one. */
export function track<T extends Socket>(sock: T, ...more: Socket[]): T {
  tracked.push(sock, ...more)
  return sock
}

/** Closes every tracked socket and removes temp dirs; use as `afterEach(closeTracked)`. */
export function closeTracked(): void {
  for (const s of tracked.splice(0)) {
    try {
      s.close()
    } catch {
      // close() reports close(2)'s error once; the fd is gone either way.
    }
  }
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

/** A path for an AF_UNIX socket in a fresh temp dir (removed by `closeTracked`). */
export function tmpUnixPath(name = 'sock'): string {
  const dir = mkdtempSync(join(tmpdir(), 'bsd-sockets-'))
  tmpDirs.push(dir)
  return join(dir, name)
}

/**
 * The built package (npm test builds it first) as a file URL, the specifier a child process or
 * worker imports it by (on Windows an absolute path is not one: ERR_UNSUPPORTED_ESM_URL_SCHEME).
 */
export const DIST = new URL('../dist/index.js', import.meta.url).href

/**
 * Runs `code` (written by `script`) in a worker thread: its messages as they come (each also
 * to `onMessage`), and its exit code.
 */
export function runWorker(code: string, onMessage?: (m: unknown, w: Worker) => void) {
  const w = new Worker(script(code))
  const messages: unknown[] = []
  const exited = new Promise<number>((resolve, reject) => {
    w.on('message', (m) => {
      messages.push(m)
      onMessage?.(m, w)
    })
    w.on('error', reject)
    w.on('exit', resolve)
  })
  return { w, messages, exited }
}

/** Writes `code` to a fresh temp .mjs file (removed by `closeTracked`); returns its path. */
export function script(code: string): string {
  const file = tmpUnixPath('main.mjs')
  writeFileSync(file, code)
  return file
}

let abstractCount = 0
/** A unique Linux abstract AF_UNIX name. */
export function abstractName(): string {
  abstractCount += 1
  return `\0bsd-sockets-test-${process.pid}-${abstractCount}-${Math.random().toString(36).slice(2)}`
}

/** The loopback address of `family` (a temp path for AF_UNIX), port 0. */
export function loopback(family: number = AF_INET): [string, number] | string {
  if (family === AF_UNIX) return tmpUnixPath()
  return family === AF_INET6 ? ['::1', 0] : ['127.0.0.1', 0]
}

/** A tracked stream socket bound to loopback port 0, listening, `settimeout(5)`. */
export function listener(family: number = AF_INET): Socket {
  const s = track(socket(family, SOCK_STREAM))
  s.settimeout(5)
  s.bind(loopback(family))
  s.listen(16)
  return s
}

/** `[client, serverSide]`, a tracked connected stream pair over loopback, both timed. */
export function connectedPair(
  family: number = AF_INET,
  timeout: number | null = 5,
): [Socket, Socket] {
  const srv = listener(family)
  const client = track(socket(family, SOCK_STREAM))
  client.settimeout(5)
  client.connect(srv.getsockname())
  const [server] = srv.accept()
  track(server)
  srv.close()
  client.settimeout(timeout)
  server.settimeout(timeout)
  return [client, server]
}

/** Whether ::1 can be bound (IPv6 loopback configured). */
export const hasIPv6: boolean = (() => {
  try {
    const s = socket(AF_INET6, SOCK_STREAM)
    try {
      s.bind(['::1', 0])
      return true
    } finally {
      s.close()
    }
  } catch {
    return false
  }
})()

/** Whether a socket of `family` and `type` can be created here. */
function canCreate(family: number | undefined, type: number): boolean {
  if (family === undefined) return false
  try {
    socket(family, type).close()
    return true
  } catch {
    return false
  }
}

/** Whether AF_UNIX stream sockets exist here (wine 8 has no AF_UNIX at all). */
export const hasUnixStream: boolean = canCreate(AF_UNIX, SOCK_STREAM)

/** Whether AF_UNIX datagram sockets exist here (Windows has none). */
export const hasUnixDgram: boolean = canCreate(AF_UNIX, SOCK_DGRAM)

/** Whether recvmsg / sendmsg exist here (Windows: EOPNOTSUPP), probed on a UDP socket. */
export const hasMsg: boolean = (() => {
  const s = socket(AF_INET, SOCK_DGRAM)
  try {
    s.setblocking(false)
    s.recvmsg(1)
    return true
  } catch (e) {
    return (e as { code?: string }).code !== errname('EOPNOTSUPP')
  } finally {
    s.close()
  }
})()

/** Whether `tcpInfo()` works here (Linux's TCP_INFO; Windows: EOPNOTSUPP). */
export const hasTcpInfo: boolean = (() => {
  const s = socket(AF_INET, SOCK_STREAM)
  try {
    s.tcpInfo()
    return true
  } catch {
    return false
  } finally {
    s.close()
  }
})()

/** Whether `python3` runs here (the peer of the interop tests). */
export const hasPython: boolean = (() => {
  try {
    return spawnSync('python3', ['-c', 'pass'], { timeout: 15_000 }).status === 0
  } catch {
    return false
  }
})()

/**
 * The platform's name of the POSIX errno name `posix`, as a SocketError's `code` carries it:
 * 'ECONNREFUSED' on Unix, 'WSAECONNREFUSED' on Windows; names Winsock lacks ('EEXIST',
 * 'EPIPE') stay as they are.
 */
export function errname(posix: string): string {
  const n = errno[posix]
  if (n === undefined) throw new Error(`no errno ${posix} here`)
  const name = native.errnoName(n)
  if (name == null) throw new Error(`no name for errno ${posix} (${n}) here`)
  return name
}

/** The platform's name of errno number `n` (`String(n)` if it has none), for messages. */
export function errnoName(n: number): string {
  return native.errnoName(n) ?? String(n)
}

/**
 * Expects `sock` to be unbound: getsockname() gives `name` (the any-address, port 0); Winsock
 * answers getsockname of an unbound socket with WSAEINVAL instead (Python raises it there too).
 */
export function expectUnbound(sock: Socket, name: unknown): void {
  if (process.platform === 'win32')
    expect(() => sock.getsockname()).toThrow(expect.objectContaining({ code: errname('EINVAL') }))
  else expect(sock.getsockname()).toEqual(name)
}

/**
 * A `struct linger { l_onoff, l_linger }` for SO_LINGER: two ints on Unix, two u_shorts on
 * Windows (4 bytes there).
 */
export function linger(onoff: number, seconds: number): Buffer {
  const Fields = process.platform === 'win32' ? Uint16Array : Int32Array
  return Buffer.from(new Fields([onoff, seconds]).buffer)
}

/**
 * The POSIX name of a non-blocking connect's "in progress": EINPROGRESS, but Winsock answers
 * WSAEWOULDBLOCK (Python's connect_ex gives 10035 there too).
 */
export const CONNECT_PENDING = process.platform === 'win32' ? 'EWOULDBLOCK' : 'EINPROGRESS'

/**
 * A `struct timeval` (two native-endian 64-bit fields) for SO_RCVTIMEO / SO_SNDTIMEO; on
 * Windows, where these options take a DWORD of milliseconds, that DWORD.
 */
export function timeval(seconds: number): Buffer {
  if (process.platform === 'win32') return Buffer.from(new Uint32Array([seconds * 1000]).buffer)
  const whole = Math.floor(seconds)
  const micros = Math.round((seconds - whole) * 1e6)
  return Buffer.from(new BigInt64Array([BigInt(whole), BigInt(micros)]).buffer)
}

/** What a `python()` child left behind. */
export interface PythonResult {
  stdout: string
  stderr: string
  /** Exit code; `null` if killed by a signal. */
  code: number | null
}

/** Options of `python()`. */
export interface PythonOptions {
  /** Given to the child as fds 3, 4, ... (inherited without CLOEXEC). */
  fds?: number[]
  /** Written to the child's stdin, which is then closed. */
  input?: string
}

const KILL_AFTER_S = 15

/**
 * Runs `python3 -c code ...args`; resolves `{ stdout, stderr, code }` (never rejects on a
 * non-zero exit). The child runs once this returns; it is killed after 15 s.
 */
export function python(
  code: string,
  args: readonly (string | number)[] = [],
  options: PythonOptions = {},
): Promise<PythonResult> {
  // The alarm kills a stuck child even when this thread is blocked in a socket call.
  const script = `import signal as _alarm; _alarm.alarm(${KILL_AFTER_S})\n${code}`
  const child = spawn('python3', ['-c', script, ...args.map(String)], {
    stdio: ['pipe', 'pipe', 'pipe', ...(options.fds ?? [])],
  })
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_S * 1000)
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (exit) => {
      clearTimeout(timer)
      resolve({ stdout, stderr, code: exit })
    })
    // A child that exits before reading its stdin must not crash the test with EPIPE.
    child.stdin?.on('error', () => {})
    child.stdin?.end(options.input ?? '')
  })
}

/**
 * Whether this process's fds are in /proc (Linux): for `openFdCount()`, `fdFlags()` and
 * /proc/self/fd checks. Windows Node under wine sees Linux's /proc through drive Z:, but what
 * it shows is wine's own process, not this process's Windows handles.
 */
export const hasProcFds = process.platform !== 'win32' && existsSync('/proc/self/fdinfo')

/** Whether `openFdCount()` works here: a capability (/proc), not a platform name. */
export const canCountFds = hasProcFds

/** How many fds this process has open (Linux /proc), for leak checks. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length
}

/** Linux's O_CLOEXEC bit in `fdFlags`. */
export const O_CLOEXEC = 0o2000000

/** The open-file flags of `fd` (O_NONBLOCK, O_CLOEXEC, ...) from /proc/self/fdinfo (Linux). */
export function fdFlags(fd: number): number {
  const m = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))
  if (!m?.[1]) throw new Error(`no flags line in /proc/self/fdinfo/${fd}`)
  return Number.parseInt(m[1], 8)
}
