// The node:dgram peer of crates/bench's bench-udp-server: every datagram sent back to its
// sender, on Node's own UDP sockets.
//
//   node benchmark/servers/dgram-echo.mjs [--mode udp-echo] [--port 0]
import dgram from 'node:dgram'
import { exitWhenStdinCloses, serverOptions, UDP_BUFFER } from './contract.mjs'

const opts = serverOptions('dgram-echo')
const sock = dgram.createSocket({
  type: 'udp4',
  recvBufferSize: UDP_BUFFER,
  sendBufferSize: UDP_BUFFER,
})
sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address))
sock.bind(opts.port, '127.0.0.1', () => process.stdout.write(`PORT ${sock.address().port}\n`))
exitWhenStdinCloses()
