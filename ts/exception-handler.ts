// Where errors with no caller to throw to go: asyncio's loop exception handler. A protocol
// callback that throws, or an accept that fails for want of fds, is reported here while the
// server goes on serving; the default handler logs to stderr, as asyncio's does.

/** What {@link loop.callExceptionHandler} reports (asyncio's context dict). */
export interface ExceptionContext {
  /** What happened, e.g. `'Fatal error: protocol.dataReceived() call failed.'`. */
  message: string
  /** The error, if there is one. */
  exception?: unknown
  /** The transport involved, if any. */
  transport?: unknown
  /** The protocol involved, if any. */
  protocol?: unknown
  /** The Server involved (a failed accept or protocol factory), if any. */
  server?: unknown
}

/** A handler: replaces the default one (asyncio's `loop.set_exception_handler(handler)`). */
export type ExceptionHandler = (context: ExceptionContext) => void

let handler: ExceptionHandler | null = null

/** asyncio's `default_exception_handler`: logs the message and the error to stderr. */
export function defaultExceptionHandler(context: ExceptionContext): void {
  const { message, exception } = context
  console.error(`bsd-sockets: ${message}`, ...(exception === undefined ? [] : [exception]))
}

/** Sets the handler of this thread's reports; `null` restores the default. */
export function setExceptionHandler(h: ExceptionHandler | null): void {
  if (h !== null && typeof h !== 'function') {
    throw new TypeError('The "handler" argument must be a function or null')
  }
  handler = h
}

/** The handler set with {@link loop.setExceptionHandler}, or `null` for the default. */
export function getExceptionHandler(): ExceptionHandler | null {
  return handler
}

/**
 * Reports `context` to the handler. A handler that throws is not allowed to stop the
 * transport or server that reported: its error goes to the default handler.
 */
export function callExceptionHandler(context: ExceptionContext): void {
  if (handler === null) {
    defaultExceptionHandler(context)
    return
  }
  try {
    handler(context)
  } catch (e) {
    defaultExceptionHandler({ message: 'Unhandled error in exception handler', exception: e })
  }
}

/** A protocol callback threw: reported as asyncio reports it; its transport then ends. */
export function reportProtocolError(
  name: string,
  exception: unknown,
  transport: unknown,
  protocol: unknown,
): void {
  callExceptionHandler({
    message: `Fatal error: protocol.${name}() call failed.`,
    exception,
    transport,
    protocol,
  })
}

/** Calls `protocol.connectionLost(err)`; what it throws is reported, never thrown. */
export function callConnectionLost(
  protocol: { connectionLost?(err: Error | null): void },
  err: Error | null,
  transport: unknown,
): void {
  try {
    protocol.connectionLost?.(err)
  } catch (exception) {
    callExceptionHandler({
      message: 'Error in protocol.connectionLost()',
      exception,
      transport,
      protocol,
    })
  }
}
