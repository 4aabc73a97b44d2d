// The workload runner: every server does the same work, driven by the same native load client
// (crates/bench's bench-client), and every figure is printed next to its ratio to the native
// baseline (bench-server) measured in the same run. See benchmark/README.md.
//
//   cargo build --release -p bsd-sockets-bench && node benchmark/run.mjs [options]
//   (or: npm run bench -- [options])
//
// Options:
//   --quick              smoke run (~20 s): 1 s per measurement, short warm-up
//   --duration S         measured seconds per run (default 3, at most 30)
//   --warmup S           warm-up seconds before each measurement (default 0.5)
//   --rounds N           run everything N times, report the median (default 1)
//   --only a,b           workloads to run (ids below), e.g. --only pingpong-1,stream
//   --servers a,b        servers to run, e.g. --servers native,node:net
//   --no-pin             never use taskset
//   --json FILE          also write every raw result to FILE
//   --svg FILE           also draw the table as a bar chart (server CPU/op vs native)
//   --from A.json,B.json print the table (and --svg) from earlier --json files, measuring nothing
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { barChart } from './chart.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const release = (name) => path.join(root, 'target', 'release', name)
const here = (file) => path.join(root, 'benchmark', file)
/** Where `npm run bench:peers` puts Bun and the reference server (benchmark/peers.sh). */
const cache = path.join(
  process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'),
  'bsd-sockets',
)
const bun = process.env.BUN ?? path.join(cache, 'bun/node_modules/@oven/bun-linux-x64/bin/bun')
const reference = process.env.BSD_BENCH_REFERENCE ?? '/tmp/uvpoll/server.mjs'

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    only: { type: 'string' },
    servers: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    json: { type: 'string' },
    svg: { type: 'string' },
    from: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (opt.help) {
  const head = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport ')[0]
  console.log(head.replace(/^\/\/ ?/gm, ''))
  process.exit(0)
}

const duration = Math.min(Number(opt.duration ?? (opt.quick ? 1 : 3)), 30)
const warmup = Number(opt.warmup ?? (opt.quick ? 0.3 : 0.5))
const rounds = Math.max(1, Math.floor(Number(opt.rounds)))
if (!(duration > 0) || !(warmup >= 0) || !Number.isFinite(rounds)) {
  console.error('run.mjs: bad --duration, --warmup or --rounds')
  process.exit(2)
}

// Pinning (the measurement lesson of issue 3): a loopback round trip between two cores costs
// tens of µs of cross-core wake-up, which hides every per-call cost. One-at-a-time workloads put
// client and server on the SAME core ('same'); many-connection workloads give each its own
// core ('split') so that neither migrates.
const canPin =
  !opt['no-pin'] && spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0
const cores = os.availableParallelism()
const cpusFor = (pin) => {
  if (!canPin || !pin) return { server: null, client: null }
  if (pin === 'split' && cores >= 2) return { server: '0', client: '1' }
  return { server: '0', client: '0' }
}

/**
 * Workloads. `mode` is the server mode; `args` go to bench-client; `eagain` runs no server.
 * `per` names what the server's CPU is divided by in the "server CPU/op" column.
 */
const WORKLOADS = [
  {
    id: 'pingpong-1',
    title: 'ping-pong 64 B, 1 conn',
    mode: 'echo',
    args: ['pingpong', '--conns', '1', '--size', '64'],
    pin: 'same',
  },
  {
    id: 'fanout-100',
    title: 'fan-out 64 B, 100 conns',
    mode: 'echo',
    args: ['pingpong', '--conns', '100', '--size', '64'],
    pin: 'split',
  },
  {
    id: 'fanout-1000',
    title: 'fan-out 64 B, 1000 conns',
    mode: 'echo',
    args: ['pingpong', '--conns', '1000', '--size', '64'],
    pin: 'split',
  },
  {
    id: 'accept',
    title: 'sequential accept',
    mode: 'close',
    args: ['accept'],
    pin: 'same',
  },
  {
    id: 'stream',
    title: 'stream 64 KiB writes, 1 conn',
    mode: 'sink',
    args: ['stream', '--conns', '1', '--chunk', '65536'],
    pin: 'same',
  },
  {
    id: 'eagain',
    title: 'recv on empty socket (EAGAIN)',
    eagain: true,
    pin: 'same',
  },
  {
    // Served only by the UDP servers (`udp: true`); 256 datagrams in flight.
    id: 'udp-echo',
    title: 'UDP echo 64 B, window 256',
    mode: 'udp-echo',
    udp: true,
    args: ['udp', '--size', '64', '--window', '256'],
    pin: 'same',
  },
]

