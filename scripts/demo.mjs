#!/usr/bin/env node
// Runs the seed scenario end to end: start the example server, show that it listens (the seed
// uses netstat; we use `ss`, or /proc/net/tcp{,6} when `ss` is missing), run the example client,
// and check that the server received what the client sent.
//
//   npm run demo          # builds dist/ and dist-examples/ first, then runs this file
//
// Plain Node ESM, no dependencies. Exits non-zero if either process fails, if the transcript is
// not the expected one, or if the whole run takes longer than 20 s (the children are killed).

import { execFile, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SERVER = path.join(ROOT, 'dist-examples', 'server.js')
const CLIENT = path.join(ROOT, 'dist-examples', 'client.js')
const DEFAULT_PORT = 9999
const DEADLINE_MS = 20_000
const POLL_MS = 50
// What examples/client.ts sends, in order; TCP may deliver it in any number of pieces.
const EXPECTED_DATA = 'Hello World101, 280, 237, 680'

/** @param {string} msg */
const say = (msg) => console.log(`[demo] ${msg}`)

/** Children still to be reaped, so every exit path can kill them. */
const children = new Set()

function killChildren() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
}

/**
 * Whether `port` can be bound on the wildcard address, as the example server will do.
 * Node sets SO_REUSEADDR on listeners, like the example, so a TIME_WAIT left by an earlier run
 * does not count as busy.
 * @param {number} port 0 to let the OS pick one
 * @returns {Promise<number | null>} the port bound, or null if it could not be bound
 */
function tryListen(port) {
  return new Promise((resolve) => {
    const srv = net.createServer()
    srv.once('error', () => resolve(null))
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => {
      const addr = srv.address()
      const bound = typeof addr === 'object' && addr !== null ? addr.port : null
      srv.close(() => resolve(bound))
    })
  })
}

/** PORT from the environment as given; else 9999, or a port the OS picks if 9999 is taken. */
async function choosePort() {
  const fromEnv = process.env.PORT
  if (fromEnv !== undefined && fromEnv !== '') {
    const port = Number(fromEnv)
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`PORT must be an integer in 1..65535, got ${JSON.stringify(fromEnv)}`)
    }
    return port
  }
  if ((await tryListen(DEFAULT_PORT)) !== null) return DEFAULT_PORT
  const port = await tryListen(0)
  if (port === null) throw new Error('could not get a free TCP port from the OS')
  say(`port ${DEFAULT_PORT} is busy; using ${port}`)
  return port
}

/**
 * Runs `ss -tln 'sport = :PORT'`.
 * @param {number} port
 * @returns {Promise<string[] | null>} its output lines if it lists a listener on `port`, else
 *   null (also when `ss` is missing or cannot read sockets, e.g. netlink denied in a sandbox)
 */
function ssListening(port) {
  return new Promise((resolve) => {
    execFile('ss', ['-tln', `sport = :${port}`], { encoding: 'utf8' }, (err, stdout) => {
      if (err) return resolve(null)
      const lines = stdout.trimEnd().split('\n')
      // Skip the header; with -l every row is a listener; the local column ends in ":PORT".
      const hit = lines
        .slice(1)
        .some((line) => line.split(/\s+/).some((col) => col.endsWith(`:${port}`)))
      resolve(hit ? lines : null)
    })
  })
}

/**
 * Decodes an address from /proc/net/tcp{,6}: hex digits of 32-bit words, each printed by the
 * kernel as a host-order integer, so on little-endian machines each word's bytes are reversed.
 * @param {string} hex
 * @returns {string} '0.0.0.0' or '[::]'
 */
function procAddress(hex) {
  /** @type {number[]} */
  const bytes = []
  for (let w = 0; w < hex.length; w += 8) {
    const word = Buffer.from(hex.slice(w, w + 8), 'hex')
    bytes.push(...(os.endianness() === 'LE' ? word.reverse() : word))
  }
  if (bytes.length === 4) return bytes.join('.')
  const groups = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16))
  // The WHATWG URL parser prints IPv6 in its canonical short form, brackets included.
  return new URL(`http://[${groups.join(':')}]/`).hostname
}

/**
 * Reads /proc/net/tcp and /proc/net/tcp6 (Linux) for sockets in LISTEN state (st 0A) on `port`.
 * @param {number} port
 * @returns {string[]} one netstat-like line per listener, e.g. 'tcp   LISTEN  0.0.0.0:9999'
 */
function procListening(port) {
  const lines = []
  for (const [file, proto] of [
    ['/proc/net/tcp', 'tcp'],
    ['/proc/net/tcp6', 'tcp6'],
  ]) {
    let text
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      continue // no IPv6, or not Linux
    }
    for (const row of text.split('\n').slice(1)) {
      // sl local_address rem_address st ...; local_address is ADDR:PORT in hex
      const cols = row.trim().split(/\s+/)
      if (cols.length < 4 || cols[3] !== '0A') continue
      const [addrHex, portHex] = cols[1].split(':')
      if (Number.parseInt(portHex, 16) !== port) continue
      lines.push(`${proto.padEnd(5)} LISTEN  ${procAddress(addrHex)}:${port}`)
    }
  }
  return lines
}

/**
 * Polls until something listens on `port`; fails if `server` exits first.
 * @param {number} port
 * @param {{ exited: boolean }} server
 * @returns {Promise<{ command: string, lines: string[] }>} what to show, netstat-style
 */
