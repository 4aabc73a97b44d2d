// The seed tutorial's server: accept one TCP connection and print what it sends.
//
//   npm run build && npx tsc -p tsconfig.examples.json
//   node dist-examples/server.js          # then, in another terminal: node dist-examples/client.js
//
// Every call blocks, as in Python: fine for a script, never on a busy server's main thread.
import { AF_INET, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET, socket } from 'bsd-sockets'

const PORT = Number(process.env.PORT ?? 9999)

// A TCP/IPv4 socket, like Python's socket.socket(socket.AF_INET, socket.SOCK_STREAM).
const srv = socket(AF_INET, SOCK_STREAM)
// Let a rerun bind the port at once, even while the last run's connection sits in TIME_WAIT.
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
// '' is the wildcard address (0.0.0.0): listen on every interface.
srv.bind(['', PORT])
// Queue up to 5 connections that have not been accepted yet.
srv.listen(5)
// The kernel's view of the socket (TCP_INFO on Linux, TCP_CONNECTION_INFO on macOS): 'LISTEN'.
if (process.platform === 'linux' || process.platform === 'darwin') {
  console.log('TCP state:', srv.tcpInfo().state)
}

// Wait for a client; get a new socket for the connection and the client's [host, port].
const [conn, addr] = srv.accept()
// Printed as Python prints the tuple: Connected by ('127.0.0.1', 50506).
const [host, port] = addr as [string, number]
console.log(`Connected by ('${host}', ${port})`)

// What Python's print(data) shows for bytes: b'Hello World', other bytes escaped (\xff).
function repr(data: Buffer): string {
  const ESCAPES: Record<number, string> = { 9: '\\t', 10: '\\n', 13: '\\r', 39: "\\'", 92: '\\\\' }
  let text = ''
  for (const byte of data) {
    if (ESCAPES[byte]) text += ESCAPES[byte]
    else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte)
    else text += `\\x${byte.toString(16).padStart(2, '0')}`
  }
  return `b'${text}'`
}

// recv() returns up to 100 bytes as a Buffer; an empty Buffer means the client closed.
let data = conn.recv(100)
while (data.length) {
  console.log(repr(data))
  data = conn.recv(100)
}

conn.close()
srv.close()
