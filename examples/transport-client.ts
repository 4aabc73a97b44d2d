// A client written as a protocol: connects with loop.createConnection, sends a few lines to
// an echo server (transport-echo-server.ts), prints each line that comes back, and closes.
//
//   node dist-examples/transport-client.js 7000 hello world    # or PORT=7000; HOST=...
import { loop, type Protocol, type Transport } from 'bsd-sockets'

const PORT = Number(process.argv[2] ?? process.env.PORT ?? 7000)
const HOST = process.env.HOST ?? '127.0.0.1'
const LINES = process.argv.length > 3 ? process.argv.slice(3) : ['hello', 'from', 'a transport']

class LineClient implements Protocol {
  #pending = ''
  #lost!: (err: Error | null) => void
  /** Settles when the connection is gone: null after a clean close, else why it broke. */
  readonly closed = new Promise<Error | null>((resolve) => {
    this.#lost = resolve
  })

  connectionMade(transport: Transport): void {
    for (const line of LINES) transport.write(`${line}\n`)
    // Half-close: the server reads EOF after our lines, echoes what is left and closes.
    transport.writeEof()
  }
  dataReceived(data: Buffer): void {
    // A read may hold part of a line or several lines: print whole lines only.
    const lines = (this.#pending + data.toString()).split('\n')
    this.#pending = lines.pop() ?? ''
    for (const line of lines) console.log(`reply: ${line}`)
  }
  // eofReceived() is not needed: at the server's EOF the transport closes ours.
  connectionLost(err: Error | null): void {
    this.#lost(err)
  }
}

// idleTimeout: give up (ETIMEDOUT) if the server goes silent for 5 s.
const [, client] = await loop.createConnection(() => new LineClient(), HOST, PORT, {
  idleTimeout: 5,
})
const err = await client.closed
if (err) {
  console.error(`connection lost: ${err.message}`) // a SocketError says the errno: ECONNRESET...
  process.exitCode = 1
} else console.log('closed')