/**
 * Servers. Each is started as `cmd --mode echo|sink|close --port 0`, prints `PORT <n>`, and
 * exits when its stdin closes. `eagain` is a script printing one JSON line with `rate` (calls/s)
 * for `--duration S --warmup S`; native's comes from `bench-client eagain`. A server whose
 * `file` does not exist yet is skipped.
 */
const SERVERS = [
  { id: 'native', label: 'native (Rust, epoll)', cmd: [release('bench-server')], native: true },
  { id: 'node:net', label: 'node:net', cmd: [process.execPath, here('servers/net-echo.mjs')] },
  {
    id: 'bsd',
    label: 'bsd-sockets async',
    file: here('servers/bsd-echo.mjs'),
    cmd: [process.execPath, here('servers/bsd-echo.mjs')],
    eagain: [process.execPath, here('servers/bsd-eagain.mjs')],
  },
  {
    id: 'bsd-sync',
    label: 'bsd-sockets blocking',
    file: here('servers/bsd-sync.mjs'),
    cmd: [process.execPath, here('servers/bsd-sync.mjs')],
    // One connection at a time, as a blocking server serves.
    workloads: ['pingpong-1', 'accept', 'stream'],
  },
  {
    // Calibration: Python's blocking socket module, the issue's other reference point.
    id: 'python',
    label: 'Python socket, blocking',
    cmd: ['python3', here('servers/python-echo.py')],
    workloads: ['pingpong-1', 'accept', 'stream'],
  },
  {
    id: 'bsd-poller',
    label: 'bsd-sockets Poller+try*',
    file: here('servers/bsd-poller.mjs'),
    cmd: [process.execPath, here('servers/bsd-poller.mjs')],
  },
  {
    id: 'bsd-transport',
    label: 'bsd-sockets transport',
    file: here('servers/bsd-transport.mjs'),
    cmd: [process.execPath, here('servers/bsd-transport.mjs')],
  },
  {
    id: 'bsd-buffered',
    label: 'bsd transport, Buffered',
    file: here('servers/bsd-transport.mjs'),
    cmd: [process.execPath, here('servers/bsd-transport.mjs'), '--protocol', 'buffered'],
    workloads: ['pingpong-1', 'fanout-100', 'fanout-1000', 'stream'],
  },
  {
    // The project's event-loop design in plain C N-API (../shared/reference/uvpoll), built by
    // `npm run bench:peers`: a yardstick for what JS per message on Node's loop costs.
    id: 'reference',
    label: 'reference (C N-API)',
    file: reference,
    cmd: [process.execPath, reference],
    workloads: ['pingpong-1', 'fanout-100', 'fanout-1000'],
  },
  {
    id: 'bun',
    label: 'Bun.listen',
    file: bun,
    cmd: [bun, here('servers/bun-echo.mjs')],
  },
  {
    // The floor of any server on Node's loop: the echo runs inside libuv's callback, no JS.
    id: 'uv-floor',
    label: 'floor: echo in libuv, no JS',
    file: release('libbsd_sockets_bench_floor.so'),
    cmd: [process.execPath, here('servers/uv-floor.mjs')],
    workloads: ['pingpong-1', 'fanout-100', 'fanout-1000'],
  },
  // UDP servers (`udp: true`) serve the UDP workloads only.
  {
    id: 'native-udp',
    label: 'native (Rust, recvmmsg)',
    cmd: [release('bench-udp-server')],
    native: true,
    udp: true,
  },
  {
    id: 'dgram',
    label: 'node:dgram',
    cmd: [process.execPath, here('servers/dgram-echo.mjs')],
    udp: true,
  },
  ...['batch', 'poller', 'single'].map((api) => ({
    id: `bsd-udp-${api}`,
    label: {
      batch: 'bsd recvmanyInto/sendmany, worker',
      poller: 'bsd try*many, Poller',
      single: 'bsd recvfromInto/sendto, worker',
    }[api],
    file: here('servers/bsd-udp.mjs'),
    cmd: [process.execPath, here('servers/bsd-udp.mjs'), '--api', api],
    udp: true,
  })),
]

