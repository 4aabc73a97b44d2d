// An echo server written as a protocol (Python asyncio's low-level API, on Node's event loop):
// the transport reads, buffers what the kernel would not take, and closes; the protocol only
// says what to do with the bytes.
//
//   npm run build && npx tsc -p tsconfig.examples.json
//   node dist-examples/transport-echo-server.js 7000      # or PORT=7000; port 0: any free port
//   node dist-examples/transport-client.js 7000           # in another shell
//   BUFFERED=1 node dist-examples/transport-echo-server.js  # the BufferedProtocol version
import { type BufferedProtocol, loop, type Protocol, type Transport } from 'bsd-sockets'

const PORT = Number(process.argv[2] ?? process.env.PORT ?? 7000)
const HOST = process.env.HOST ?? '127.0.0.1'

/** Gets each read as a new Buffer (asyncio's Protocol). */
class Echo implements Protocol {
  #transport!: Transport
  connectionMade(transport: Transport): void {
    this.#transport = transport
  }
  dataReceived(data: Buffer): void {
    this.#transport.write(data)
  }
  // Backpressure: while the client does not read what we send back (more than 64 KiB waits in
  // our write buffer), stop reading what it sends; the kernel then makes it wait.
  pauseWriting(): void {
    this.#transport.pauseReading()
  }
  resumeWriting(): void {
    this.#transport.resumeReading()
  }
  // No eofReceived(): when the client shuts down its side, the transport closes ours once
  // everything written has been sent.
}

// The same with a BufferedProtocol: every read lands in a buffer of the protocol's own, with
// no allocation and no copy. One buffer serves every connection: getBuffer() is called right
// before each read and bufferUpdated() right after, and write() copies whatever the kernel
// does not take at once, so the buffer is free again as soon as bufferUpdated() returns.
const shared = Buffer.allocUnsafe(65536)

class BufferedEcho implements BufferedProtocol {
  #transport!: Transport
  connectionMade(transport: Transport): void {
    this.#transport = transport
  }
  getBuffer(_sizeHint: number): Uint8Array {
    return shared
  }
  bufferUpdated(nbytes: number): void {
    this.#transport.write(shared.subarray(0, nbytes))
  }
  pauseWriting(): void {
    this.#transport.pauseReading()
  }
  resumeWriting(): void {
    this.#transport.resumeReading()
  }
}

const factory = process.env.BUFFERED ? () => new BufferedEcho() : () => new Echo()
const server = await loop.createServer(factory, HOST, PORT)
const [, port] = server.sockets[0].getsockname() as [string, number]
console.log(`echo server listening on port ${port}`)

// Ctrl-C: stop accepting, let each connection send what it has buffered, then exit.
process.once('SIGINT', async () => {
  server.close()
  server.closeClients()
  await server.waitClosed()
  console.log('echo server closed')
})
