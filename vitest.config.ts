import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['__test__/**/*.test.ts'],
    // Real sockets and child processes: generous per-test bound, never a timing assertion.
    testTimeout: 30_000,
    // Tests block their thread on purpose (accept, recv): isolate files in forked processes.
    pool: 'forks',
  },
})
