// A copy of the working tree in which the vitest suite runs against one binary of artifacts/
// (what `npm run build:targets` built and checked, i.e. what would be published), instead of
// the repository's own native/ build. Used by test-arm64.mjs, test-node-versions.mjs and
// test-windows.mjs.
//
// The copy (CACHE/suite-<platform>/) holds git's tracked and untracked-not-ignored files, its
// own node_modules (`npm ci`, with --cpu/--os/--libc for another platform; redone only when
// package-lock.json or those options change), the addon and the napi loader from artifacts/,
// and dist/ + dist-examples/ compiled there by this Node's tsc. The repository's native/,
// dist/ and node_modules/ are never touched, and edits made there while a run goes on do not
// reach it.
import { createHash } from 'node:crypto'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import { parseTriple } from '@napi-rs/cli'
import { CACHE, capture, Failure, install, ROOT, run, step } from './toolchain.mjs'

/**
 * Builds `triple` (cargo does nothing if artifacts/ is current) and prepares the copy.
 * @param {string} triple e.g. 'aarch64-unknown-linux-gnu'
 * @param {string[]} npmCiArgs extra `npm ci` options (`--cpu=arm64`, ...)
 * @returns {string} the copy's directory
 */
export function suiteCopy(triple, npmCiArgs = []) {
  const platform = parseTriple(triple).platformArchABI
  const binary = `bsd-sockets.${platform}.node`
  const dir = join(CACHE, `suite-${platform}`)

  step(`the addon: npm run build:targets -- --target ${triple} --no-lint`)
  run(process.execPath, [
    join(ROOT, 'scripts', 'build-targets.mjs'),
    '--target',
    triple,
    '--no-lint',
  ])

  step(`copy of the working tree in ${dir}`)
  mkdirSync(dir, { recursive: true })
  for (const entry of readdirSync(dir)) {
    if (entry !== 'node_modules') rmSync(join(dir, entry), { recursive: true, force: true })
  }
  const listed = capture('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'])
  if (!listed.ok) throw new Failure(`git ls-files failed: ${listed.out}`)
  let copied = 0
  for (const file of listed.out.split('\0').filter(Boolean)) {
    if (!existsSync(join(ROOT, file))) continue // deleted in the working tree
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    copyFileSync(join(ROOT, file), join(dir, file))
    copied++
  }
  console.log(`copied ${copied} files`)

  const stamp = join(dir, 'node_modules', '.suite-copy-stamp')
  const hash = createHash('sha256')
    .update(readFileSync(join(ROOT, 'package-lock.json')))
    .update(npmCiArgs.join(' '))
    .digest('hex')
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) {
    console.log(`node_modules (npm ci ${npmCiArgs.join(' ')}): up to date with package-lock.json`)
  } else {
    // --ignore-scripts: no install script of another platform's package may run here.
    const args = ['ci', ...npmCiArgs, '--ignore-scripts', '--no-audit', '--no-fund']
    install(`the dev dependencies (npm ${args.join(' ')})`, 'the npm registry', 'npm', args, {
      cwd: dir,
    })
    writeFileSync(stamp, hash)
  }

  const artifacts = join(ROOT, 'artifacts')
  mkdirSync(join(dir, 'native'), { recursive: true })
  copyFileSync(join(artifacts, triple, binary), join(dir, 'native', binary))
  // napi writes the loader with a whole build:targets run or `npm run build`: the newer one.
  const loaders = [join(artifacts, 'loader'), join(ROOT, 'native')]
    .filter((d) => existsSync(join(d, 'index.d.cts')))
    .sort(
      (a, b) => statSync(join(b, 'index.d.cts')).mtimeMs - statSync(join(a, 'index.d.cts')).mtimeMs,
    )
  if (!loaders.length) throw new Failure('no napi loader: run `npm run build` or build:targets')
  for (const f of ['index.cjs', 'index.d.cts'])
    copyFileSync(join(loaders[0], f), join(dir, 'native', f))
  const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc')
  run(process.execPath, [join(dir, 'scripts', 'build-ts.mjs')], {
    cwd: dir,
    what: 'build:ts in the copy',
  })
  run(process.execPath, [tsc, '-p', 'tsconfig.examples.json'], {
    cwd: dir,
    what: 'tsc for the examples',
  })
  console.log(`native/${binary}: artifacts/${triple}/${binary}`)
  return dir
}

/** The counts of vitest's JSON report, as one line. */
export function vitestCounts(file) {
  if (!existsSync(file)) return 'no report'
  const r = JSON.parse(readFileSync(file, 'utf8'))
  const skipped = r.numPendingTests + r.numTodoTests
  return `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped of ${r.numTotalTests} tests in ${r.testResults.length} files`
}