const pick = (list, filter, what) => {
  if (!filter) return list
  const ids = filter.split(',').map((s) => s.trim())
  for (const id of ids) {
    if (!list.some((x) => x.id === id)) {
      console.error(`run.mjs: unknown ${what} ${id} (known: ${list.map((x) => x.id).join(', ')})`)
      process.exit(2)
    }
  }
  return list.filter((x) => ids.includes(x.id))
}
const workloads = pick(WORKLOADS, opt.only, 'workload')
const wanted = pick(SERVERS, opt.servers, 'server')
const skipped = wanted.filter((s) => s.file && !existsSync(s.file))
const servers = wanted.filter((s) => !skipped.includes(s))

const client = release('bench-client')
for (const exe of [client, release('bench-server'), release('bench-udp-server')]) {
  if (!existsSync(exe)) {
    console.error(`run.mjs: ${exe} is missing; build it first:`)
    console.error('  cargo build --release -p bsd-sockets-bench   (npm run bench does both)')
    process.exit(1)
  }
}

const withCpu = (cpu, argv) => (cpu === null ? argv : ['taskset', '-c', cpu, ...argv])

/** Spawns `argv`, keeping the tail of its stderr for error messages. */
function launch(argv, stdin = 'pipe') {
  const child = spawn(argv[0], argv.slice(1), { cwd: root, stdio: [stdin, 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000)
  })
  child.stdin?.on('error', () => {})
  const exited = new Promise((resolve) => {
    child.on('error', (error) => resolve({ code: null, error }))
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  return { child, exited, stderr: () => stderr.trim() }
}

/** The most telling line of a failed program's stderr: its error, else its first line. */
const firstLine = (text) => {
  const lines = text.split('\n').filter((l) => l.trim())
  return lines.find((l) => /\w*Error\b|error:/.test(l))?.trim() ?? lines[0] ?? ''
}

/** Starts a server and waits for its `PORT <n>` line. */
async function startServer(server, mode, cpu) {
  const proc = launch(withCpu(cpu, [...server.cmd, '--mode', mode, '--port', '0']))
  proc.child.stdout.setEncoding('utf8')
  let out = ''
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no PORT line within 15 s')), 15_000)
    proc.child.stdout.on('data', (d) => {
      out += d
      const m = /^PORT (\d+)$/m.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    proc.exited.then(({ code, signal, error }) => {
      clearTimeout(timer)
      reject(new Error(error?.message ?? `exited (${code ?? signal}) before printing PORT`))
    })
  }).catch(async (e) => {
    await stopServer(proc)
    throw new Error(`${e.message}${proc.stderr() ? `: ${firstLine(proc.stderr())}` : ''}`)
  })
  return { ...proc, port }
}

/** Closes the server's stdin (its signal to exit); kills it if it lingers. */
async function stopServer(proc) {
  proc.child.stdin?.end()
  const timeout = (ms) => new Promise((r) => setTimeout(() => r('timeout'), ms).unref())
  if ((await Promise.race([proc.exited, timeout(2000)])) === 'timeout') {
    proc.child.kill('SIGTERM')
    if ((await Promise.race([proc.exited, timeout(2000)])) === 'timeout') {
      proc.child.kill('SIGKILL')
      await proc.exited
    }
  }
}

/** Runs a program that prints one JSON result line; rejects with its stderr on failure. */
async function runJson(argv) {
  const proc = launch(argv, 'ignore')
  let out = ''
  proc.child.stdout.setEncoding('utf8')
  proc.child.stdout.on('data', (d) => {
    out += d
  })
  const limit = (duration + warmup + 60) * 1000
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), limit)
  const { code, signal, error } = await proc.exited
  clearTimeout(timer)
  const last = out.trim().split('\n').at(-1)
  if (code !== 0 || !last) {
    const why = firstLine(proc.stderr()) || error?.message || `exit ${code ?? signal}`
    throw new Error(why)
  }
  return JSON.parse(last)
}

