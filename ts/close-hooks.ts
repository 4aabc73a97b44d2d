// Who to tell before a Socket closes or detaches (Pollers, transports, servers), while its fd
// is still open: one hook per socket, or a set of them.
type CloseHook = (closing: boolean) => void

/** The hooks of each Socket: one hook, or a set. Keyed by the Socket object. */
const closeHooks = new WeakMap<object, CloseHook | Set<CloseHook>>()

/**
 * Calls `hook` just before `sock` closes (`closing` true) or detaches (false), while its fd
 * is still open, so a Poller can unregister it; returns the function that removes the hook.
 */
export function onClose(sock: object, hook: CloseHook): () => void {
  addCloseHook(sock, hook)
  return () => removeCloseHook(sock, hook)
}

/** `onClose` without the remover closure, for what is kept per connection (a transport). */
export function addCloseHook(sock: object, hook: CloseHook): void {
  const hooks = closeHooks.get(sock)
  // Most sockets have one hook at most (a transport's): no Set for them.
  if (hooks === undefined) closeHooks.set(sock, hook)
  else if (typeof hooks === 'function') closeHooks.set(sock, new Set([hooks, hook]))
  else hooks.add(hook)
}

export function removeCloseHook(sock: object, hook: CloseHook): void {
  const hooks = closeHooks.get(sock)
  if (hooks === hook) closeHooks.delete(sock)
  else if (typeof hooks === 'object') hooks.delete(hook)
}

/** Runs and forgets `sock`'s hooks (Socket's close and detach). */
export function runCloseHooks(sock: object, closing: boolean): void {
  const hooks = closeHooks.get(sock)
  if (!hooks) return
  closeHooks.delete(sock)
  for (const hook of typeof hooks === 'function' ? [hooks] : hooks) {
    try {
      hook(closing)
    } catch {
      // A poller that cannot unregister (already closed) has nothing left to undo.
    }
  }
}
