// A RESP (Redis protocol) server written as a protocol: PING, ECHO, SET, GET and DEL on an
// in-memory map. Commands come as RESP arrays of bulk strings (what clients send) or inline
// (what you type in telnet), parsed incrementally: a command may arrive split across reads,
// or many in one read (pipelining); the replies to one read go out in order, in one write.
//
//   node dist-examples/resp-server.js 6380          # or PORT=6380
//   redis-cli -p 6380 set greeting hello && redis-cli -p 6380 get greeting
//   redis-benchmark -p 6380 -q -t ping,set,get -P 16     # it warns that CONFIG is unknown here
import { loop, type Protocol, type Transport } from 'bsd-sockets'

const PORT = Number(process.argv[2] ?? process.env.PORT ?? 6380)
const HOST = process.env.HOST ?? '127.0.0.1'
const MAX_LINE = 65536 // an inline command or a length line longer than this is refused

/** Keys and values as latin1 strings: one char per byte, so any bytes survive unchanged. */
const store = new Map<string, string>()

class ProtocolError extends Error {}

/** Where the line at `pos` ends (at `eol`), or -1 while it is incomplete. */
function lineEnd(buf: string, pos: number, eol: string): number {
  const end = buf.indexOf(eol, pos)
  if (end < 0 && buf.length - pos > MAX_LINE) throw new ProtocolError('too big request')
  return end
}

/** The decimal number in `buf` from `from` to `to`. */
function int(buf: string, from: number, to: number, what: string): number {
  const digits = buf.slice(from, to)
  if (!/^\d{1,9}$/.test(digits)) throw new ProtocolError(`invalid ${what}`)
  return Number(digits)
}

/** The command at `pos`: its arguments and where the next one starts; null if incomplete. */
function parse(buf: string, pos: number): [string[], number] | null {
  if (buf[pos] !== '*') {
    // Inline: words on a line ending in \n (\r\n from telnet; the \r goes with the spaces).
    const end = lineEnd(buf, pos, '\n')
    if (end < 0) return null
    return [buf.slice(pos, end).split(/\s+/).filter(Boolean), end + 1]
  }
  // *<count>\r\n then <count> times $<length>\r\n<bytes>\r\n
  let end = lineEnd(buf, pos, '\r\n')
  if (end < 0) return null
  const count = int(buf, pos + 1, end, 'multibulk length')
  const args: string[] = []
  pos = end + 2
  while (args.length < count) {
    if (pos >= buf.length) return null
    if (buf[pos] !== '$') throw new ProtocolError(`expected '$', got '${buf[pos]}'`)
    end = lineEnd(buf, pos, '\r\n')
    if (end < 0) return null
    const length = int(buf, pos + 1, end, 'bulk length')
    pos = end + 2
    if (buf.length < pos + length + 2) return null
    if (buf.slice(pos + length, pos + length + 2) !== '\r\n') throw new ProtocolError('no CRLF')
    args.push(buf.slice(pos, pos + length))
    pos += length + 2
  }
  return [args, pos]
}

const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`
const error = (message: string) => `-ERR ${message.replace(/[\r\n]/g, ' ')}\r\n`

/** Runs one command; returns its reply. */
function execute([name = '', ...args]: string[]): string {
  switch (name.toUpperCase()) {
    case 'PING':
      if (args.length <= 1) return args.length ? bulk(args[0] as string) : '+PONG\r\n'
      break
    case 'ECHO':
      if (args.length === 1) return bulk(args[0] as string)
      break
    case 'SET':
      if (args.length !== 2) break
      store.set(args[0] as string, args[1] as string)
      return '+OK\r\n'
    case 'GET': {
      if (args.length !== 1) break
      const value = store.get(args[0] as string)
      return value === undefined ? '$-1\r\n' : bulk(value)
    }
    case 'DEL':
      if (args.length === 0) break
      return `:${args.filter((key) => store.delete(key)).length}\r\n`
    default:
      return error(`unknown command '${name.slice(0, 128)}'`)
  }
  return error(`wrong number of arguments for '${name.toLowerCase()}' command`)
}

class Resp implements Protocol {
  #transport!: Transport
  /** Bytes received and not parsed yet, as latin1 (lengths in chars are lengths in bytes). */
  #buffer = ''

  connectionMade(transport: Transport): void {
    this.#transport = transport
  }
  // Backpressure: while the client does not read its replies (more than 64 KiB wait in our
  // write buffer), stop reading its commands.
  pauseWriting(): void {
    this.#transport.pauseReading()
  }
  resumeWriting(): void {
    this.#transport.resumeReading()
  }

  dataReceived(data: Buffer): void {
    this.#buffer += data.toString('latin1')
    let replies = '' // the replies to every command this read completes, sent in one write()
    let pos = 0
    let bad = false
    try {
      for (let command = parse(this.#buffer, 0); command; command = parse(this.#buffer, pos)) {
        pos = command[1]
        if (command[0].length > 0) replies += execute(command[0])
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e // a bug: the transport reports it and closes
      replies += `-ERR Protocol error: ${e.message}\r\n` // as Redis does, then it closes
      bad = true
    }
    this.#buffer = this.#buffer.slice(pos)
    if (replies) this.#transport.write(Buffer.from(replies, 'latin1'))
    if (bad) this.#transport.close()
  }
}

const server = await loop.createServer(() => new Resp(), HOST, PORT)
const [, port] = server.sockets[0].getsockname() as [string, number]
console.log(`resp server listening on port ${port}`)
