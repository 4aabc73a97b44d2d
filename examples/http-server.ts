// An HTTP/1.1 responder written as a protocol: keep-alive, pipelining (several requests in one
// read, answered in order, in one write), requests split across reads, and request bodies
// (Content-Length) read and ignored. Every path gets the same small body. A sketch of parsing
// incrementally in dataReceived, with no dependencies; not a web framework.
//
//   node dist-examples/http-server.js 8080                          # or PORT=8080
//   curl -v http://127.0.0.1:8080/ http://127.0.0.1:8080/again      # two requests, one connection
//   wrk -t1 -c50 -d5s http://127.0.0.1:8080/
import { loop, type Protocol, type Transport } from 'bsd-sockets'

const PORT = Number(process.argv[2] ?? process.env.PORT ?? 8080)
const HOST = process.env.HOST ?? '127.0.0.1'
const BODY = 'Hello, World!\n'
const MAX_HEAD = 8192 // a request head longer than this is refused
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'

/** What this server needs from a request head. */
interface Head {
  method: string
  keepAlive: boolean
  bodyLength: number
}

/** Parses a request head (without its blank line); null if it is not HTTP/1.x we can serve. */
function parseHead(text: string): Head | null {
  const [requestLine = '', ...fields] = text.split('\r\n')
  const m = /^([A-Z]+) \S+ HTTP\/1\.([01])$/.exec(requestLine)
  if (m === null) return null
  let connection = ''
  let bodyLength = 0
  for (const field of fields) {
    const colon = field.indexOf(':')
    if (colon <= 0) return null
    const name = field.slice(0, colon).toLowerCase() // field names are case-insensitive
    const value = field.slice(colon + 1).trim()
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) return null
      bodyLength = Number(value)
    } else if (name === 'connection') connection = value.toLowerCase()
    else if (name === 'transfer-encoding') return null // chunked bodies: not in this sketch
  }
  // HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes unless told to keep it.
  const keepAlive = m[2] === '1' ? !connection.includes('close') : connection.includes('keep-alive')
  return { method: m[1] as string, keepAlive, bodyLength }
}

function response({ method, keepAlive }: Head): string {
  return (
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n' +
    `Content-Length: ${BODY.length}\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n` +
    (method === 'HEAD' ? '' : BODY)
  )
}

class Http implements Protocol {
  #transport!: Transport
  /** Bytes received and not parsed yet, as latin1: one char per byte, so lengths are bytes. */
  #buffer = ''
  /** The request whose body is still arriving, and how many body bytes are still to come. */
  #request: Head | undefined
  #bodyLeft = 0

  connectionMade(transport: Transport): void {
    this.#transport = transport
  }
  // Backpressure: while the client does not read its replies (more than 64 KiB wait in our
  // write buffer), stop reading its requests.
  pauseWriting(): void {
    this.#transport.pauseReading()
  }
  resumeWriting(): void {
    this.#transport.resumeReading()
  }

  dataReceived(data: Buffer): void {
    this.#buffer += data.toString('latin1')
    let replies = '' // every reply this read completes, sent with one write()
    let close = false
    for (;;) {
      if (this.#request) {
        // Skip the body: read, unused. The reply goes once all of it is in.
        const n = Math.min(this.#bodyLeft, this.#buffer.length)
        this.#buffer = this.#buffer.slice(n)
        this.#bodyLeft -= n
        if (this.#bodyLeft > 0) break
        replies += response(this.#request)
        close = !this.#request.keepAlive
        this.#request = undefined
        if (close) break
      }
      const end = this.#buffer.indexOf('\r\n\r\n')
      if (end < 0) {
        close = this.#buffer.length > MAX_HEAD
        if (close) replies += BAD_REQUEST
        break
      }
      const head = parseHead(this.#buffer.slice(0, end))
      this.#buffer = this.#buffer.slice(end + 4)
      if (head === null) {
        replies += BAD_REQUEST
        close = true
        break
      }
      this.#request = head
      this.#bodyLeft = head.bodyLength
    }
    if (replies) this.#transport.write(replies)
    if (close) this.#transport.close() // once the replies are sent
  }
}

// idleTimeout: a keep-alive connection silent for 30 s is closed (one timer for all of them).
const server = await loop.createServer(() => new Http(), HOST, PORT, { idleTimeout: 30 })
const [, port] = server.sockets[0].getsockname() as [string, number]
console.log(`http server listening on port ${port}`)
