// A client for echo-server.ts: N connections at once, each sends a line and reads it back.
//
//   PORT=7000 CLIENTS=100 node dist-examples/echo-client.js
import { AF_INET, SOCK_STREAM, socket } from 'bsd-sockets'

const PORT = Number(process.env.PORT ?? 7000)
const CLIENTS = Number(process.env.CLIENTS ?? 10)

async function once(i: number): Promise<string> {
  const s = socket(AF_INET, SOCK_STREAM)
  try {
    await s.connectAsync(['127.0.0.1', PORT], { timeout: 5 })
    await s.sendallAsync(`hello from client ${i}\n`)
    return (await s.recvAsync(1024, 0, { timeout: 5 })).toString().trim()
  } finally {
    s.close()
  }
}

const replies = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => once(i)))
console.log(`${replies.length} replies, e.g. "${replies[0]}"`)