const timing = ['--duration', String(duration), '--warmup', String(warmup)]

async function measure(workload, server) {
  if (server.workloads && !server.workloads.includes(workload.id)) return null
  if (Boolean(server.udp) !== Boolean(workload.udp)) return null
  const cpus = cpusFor(workload.pin)
  if (workload.eagain) {
    if (server.native) return runJson(withCpu(cpus.client, [client, 'eagain', ...timing]))
    if (!server.eagain || !existsSync(server.eagain.at(-1))) return null
    return {
      unit: 'calls/s',
      ...(await runJson(withCpu(cpus.client, [...server.eagain, ...timing]))),
    }
  }
  const srv = await startServer(server, workload.mode, cpus.server)
  try {
    const argv = [client, ...workload.args, '--port', String(srv.port), ...timing]
    return await runJson(withCpu(cpus.client, [...argv, '--server-pid', String(srv.child.pid)]))
  } finally {
    await stopServer(srv)
  }
}

const median = (runs) => {
  const ok = runs.filter((r) => !r.error).sort((a, b) => a.rate - b.rate)
  return ok.length ? ok[Math.floor((ok.length - 1) / 2)] : runs[0]
}

// ---- run -------------------------------------------------------------------------------------

const started = Date.now()
const cpuModel = os.cpus()[0]?.model.trim() ?? 'unknown CPU'
const pinNote = canPin
  ? 'taskset: same = client and server on cpu 0, split = server 0, client 1'
  : 'no pinning'
console.log(
  `bsd-sockets workloads: ${cores} vCPU ${cpuModel}, Linux ${os.release()}, node ${process.version}`,
)
console.log(`${duration} s per run after ${warmup} s warm-up, ${rounds} round(s); ${pinNote}`)
for (const s of skipped)
  console.log(`skipping ${s.label}: ${path.relative(root, s.file)} does not exist yet`)

/** results[workload.id][server.id] = runs */
const results = {}
// --from: the results of earlier runs, merged (a later file's workload replaces an earlier one's).
for (const file of opt.from?.split(',') ?? []) {
  Object.assign(results, JSON.parse(readFileSync(file, 'utf8')).results)
}
for (let round = 0; round < (opt.from ? 0 : rounds); round++) {
  for (const w of workloads) {
    results[w.id] ??= {}
    for (const s of servers) {
      let r
      try {
        r = await measure(w, s)
      } catch (e) {
        r = { error: e.message }
      }
      if (r === null) continue
      results[w.id][s.id] ??= []
      results[w.id][s.id].push(r)
      const shown = r.error ? `FAIL ${r.error}` : formatRate(r)
      process.stderr.write(`  ${w.id.padEnd(12)} ${s.label.padEnd(24)} ${shown}\n`)
    }
  }
}

// ---- table -----------------------------------------------------------------------------------

function formatRate(r) {
  if (r.unit === 'bytes/s') return `${(r.rate / 1e9).toFixed(2)} GB/s`
  const unit =
    {
      'round_trips/s': 'rt/s',
      'conns/s': 'conn/s',
      'calls/s': 'calls/s',
      'datagrams/s': 'dgram/s',
    }[r.unit] ?? r.unit
  if (r.rate >= 1e6) return `${(r.rate / 1e6).toFixed(2)} M ${unit}`
  return `${Math.round(r.rate).toLocaleString('en-US')} ${unit}`
}

