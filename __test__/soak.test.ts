// A short run of the memory soak (scripts/soak.mjs; `npm run soak` does 1,000,000 operations):
// 100,000 socket operations (sync send/select/recvInto, try*, sendallAsync/recvIntoAsync,
// open/close churn) in a fresh `node --expose-gc` child. The fd count must end where it
// started; RSS may grow at most 50 MB after warm-up. That bound is generous on purpose: the
// 1M-op run grows by about 2 MB here, and a leak of one small Buffer every 10 operations
// already exceeds 20 MB over 1M ops.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { canCountFds } from './helpers.js'

const SOAK = fileURLToPath(new URL('../scripts/soak.mjs', import.meta.url))

describe.skipIf(!canCountFds)('memory soak (short)', () => {
  it('100,000 operations: fd count unchanged, RSS flat after warm-up', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', SOAK, '100000', '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, SOAK_MAX_GROWTH_MB: '50' },
    })
    expect(r.stderr).toBe('')
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}')
    expect(out.ops).toBeGreaterThanOrEqual(100_000)
    expect(out.endFds).toBe(out.startFds)
    // The sockets the loop holds were really open during the run (4 more than at the end).
    expect(Math.max(...out.samples.map((s: { fds: number }) => s.fds))).toBe(out.startFds + 4)
    expect(out.growthMB).toBeLessThanOrEqual(50)
    expect(out.ok).toBe(true)
    expect(r.status).toBe(0)
  })
})