async function waitListening(port, server) {
  for (;;) {
    if (server.exited) throw new Error('the server exited before it listened')
    const ss = await ssListening(port)
    if (ss) return { command: `ss -tln 'sport = :${port}'`, lines: ss }
    const proc = procListening(port)
    if (proc.length) return { command: `/proc/net/tcp{,6} (no usable ss)`, lines: proc }
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

/**
 * Starts `node script` with PORT set; pipes its output through with a `[name]` prefix.
 * @param {string} name
 * @param {string} script
 * @param {number} port
 */
function start(name, script, port) {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  const run = {
    name,
    exited: false,
    /** @type {string[]} */
    stdout: [],
    /** @type {Promise<{ ok: boolean, how: string }>} */
    done: new Promise((resolve) => {
      child.once('error', (err) => {
        run.exited = true
        children.delete(child)
        resolve({ ok: false, how: `could not start: ${err.message}` })
      })
      // 'close' comes after the child's stdout/stderr ended, so every line is printed by then.
      child.once('close', (code, signal) => {
        run.exited = true
        children.delete(child)
        resolve({ ok: code === 0, how: signal ? `killed by ${signal}` : `exit code ${code}` })
      })
    }),
  }
  createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY }).on(
    'line',
    (line) => {
      run.stdout.push(line)
      process.stdout.write(`[${name}] ${line}\n`)
    },
  )
  createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) =>
    process.stderr.write(`[${name}] ${line}\n`),
  )
  return run
}

/**
 * Checks the transcript: the server prints its listening socket's TCP state (tcpInfo()), reports
 * a connection, then prints what it received as Python's print(data) would: `b'Hello World'`.
 * @param {string[]} serverOut
 * @param {string[]} clientOut
 */
function checkTranscript(serverOut, clientOut) {
  const hasTcpInfo = process.platform === 'linux' || process.platform === 'darwin'
  if (hasTcpInfo && !serverOut.includes('TCP state: LISTEN')) {
    throw new Error("the server did not print 'TCP state: LISTEN' (from tcpInfo())")
  }
  const connected = serverOut.findIndex((line) => line.startsWith('Connected by'))
  if (connected < 0) throw new Error("the server never printed 'Connected by ...'")
  const received = serverOut
    .slice(connected + 1)
    .map((line) => {
      const m = /^b'(.*)'$/.exec(line)
      if (!m)
        throw new Error(`the server printed ${JSON.stringify(line)}, not b'...' (Python's repr)`)
      return m[1].replace(/\\(x[0-9a-f]{2}|.)/g, (_, e) =>
        e[0] === 'x'
          ? String.fromCharCode(Number.parseInt(e.slice(1), 16))
          : ({ t: '\t', n: '\n', r: '\r' }[e] ?? e),
      )
    })
    .join('')
  if (received !== EXPECTED_DATA) {
    throw new Error(
      `the server received ${JSON.stringify(received)}, expected ${JSON.stringify(EXPECTED_DATA)}`,
    )
  }
  const sent = clientOut.filter((line) => /^Sent \d+ bytes\.$/.test(line))
  if (sent.length !== 2) throw new Error("the client did not print two 'Sent N bytes.' lines")
}

async function main() {
  for (const file of [SERVER, CLIENT]) {
    if (!existsSync(file)) {
      throw new Error(
        `${path.relative(ROOT, file)} is missing: run \`npm run demo\` (it builds dist/ and dist-examples/ first)`,
      )
    }
  }
  const port = await choosePort()

  say(`$ node dist-examples/server.js   (PORT=${port})`)
  const server = start('server', SERVER, port)
  const listening = await waitListening(port, server)
  say(`$ ${listening.command}`)
  for (const line of listening.lines) console.log(line)

  say(`$ node dist-examples/client.js   (PORT=${port})`)
  const client = start('client', CLIENT, port)
  const clientResult = await client.done
  if (!clientResult.ok) throw new Error(`the client failed (${clientResult.how})`)
  const serverResult = await server.done
  if (!serverResult.ok) throw new Error(`the server failed (${serverResult.how})`)

  checkTranscript(server.stdout, client.stdout)
  say('ok: the server received everything the client sent')
}

let finishing = false

/**
 * Ends the run once (a signal may race a failure): kills what is left, waits for it so its last
 * output is printed, exits.
 * @param {number} code
 * @param {string} [message]
 */
async function finish(code, message) {
  if (finishing) return
  finishing = true
  if (message) console.error(`[demo] FAILED: ${message}`)
  killChildren()
  const deadline = setTimeout(() => process.exit(code), 2_000)
  while (children.size) await new Promise((r) => setTimeout(r, 10))
  clearTimeout(deadline)
  process.exit(code)
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => finish(1, `interrupted by ${signal}`))
}

let timer
const timeout = new Promise((_, reject) => {
  timer = setTimeout(
    () => reject(new Error(`timed out after ${DEADLINE_MS / 1000} s; killing the examples`)),
    DEADLINE_MS,
  )
})

try {
  await Promise.race([main(), timeout])
  clearTimeout(timer)
  await finish(0)
} catch (err) {
  clearTimeout(timer)
  await finish(1, err instanceof Error ? err.message : String(err))
}