/** Server CPU seconds per op (per byte for stream), or null when not measured. */
const cpuPerOp = (r) => (r.server_cpu_s == null || !r.ops ? null : r.server_cpu_s / r.ops)

function serverCost(r) {
  const c = cpuPerOp(r)
  if (c === null) return '–'
  if (r.unit === 'bytes/s') return `${(c * 1e12).toFixed(0)} µs/MB`
  return `${(c * 1e6).toFixed(2)} µs`
}

/** Native's server CPU per op over this one's: 0.50 = twice native's CPU for the same work. */
function efficiency(r, base) {
  const [mine, theirs] = [cpuPerOp(r), base && !base.error ? cpuPerOp(base) : null]
  return mine && theirs ? (theirs / mine).toFixed(2) : '–'
}

const pct = (x) => (x == null ? '–' : `${Math.round(x * 100)} %`)
const rows = []
/** For --svg: per workload, each server's CPU/op vs native (or rate ratio without CPU). */
const chart = []
for (const w of workloads) {
  const byServer = results[w.id] ?? {}
  // The native baseline of this workload (TCP or UDP).
  const native = servers.find((s) => s.native && byServer[s.id])
  const base = native && median(byServer[native.id])
  const bars = []
  chart.push({ title: w.title, bars })
  for (const s of servers) {
    const runs = byServer[s.id]
    if (!runs) continue
    const r = median(runs)
    if (r.error) {
      rows.push([w.title, s.label, `FAIL: ${r.error.slice(0, 100)}`, '', '', '', '', ''])
      continue
    }
    const ratio = base && !base.error && base.rate > 0 ? (r.rate / base.rate).toFixed(2) : '–'
    const eff = Number(w.eagain ? ratio : efficiency(r, base))
    if (Number.isFinite(eff)) bars.push({ label: s.label, value: eff })
    let figure = formatRate(r)
    if (r.errors) figure += w.udp ? ` (${r.errors} lost)` : ` (${r.errors} conn errors)`
    // Away from the shared core, a client near a full core is the limit, not the server.
    if (w.pin !== 'same' && r.client_cpu >= 0.9 && !w.eagain) figure += ' ⚠client-bound'
    if (w.eagain) {
      rows.push([
        w.title,
        s.label,
        figure,
        ratio,
        pct(r.client_cpu),
        '–',
        `${(1e9 / r.rate).toFixed(0)} ns/call`,
        ratio,
      ])
    } else {
      const cells = [pct(r.client_cpu), pct(r.server_cpu), serverCost(r), efficiency(r, base)]
      rows.push([w.title, s.label, figure, ratio, ...cells])
    }
  }
}

const header = [
  'workload',
  'server',
  'figure',
  'vs native',
  'client CPU',
  'server CPU',
  'server CPU/op',
  'CPU/op vs native',
]
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
console.log()
console.log(line(header))
console.log(line(widths.map((n) => '-'.repeat(n))))
for (const r of rows) console.log(line(r))
console.log()
console.log(
  `pinning per workload: ${workloads.map((w) => `${w.id}=${canPin ? w.pin : 'none'}`).join(', ')}; ` +
    `total ${((Date.now() - started) / 1000).toFixed(0)} s`,
)

if (opt.svg) {
  const caption = `server CPU per op vs native (higher is better); ${cores} vCPU, node ${process.version}, ${rounds} round(s)`
  writeFileSync(
    opt.svg,
    barChart(
      chart.filter((g) => g.bars.length > 0),
      caption,
    ),
  )
}

if (opt.json) {
  const meta = {
    date: new Date().toISOString(),
    cores,
    cpuModel,
    kernel: os.release(),
    node: process.version,
  }
  const dump = { meta: { ...meta, duration, warmup, rounds, pinned: canPin }, results }
  writeFileSync(opt.json, `${JSON.stringify(dump, null, 2)}\n`)
}
