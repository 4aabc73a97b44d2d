// The listening socket of every bsd-sockets TCP benchmark server: 127.0.0.1, SO_REUSEADDR,
// the contract's backlog (benchmark/README.md). Uses the built package (npm run build first).
import { AF_INET, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET, socket } from '../../dist/index.js'

/**
 * @param {{ port: number, backlog: number }} opts
 * @returns {import('../../dist/index.js').Socket}
 */
export function tcpListener({ port, backlog }) {
  const srv = socket(AF_INET, SOCK_STREAM)
  srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
  srv.bind(['127.0.0.1', port])
  srv.listen(backlog)
  return srv
}
