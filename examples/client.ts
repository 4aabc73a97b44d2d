// The seed tutorial's client: connect to the server and send it two messages.
//
//   node dist-examples/client.js          # with dist-examples/server.js already running
import { AF_INET, SOCK_STREAM, socket } from 'bsd-sockets'

const PORT = Number(process.env.PORT ?? 9999)

const s = socket(AF_INET, SOCK_STREAM)
// Connecting to '' (0.0.0.0) reaches this machine, as in the Python tutorial.
s.connect(['', PORT])

// send() takes a Buffer (or any TypedArray) or a string (sent as UTF-8) and returns the number
// of bytes the kernel accepted. Use sendall() when every byte must go out.
console.log(`Sent ${s.send(Buffer.from('Hello World'))} bytes.`)
console.log(`Sent ${s.send('101, 280, 237, 680')} bytes.`)

// Closing sends end-of-stream: the server's recv() returns an empty Buffer.
s.close()
