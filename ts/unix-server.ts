// The socket file of a Unix-domain server: asyncio's create_unix_server removes a stale one
// before bind and (cleanup_socket, Python 3.13) its own on close, so a restart can bind again.
import { lstatSync, unlinkSync } from 'node:fs'
import { onClose } from './close-hooks.js'
import type { Socket } from './socket.js'

/** Whether `path` names a file (not a Linux abstract name, which leaves none behind). */
export function isFilePath(path: string): boolean {
  return path.length > 0 && path[0] !== '\0'
}

/** Removes the socket file at `path` a dead server left; any other kind of file stays. */
export function removeStale(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
}

/**
 * Unlinks `path` when `sock` closes (not when it is detached: the server lives on elsewhere),
 * if it is still the file `sock` was bound to: another server may have replaced it since.
 */
export function unlinkOnClose(sock: Socket, path: string): void {
  const { ino, dev } = lstatSync(path)
  onClose(sock, (closing) => {
    if (!closing) return
    try {
      const now = lstatSync(path)
      if (now.ino === ino && now.dev === dev) unlinkSync(path)
    } catch {
      // Already gone, or no longer ours to remove.
    }
  })
}
