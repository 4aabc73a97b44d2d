// Constants: this platform's values, equal to what Python's socket/select modules say here.
import { spawnSync } from 'node:child_process'
import { constants as osConstants } from 'node:os'
import { describe, expect, it } from 'vitest'
import * as api from '../ts/index.js'

/** Every exported constant: an UPPER_CASE name whose value is a number (or undefined). Python's
 * CMSG_LEN and CMSG_SPACE keep their upper-case names but are functions. */
const exported = Object.entries(api).filter(
  ([name, value]) => /^[A-Z][A-Z0-9_]+$/.test(name) && typeof value !== 'function',
) as [string, number | undefined][]

const PY_DUMP = `
import errno, json, select, socket, sys
names = json.loads(sys.stdin.read())
out = {}
for name in names:
    for mod in (socket, select):
        value = getattr(mod, name, None)
        if isinstance(value, int):
            out[name] = int(value)
            break
print(json.dumps({"constants": out, "errno": errno.errorcode}))
`

/** Python's values for the names we export that Python also has; undefined without python3. */
const python = (() => {
  const r = spawnSync('python3', ['-c', PY_DUMP], {
    input: JSON.stringify(exported.map(([n]) => n)),
    encoding: 'utf8',
    timeout: 15_000,
  })
  if (r.status !== 0) return undefined
  return JSON.parse(r.stdout) as {
    constants: Record<string, number>
    errno: Record<string, string>
  }
})()

describe('constants', () => {
  it('exports the names every platform has as numbers', () => {
    const common = [
      'AF_UNSPEC',
      'AF_INET',
      'AF_INET6',
      'AF_UNIX',
      'SOCK_STREAM',
      'SOCK_DGRAM',
      'SOL_SOCKET',
      'SO_REUSEADDR',
      'SO_KEEPALIVE',
      'SO_RCVBUF',
      'SO_SNDBUF',
      'SO_LINGER',
      'SO_ERROR',
      'SO_TYPE',
      'TCP_NODELAY',
      'IPPROTO_TCP',
      'IPPROTO_UDP',
      'IPPROTO_IPV6',
      'IPV6_V6ONLY',
      'MSG_PEEK',
      'MSG_DONTWAIT',
      'MSG_WAITALL',
      'SHUT_RD',
      'SHUT_WR',
      'SHUT_RDWR',
      'SOMAXCONN',
      'POLLIN',
      'POLLOUT',
      'POLLERR',
      'POLLHUP',
      'POLLNVAL',
      'AI_PASSIVE',
      'AI_CANONNAME',
    ]
    const values = api as unknown as Record<string, unknown>
    for (const name of common) {
      expect(Number.isInteger(values[name]), name).toBe(true)
    }
  })

  it('exported values are integers or undefined (platform-only names)', () => {
    expect(exported.length).toBeGreaterThan(50)
    for (const [name, value] of exported) {
      if (value !== undefined) expect(Number.isInteger(value), name).toBe(true)
    }
  })

  it('distinct values within a group where C makes them distinct', () => {
    expect(new Set([api.AF_INET, api.AF_INET6, api.AF_UNIX, api.AF_UNSPEC]).size).toBe(4)
    expect(new Set([api.SOCK_STREAM, api.SOCK_DGRAM, api.SOCK_RAW]).size).toBe(3)
    expect(new Set([api.SHUT_RD, api.SHUT_WR, api.SHUT_RDWR]).size).toBe(3)
    expect(
      new Set([api.POLLIN, api.POLLOUT, api.POLLERR, api.POLLHUP, api.POLLNVAL, api.POLLPRI]).size,
    ).toBe(6)
  })

  it.skipIf(python === undefined)("every name Python has equals Python's value", () => {
    const py = python?.constants ?? {}
    const values = Object.fromEntries(exported)
    const compared = Object.keys(py)
    // The core vocabulary must be among those compared (Python has all of it on Unix).
    for (const name of [
      'AF_INET',
      'AF_INET6',
      'AF_UNIX',
      'SOCK_STREAM',
      'SOCK_DGRAM',
      'SOL_SOCKET',
      'SO_REUSEADDR',
      'SO_KEEPALIVE',
      'SO_RCVBUF',
      'SO_SNDBUF',
      'SO_LINGER',
      'SO_ERROR',
      'SO_TYPE',
      'TCP_NODELAY',
      'IPPROTO_TCP',
      'IPPROTO_IPV6',
      'IPV6_V6ONLY',
      'MSG_PEEK',
      'MSG_DONTWAIT',
      'MSG_WAITALL',
      'SHUT_RD',
      'SHUT_WR',
      'SHUT_RDWR',
      'SOMAXCONN',
      'POLLIN',
      'POLLOUT',
      'POLLERR',
      'POLLHUP',
      'POLLNVAL',
      'AI_PASSIVE',
      'AI_CANONNAME',
    ]) {
      expect(compared, name).toContain(name)
    }
    const mismatches = compared
      .filter((name) => values[name] !== py[name])
      .map((name) => `${name}: ours ${values[name]}, python ${py[name]}`)
    expect(mismatches).toEqual([])
  })

  it.skipIf(python === undefined)('names Python defines here are defined by us too', () => {
    const py = python?.constants ?? {}
    const missing = exported
      .filter(([name, value]) => value === undefined && name in py)
      .map(([name]) => name)
    expect(missing).toEqual([])
  })
})

describe('errno', () => {
  it("is Node's os.constants.errno", () => {
    expect(api.errno.EAGAIN).toBe(osConstants.errno.EAGAIN)
    expect(api.errno.ECONNREFUSED).toBe(osConstants.errno.ECONNREFUSED)
    expect(api.errno.EBADF).toBe(osConstants.errno.EBADF)
    expect(api.errno.EAGAIN).toBeGreaterThan(0)
  })

  it.skipIf(python === undefined)("numbers match Python's errno module", () => {
    const names = python?.errno ?? {}
    const byName = Object.fromEntries(Object.entries(names).map(([n, name]) => [name, Number(n)]))
    for (const name of ['EAGAIN', 'EBADF', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']) {
      expect(api.errno[name], name).toBe(byName[name])
    }
  })
})
