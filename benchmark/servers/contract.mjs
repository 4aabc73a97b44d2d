// What every benchmark server shares (benchmark/README.md, "Contract for a benchmark server"):
// its options and the stdin leash the runner holds it by.
import { fstatSync } from 'node:fs'

const MODES = ['echo', 'sink', 'close', 'udp-echo']

/** SO_RCVBUF / SO_SNDBUF of every UDP server, as bench-client sets its own (sys.rs UDP_BUFFER). */
export const UDP_BUFFER = 1 << 20

/**
 * `--mode echo|sink|close|udp-echo --port 0 --backlog 4096` from argv, plus the server's own
 * options named in `extra` (with their defaults); exits with code 2 and a message naming
 * `server` on an unknown option or mode.
 * @param {string} server
 * @param {Record<string, string>} [extra]
 * @returns {{ mode: 'echo' | 'sink' | 'close' | 'udp-echo', port: number, backlog: number } & Record<string, string>}
 */
export function serverOptions(server, extra = {}) {
  const opts = { mode: 'echo', port: '0', backlog: '4096', ...extra }
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
  return { ...opts, port: Number(opts.port), backlog: Number(opts.backlog) }
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
