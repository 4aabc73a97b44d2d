// Server: asyncio's `Server` for protocols: accepts on listening sockets from Node's event
// loop and gives each connection a Transport and a new protocol. Out of fds it pauses and
// resumes (no spinning on a readable listener); an accept error concerning one connection
// skips it; a protocol that throws loses its connection, and the server goes on.
import { acceptErrorKind, fdsFreed } from './accept-errors.js'
import { native } from './binding.js'
import { onClose } from './close-hooks.js'
import { SO_ACCEPTCONN, SOL_SOCKET } from './constants.js'
import { errnoError } from './errors.js'
import { callExceptionHandler } from './exception-handler.js'
import { wouldBlock } from './fast.js'
import type { ProtocolFactory } from './protocols.js'
import { READABLE, register, setActive, type Target, unregister, watchFd } from './reactor.js'
import { RELEASE_WATCH, type Socket } from './socket.js'
import { type StreamProtocol, Transport, type TransportOptions } from './transport.js'

const { reactorSetRef, reactorUnwatch } = native
/** Connections one listener accepts per loop turn, so one busy port cannot starve the rest. */
const ACCEPT_BATCH = 128

/** Options of a Server (from `loop.createServer`). */
export interface ServerOptions extends TransportOptions {
  /** Listen queue length, when the server calls listen(2) itself; default `min(SOMAXCONN, 128)`. */
  backlog?: number
  /** Start accepting at once (default); else call `startServing()`. */
  startServing?: boolean
}

/** One listening socket's watch. */
class Listener implements Target {
  readonly id: number
  armed = false
  paused = false
  /** Out of fds since the last accept that worked: a retry that fails again is not news. */
  starved = false
  readonly off: () => void

  constructor(
    readonly server: Server,
    readonly sock: Socket,
  ) {
    this.id = register(this)
    // The socket closed by someone else: stop watching before its fd goes.
    this.off = onClose(sock, () => this.stop())
  }

  ready(): void {
    this.server._accept(this)
  }

  arm(on: boolean): void {
    if (on === this.armed || this.sock.fileno() === -1) return
    watchFd(this.id, this.sock.fileno(), on ? READABLE : 0, 'serving it')
    if (on) reactorSetRef(this.id, true)
    setActive(this.id, this, on)
    this.armed = on
  }

  stop(): void {
    this.off()
    reactorUnwatch(this.id)
    unregister(this.id)
    setActive(this.id, this, false)
    this.armed = false
  }
}

/**
 * A server for a protocol: asyncio's `Server`. Made by `loop.createServer`; accepts on
 * its sockets from Node's event loop, each connection with a new protocol from the factory.
 */
export class Server {
  readonly #factory: ProtocolFactory<StreamProtocol>
  readonly #listeners: Listener[]
  readonly #transports = new Set<Transport>()
  readonly #options: TransportOptions
  #serving = false
  #closed = false
  #waiters: (() => void)[] = []

  /** @internal Use `loop.createServer`. */
  constructor(
    sockets: Socket[],
    factory: ProtocolFactory<StreamProtocol>,
    options: ServerOptions = {},
  ) {
    this.#factory = factory
    this.#options = { idleTimeout: options.idleTimeout }
    for (const s of sockets) {
      // A socket that had acceptAsync calls keeps its own watch, and libuv takes one per fd.
      s[RELEASE_WATCH]()
      if (s.getsockopt(SOL_SOCKET, SO_ACCEPTCONN) === 0) s.listen(options.backlog)
      if (s.gettimeout() !== 0) s.settimeout(0)
    }
    this.#listeners = sockets.map((s) => new Listener(this, s))
    if (options.startServing === false) return
    try {
      this.startServing()
    } catch (e) {
      for (const l of this.#listeners) l.stop()
      throw e
    }
  }

  /** The listening sockets (for `getsockname()`, options); empty once closed. */
  get sockets(): Socket[] {
    return this.#closed ? [] : this.#listeners.map((l) => l.sock)
  }

  /** Whether it accepts connections. */
  isServing(): boolean {
    return this.#serving
  }

  /** Starts accepting (asyncio's `start_serving`); a second call does nothing. */
  startServing(): void {
    if (this.#closed || this.#serving) return
    this.#serving = true
    for (const l of this.#listeners) if (!l.paused) l.arm(true)
  }

  /**
   * Stops accepting and closes the listening sockets; connections stay open (asyncio's
   * `close()`; see `closeClients()`). A Unix server made from a path removes its file.
   */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#serving = false
    for (const l of this.#listeners) {
      l.stop()
      l.sock.close()
    }
    this.#checkClosed()
  }

  /** Closes every connection after its write buffer drains (asyncio's `close_clients`). */
  closeClients(): void {
    for (const t of [...this.#transports]) t.close()
  }

  /** Aborts every connection at once (asyncio's `abort_clients`). */
  abortClients(): void {
    for (const t of [...this.#transports]) t.abort()
  }

  /** Resolves once the server is closed and every connection's `connectionLost` has run. */
  waitClosed(): Promise<void> {
    if (this.#closed && this.#transports.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  /** Closes the server and its connections and waits for them: `await using server = ...`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close()
    this.closeClients()
    await this.waitClosed()
  }

  #checkClosed(): void {
    if (!this.#closed || this.#transports.size > 0) return
    for (const w of this.#waiters.splice(0)) w()
  }

  /** @internal A listener is readable: accept a batch. */
  _accept(l: Listener): void {
    for (let i = 0; i < ACCEPT_BATCH && this.#serving; i++) {
      const r = l.sock.tryAccept()
      if (typeof r !== 'number') {
        l.starved = false
        this.#connection(r[0])
        continue
      }
      if (wouldBlock(r)) return
      const err = errnoError(-r, 'accept')
      const kind = acceptErrorKind(err.errno)
      if (kind === 'skip') continue
      // Reported once per shortage, not at every retry (ten a second) while it lasts.
      if (!(kind === 'pause' && l.starved))
        callExceptionHandler({
          message:
            kind === 'pause'
              ? 'accept() out of system resource; pausing until fds are freed'
              : 'Error on accept(); the listener stops',
          exception: err,
          server: this,
        })
      l.arm(false)
      if (kind === 'pause') {
        l.paused = true
        l.starved = true
        void fdsFreed(l.sock, true).then(() => {
          l.paused = false
          if (this.#serving) l.arm(true)
        })
      }
      return
    }
  }

  /** @internal A transport of this server is gone. */
  _lost(t: Transport): void {
    this.#transports.delete(t)
    this.#checkClosed()
  }

  #connection(sock: Socket): void {
    let protocol: StreamProtocol
    try {
      protocol = this.#factory()
    } catch (e) {
      callExceptionHandler({ message: 'protocolFactory() failed', exception: e, server: this })
      sock.close()
      return
    }
    let t: Transport
    try {
      t = new Transport(sock, protocol, this.#options, this)
    } catch (e) {
      callExceptionHandler({ message: 'Bad protocol', exception: e, server: this, protocol })
      sock.close()
      return
    }
    this.#transports.add(t)
    t.start()
  }
}
