// Scaling across cores: worker_threads and processes (child_process.fork
// and cluster) each listening on one port with SO_REUSEPORT, the kernel spreading real
// connections across them; and one acceptor passing accepted fds to workers (detach() ->
// postMessage -> fromfd()) with every byte echoed and no fd leaked. Bounded in count.
import { fork, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { createServer, SHUT_WR, SO_REUSEPORT, SOL_SOCKET, socket } from '../ts/index.js'
import { get as httpGet } from './fixtures/http-get.mjs'
import { closeTracked, openFdCount, track } from './helpers.js'

afterEach(closeTracked)

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))
// Linux only: SO_REUSEPORT's spreading of connections (Windows has no SO_REUSEPORT) and the
// fd counts from /proc of the round-robin test.
const linux = process.platform === 'linux'

/**
 * A loopback port bound with SO_REUSEPORT but not listening: listeners that join it get the
 * connections, this socket none. Keeps the port ours until they are up.
 */
function reservePort(): number {
  const s = track(socket())
  s.setsockopt(SOL_SOCKET, SO_REUSEPORT as number, 1)
  s.bind(['127.0.0.1', 0])
  return s.getsockname()[1] as number
}

/** Runs `count` calls of `fn`, `width` at a time; resolves with all results in order. */
async function batched<T>(count: number, width: number, fn: () => Promise<T>): Promise<T[]> {
  const out: T[] = []
  for (let done = 0; done < count; done += width) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(width, count - done) }, fn))))
  }
  return out
}

/** How many times each value occurs. */
function tally(values: string[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1)
  return m
}

describe.skipIf(!linux)('SO_REUSEPORT across workers and processes', () => {
  it('4 worker_threads serve 200 HTTP connections on one port; the kernel spreads them', async () => {
    const port = reservePort()
    const workers = Array.from(
      { length: 4 },
      (_, id) => new Worker(fixture('reuseport-http-worker.mjs'), { workerData: { id, port } }),
    )
    try {
      await Promise.all(workers.map((w) => once(w, 'message')))
      const answers = await batched(200, 20, () => httpGet(port))
      const byWorker = tally(answers)
      // 200 connections from distinct ephemeral ports, hashed by 4-tuple: every one answered,
      // by more than one worker (one worker taking all has probability 4 * 4^-200).
      expect(answers).toHaveLength(200)
      expect([...byWorker.keys()].every((id) => ['0', '1', '2', '3'].includes(id))).toBe(true)
      expect(byWorker.size).toBeGreaterThanOrEqual(2)
      // Each worker's own count agrees with what the clients saw.
      const served = await Promise.all(
        workers.map((w) => {
          const reply = once(w, 'message')
          w.postMessage('stop')
          return reply.then(([n]) => n as number)
        }),
      )
      expect(served).toEqual([0, 1, 2, 3].map((id) => byWorker.get(String(id)) ?? 0))
    } finally {
      await Promise.all(workers.map((w) => w.terminate()))
    }
  })

  it('3 forked processes each bind the port with SO_REUSEPORT and share 90 connections', async () => {
    const port = reservePort()
    const children = Array.from({ length: 3 }, () =>
      fork(fixture('reuseport-child.mjs'), { env: { ...process.env, PORT: String(port) } }),
    )
    try {
      await Promise.all(children.map((c) => once(c, 'message')))
      const pids = await batched(90, 10, () => httpGet(port))
      const byPid = tally(pids)
      expect(pids).toHaveLength(90)
      const childPids = children.map((c) => String(c.pid))
      expect([...byPid.keys()].every((pid) => childPids.includes(pid))).toBe(true)
      expect(byPid.size).toBeGreaterThanOrEqual(2)
      for (const c of children) c.send('stop')
      const codes = await Promise.all(children.map((c) => once(c, 'exit')))
      expect(codes.map(([code]) => code)).toEqual([0, 0, 0])
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    }
  })

  it('cluster workers do the same (accepting themselves, handing connections to http)', async () => {
    const port = reservePort()
    const primary = spawn(process.execPath, [fixture('reuseport-cluster.mjs')], {
      env: { ...process.env, PORT: String(port), WORKERS: '2', REQUESTS: '60' },
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 20_000,
    })
    let out = ''
    primary.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    const [code] = await once(primary, 'exit')
    expect(code).toBe(0)
    const { workers, pids } = JSON.parse(out) as { workers: number[]; pids: string[] }
    expect(pids).toHaveLength(60)
    expect(pids.every((pid) => workers.includes(Number(pid)))).toBe(true)
    expect(tally(pids).size).toBe(2)
  })
})

describe.skipIf(!linux)('one acceptor passing fds to workers', () => {
  it('round robin to 4 workers by detach() / fromfd(): every byte echoed, no fd leaked', async () => {
    const before = openFdCount()
    const workers = Array.from({ length: 4 }, () => new Worker(fixture('echo-worker.mjs')))
    const srv = createServer(['127.0.0.1', 0], { backlog: 128 })
    let next = 0
    const acceptor = (async () => {
      for await (const [conn] of srv) {
        workers[next]?.postMessage(conn.detach())
        next = (next + 1) % workers.length
      }
    })()
    const client = async () => {
      const c = socket()
      try {
        await c.connectAsync(srv.getsockname())
        const data = randomBytes(8192 + Math.floor(Math.random() * 8192))
        await c.sendallAsync(data)
        c.shutdown(SHUT_WR)
        const chunks: Buffer[] = []
        for (let b = await c.recvAsync(65536); b.length; b = await c.recvAsync(65536)) {
          chunks.push(b)
        }
        return Buffer.concat(chunks).equals(data)
      } finally {
        c.close()
      }
    }
    try {
      const echoed = await batched(100, 20, client)
      expect(echoed.every(Boolean)).toBe(true)
      srv.close()
      await acceptor
      const served = await Promise.all(
        workers.map((w) => {
          const reply = once(w, 'message')
          w.postMessage('stop')
          return reply.then(([n]) => n as number)
        }),
      )
      expect(served).toEqual([25, 25, 25, 25])
    } finally {
      srv.close()
      await Promise.all(workers.map((w) => w.terminate()))
    }
    expect(openFdCount()).toBe(before)
  })
})
