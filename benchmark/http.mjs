// HTTP/1.1 keep-alive under wrk: server CPU per request for the same request handling on
// a transport (loop.createServer), on node:net, and node:http for reference, plus the
// transport example itself (examples/http-server.ts). Server on cpu 0, wrk on cpu 1, so wrk
// is not charged to the server; CPU is read from /proc/<pid>/stat over the wrk run, split
// into user space (the server's own code) and kernel (recv, send, epoll: the same work for
// every server).
//
//   npm run build && npx tsc -p tsconfig.examples.json && node benchmark/http.mjs
//   node benchmark/http.mjs --conns 50 --duration 5 --rounds 3
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { values: opt } = parseArgs({
  options: {
    conns: { type: 'string', default: '50' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
  },
})
const conns = Number(opt.conns)
const rounds = Number(opt.rounds)

if (spawnSync('wrk', ['--version']).error) {
  console.error('http.mjs: wrk is not installed (Debian: apt-get install wrk)')
  process.exit(1)
}
const example = path.join(root, 'dist-examples', 'http-server.js')
const SERVERS = [
  { id: 'transport', cmd: [path.join(root, 'benchmark/http/servers.mjs'), 'transport'] },
  { id: 'example', cmd: [example, '0'], file: example },
  { id: 'node:net', cmd: [path.join(root, 'benchmark/http/servers.mjs'), 'net'] },
  { id: 'node:http', cmd: [path.join(root, 'benchmark/http/servers.mjs'), 'http'] },
]

/** `[utime, stime]` of `pid`, in seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return [Number(f[11]) / 100, Number(f[12]) / 100]
}

async function start(server) {
  const child = spawn('taskset', ['-c', '0', process.execPath, ...server.cmd], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const port = await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d
      const m = /(?:PORT |port )(\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.on('exit', (c) => reject(new Error(`${server.id} exited (${c}) before listening`)))
  })
  return { child, port }
}

function wrk(port, seconds) {
  const out = execFileSync(
    'taskset',
    ['-c', '1', 'wrk', '-t1', `-c${conns}`, `-d${seconds}s`, `http://127.0.0.1:${port}/`],
    { encoding: 'utf8' },
  )
  const requests = Number(/(\d+) requests in/.exec(out)?.[1])
  const errors = /Non-2xx|Socket errors/.test(out)
  if (!requests || errors) throw new Error(`wrk: ${out}`)
  return requests
}

const results = {}
for (let r = 0; r < rounds; r++) {
  for (const server of SERVERS) {
    if (server.file && !existsSync(server.file)) {
      if (r === 0)
        console.log(`skipping ${server.id}: build the examples (npx tsc -p tsconfig.examples.json)`)
      continue
    }
    const { child, port } = await start(server)
    wrk(port, Number(opt.warmup)) // JIT warm-up, not measured
    const before = cpuSeconds(child.pid)
    const requests = wrk(port, Number(opt.duration))
    const after = cpuSeconds(child.pid)
    const user = after[0] - before[0]
    const cpu = user + after[1] - before[1]
    child.kill()
    results[server.id] ??= []
    results[server.id].push({
      rps: requests / Number(opt.duration),
      usPerReq: (cpu / requests) * 1e6,
      userPerReq: (user / requests) * 1e6,
    })
    process.stderr.write(
      `  ${server.id.padEnd(10)} ${Math.round(requests / Number(opt.duration))} req/s, ${((cpu / requests) * 1e6).toFixed(2)} µs CPU/req\n`,
    )
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]
const net = median(results['node:net'].map((x) => x.usPerReq))
const httpRef = median(results['node:http'].map((x) => x.usPerReq))
console.log(
  `\nwrk -t1 -c${conns} -d${opt.duration}s, server on cpu 0, wrk on cpu 1, median of ${rounds}`,
)
console.log(
  '| server | req/s | server CPU/req | of which user space | vs node:net | vs node:http | user space vs node:http |',
)
console.log('| --- | --- | --- | --- | --- | --- | --- |')
const httpUser = median(results['node:http'].map((x) => x.userPerReq))
for (const [id, runs] of Object.entries(results)) {
  const us = median(runs.map((x) => x.usPerReq))
  const rps = median(runs.map((x) => x.rps))
  const user = median(runs.map((x) => x.userPerReq))
  console.log(
    `| ${id} | ${Math.round(rps).toLocaleString('en-US')} | ${us.toFixed(2)} µs | ${user.toFixed(2)} µs | ${(us / net).toFixed(2)} | ${(us / httpRef).toFixed(2)} | ${(user / httpUser).toFixed(2)} |`,
  )
}
