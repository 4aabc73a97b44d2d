// User-space instructions per echo round trip, by callgrind: each server runs under
// `valgrind --tool=callgrind` twice, driven by a fixed-count Python client (fan-out: every
// connection sends, then every reply is read), and the figure is the slope between the two
// counts, so start-up and JIT warm-up cancel out. Instruction counts do not move with the
// noise of a shared machine, which is what design comparisons need; the kernel's share of the
// work (recv, send, epoll) is not counted, and is the same for every server. How many
// connections one loop turn finds ready still varies from run to run (about ±15 % per
// figure), so each figure is the median of `--repeat` slopes.
//
//   node benchmark/instructions.mjs [--conns 50] [--rounds 200,600] [--size 64] [--repeat 3]
//                                   [--servers poller,transport,buffered,...]
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const SERVERS = {
  poller: ['servers/bsd-poller.mjs'],
  transport: ['servers/bsd-transport.mjs'],
  buffered: ['servers/bsd-transport.mjs', '--protocol', 'buffered'],
  async: ['servers/bsd-echo.mjs'],
  net: ['servers/net-echo.mjs'],
}

const opts = {
  conns: '50',
  rounds: '200,600',
  size: '64',
  repeat: '3',
  servers: Object.keys(SERVERS).join(),
}
const argv = process.argv.slice(2)
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '')
  if (!(key in opts) || argv[i + 1] === undefined) {
    console.error(`instructions: bad option ${argv[i]}`)
    process.exit(2)
  }
  opts[key] = argv[i + 1]
}
const [few, many] = opts.rounds.split(',').map(Number)
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('instructions: valgrind is missing (apt-get install valgrind)')
  process.exit(1)
}

const CLIENT = `
import socket, sys
port, conns, rounds, size = map(int, sys.argv[1:])
socks = [socket.create_connection(('127.0.0.1', port)) for _ in range(conns)]
msg = b'x' * size
for _ in range(rounds):
    for s in socks:
        s.sendall(msg)
    for s in socks:
        got = 0
        while got < size:
            got += len(s.recv(size - got))
`

/** Total instructions of one server run serving `rounds` round trips on each connection. */
async function count(script, rounds) {
  const dir = mkdtempSync(join(tmpdir(), 'callgrind-'))
  const out = join(dir, 'out')
  const server = spawn(
    'valgrind',
    ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, ...script],
    { cwd: here, stdio: ['pipe', 'pipe', 'ignore'] },
  )
  const port = await new Promise((resolve, reject) => {
    let text = ''
    server.stdout.on('data', (d) => {
      text += d
      const m = /PORT (\d+)/.exec(text)
      if (m) resolve(Number(m[1]))
    })
    server.on('exit', () => reject(new Error(`${script[0]} exited before it listened`)))
  })
  const client = spawnSync(
    'python3',
    ['-c', CLIENT, String(port), opts.conns, String(rounds), opts.size],
    { stdio: 'inherit', timeout: 600_000 },
  )
  if (client.status !== 0) throw new Error(`the client failed against ${script[0]}`)
  const exited = new Promise((resolve) => server.on('exit', resolve))
  server.stdin.end()
  await exited
  const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(out, 'utf8'))
  rmSync(dir, { recursive: true })
  if (!totals) throw new Error(`no callgrind total for ${script[0]}`)
  return Number(totals[1])
}

const trips = (many - few) * Number(opts.conns)
console.log(
  `instructions per round trip: ${opts.conns} connections, ${opts.size} B, slope between ${few} and ${many} rounds`,
)
for (const name of opts.servers.split(',')) {
  const script = SERVERS[name]
  if (!script) throw new Error(`unknown server ${name}: one of ${Object.keys(SERVERS).join(', ')}`)
  const slopes = []
  for (let i = 0; i < Number(opts.repeat); i++) {
    const a = await count(script, few)
    const b = await count(script, many)
    slopes.push(Math.round((b - a) / trips))
  }
  const sorted = slopes.toSorted((x, y) => x - y)
  console.log(`${name.padEnd(10)} ${sorted[sorted.length >> 1]}  (runs: ${slopes.join(', ')})`)
}
