// createServer on a Unix path: asyncio's create_unix_server semantics for the socket file.
import { existsSync, lstatSync, renameSync, writeFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AF_INET,
  AF_UNIX,
  createServer,
  fromfd,
  SOCK_STREAM,
  type Socket,
  SocketError,
  socket,
} from '../ts/index.js'
import {
  abstractName,
  closeTracked,
  errname,
  hasUnixStream,
  tmpUnixPath,
  track,
} from './helpers.js'

afterEach(closeTracked)

/** Connects to `path`, sends a byte and reads it back through `srv`: the server works. */
function exchange(srv: Socket, path: string): void {
  const c = track(socket(AF_UNIX, SOCK_STREAM))
  c.settimeout(5)
  c.connect(path)
  c.sendall('x')
  srv.settimeout(5)
  const [conn] = srv.accept()
  track(conn)
  conn.settimeout(5)
  expect(conn.recv(1).toString()).toBe('x')
}

describe('createServer(path)', () => {
  it.skipIf(!hasUnixStream)(
    'listens on AF_UNIX, removes its socket file on close, and a restart binds again',
    () => {
      const path = tmpUnixPath()
      const srv = createServer(path)
      expect(srv.family).toBe(AF_UNIX)
      expect(lstatSync(path).isSocket()).toBe(true)
      exchange(srv, path)
      srv.close()
      expect(existsSync(path)).toBe(false)
      const again = track(createServer(path))
      exchange(again, path)
    },
  )

  it.skipIf(!hasUnixStream)(
    'removes a socket file a dead server left (closed without cleanup) before binding',
    () => {
      const path = tmpUnixPath()
      const dead = socket(AF_UNIX, SOCK_STREAM)
      dead.bind(path)
      dead.listen()
      dead.close() // a plain socket leaves its file, as a crashed server would
      expect(lstatSync(path).isSocket()).toBe(true)
      expect(() => track(socket(AF_UNIX, SOCK_STREAM)).bind(path)).toThrow(/EADDRINUSE/)
      exchange(track(createServer(path)), path)
    },
  )

  it.skipIf(!hasUnixStream)('cleanupSocket: false leaves the file; detach() leaves it too', () => {
    const path = tmpUnixPath()
    createServer(path, { cleanupSocket: false }).close()
    expect(lstatSync(path).isSocket()).toBe(true)
    // The server lives on elsewhere after detach(): its file must stay.
    const moved = fromfd(createServer(path).detach())
    expect(lstatSync(path).isSocket()).toBe(true)
    exchange(moved, path)
    moved.close()
    expect(lstatSync(path).isSocket()).toBe(true)
  })

  it.skipIf(!hasUnixStream)(
    'does not remove a file that replaced its own, nor a file that is not a socket',
    () => {
      const path = tmpUnixPath()
      const srv = createServer(path)
      const other = tmpUnixPath('other')
      const second = track(createServer(other))
      renameSync(other, path) // another server's socket now sits at path
      srv.close()
      expect(lstatSync(path).isSocket()).toBe(true)
      exchange(second, path)
      const plain = tmpUnixPath('plain')
      writeFileSync(plain, 'not a socket')
      const err = (() => {
        try {
          createServer(plain)
        } catch (e) {
          return e
        }
      })()
      expect(err).toBeInstanceOf(SocketError)
      expect((err as SocketError).code).toBe(errname('EADDRINUSE'))
      expect(lstatSync(plain).isFile()).toBe(true)
    },
  )

  // Windows: no abstract names.
  it.skipIf(!hasUnixStream || process.platform === 'win32')(
    'an abstract name has no file and needs no cleanup',
    () => {
      const name = abstractName()
      const srv = track(createServer(name))
      exchange(srv, name)
    },
  )

  it('a path with family AF_INET, or AF_UNIX with a tuple, is a TypeError', () => {
    expect(() => createServer(tmpUnixPath(), { family: AF_INET })).toThrow(TypeError)
    expect(() => createServer(['127.0.0.1', 0], { family: AF_UNIX })).toThrow(TypeError)
    expect(() => createServer(tmpUnixPath(), { cleanupSocket: 1 as unknown as boolean })).toThrow(
      TypeError,
    )
  })
})
