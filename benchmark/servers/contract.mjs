// What every benchmark server shares (benchmark/README.md, "Contract for a benchmark server"):
// its options and the stdin leash the runner holds it by.
import { fstatSync } from 'node:fs'

const MODES = ['echo', 'sink', 'close']

/**
 * `--mode echo|sink|close --port 0 --backlog 4096` from argv; exits with code 2 and a message
 * naming `server` on an unknown option or mode.
 * @param {string} server
 * @returns {{ mode: 'echo' | 'sink' | 'close', port: number, backlog: number }}
 */
export function serverOptions(server) {
  const opts = { mode: 'echo', port: '0', backlog: '4096' }
  const argv = process.argv.slice(2)
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '')
    if (!(key in opts) || argv[i + 1] === undefined) {
      console.error(`${server}: bad option ${argv[i]}`)
      process.exit(2)
    }
    opts[key] = argv[i + 1]
  }
  if (!MODES.includes(opts.mode)) {
    console.error(`${server}: unknown mode ${opts.mode}`)
    process.exit(2)
  }
  return { mode: opts.mode, port: Number(opts.port), backlog: Number(opts.backlog) }
}

/**
 * A pipe on stdin is the runner's leash: end of file stops the server. Anything else (a
 * terminal, /dev/null) leaves only a signal to do it, as for bench-server.
 */
export function exitWhenStdinCloses() {
  const stdin = fstatSync(0)
  if (stdin.isFIFO() || stdin.isSocket()) {
    process.stdin.on('end', () => process.exit(0))
    process.stdin.on('error', () => process.exit(0))
    process.stdin.resume()
  }
}
