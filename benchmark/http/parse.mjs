// The HTTP/1.1 work every server of benchmark/http.mjs does per read, the same as
// examples/http-server.ts: keep-alive, pipelining, split requests, bodies skipped, one
// reply string per read. Transport-agnostic: feed() returns what to write and whether to close.
const BODY = 'Hello, World!\n'
const MAX_HEAD = 8192
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'

function parseHead(text) {
  const [requestLine = '', ...fields] = text.split('\r\n')
  const m = /^([A-Z]+) \S+ HTTP\/1\.([01])$/.exec(requestLine)
  if (m === null) return null
  let connection = ''
  let bodyLength = 0
  for (const field of fields) {
    const colon = field.indexOf(':')
    if (colon <= 0) return null
    const name = field.slice(0, colon).toLowerCase()
    const value = field.slice(colon + 1).trim()
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) return null
      bodyLength = Number(value)
    } else if (name === 'connection') connection = value.toLowerCase()
    else if (name === 'transfer-encoding') return null
  }
  const keepAlive = m[2] === '1' ? !connection.includes('close') : connection.includes('keep-alive')
  return { method: m[1], keepAlive, bodyLength }
}

function response({ method, keepAlive }) {
  return (
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n' +
    `Content-Length: ${BODY.length}\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n` +
    (method === 'HEAD' ? '' : BODY)
  )
}

export class HttpParser {
  buffer = ''
  request = undefined
  bodyLeft = 0

  /** @returns {[replies: string, close: boolean]} */
  feed(data) {
    this.buffer += data.toString('latin1')
    let replies = ''
    let close = false
    for (;;) {
      if (this.request) {
        const n = Math.min(this.bodyLeft, this.buffer.length)
        this.buffer = this.buffer.slice(n)
        this.bodyLeft -= n
        if (this.bodyLeft > 0) break
        replies += response(this.request)
        close = !this.request.keepAlive
        this.request = undefined
        if (close) break
      }
      const end = this.buffer.indexOf('\r\n\r\n')
      if (end < 0) {
        close = this.buffer.length > MAX_HEAD
        if (close) replies += BAD_REQUEST
        break
      }
      const head = parseHead(this.buffer.slice(0, end))
      this.buffer = this.buffer.slice(end + 4)
      if (head === null) {
        replies += BAD_REQUEST
        close = true
        break
      }
      this.request = head
      this.bodyLeft = head.bodyLength
    }
    return [replies, close]
  }
}

export { BODY }
