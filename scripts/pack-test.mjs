// What a user gets from `npm install bsd-sockets`, checked without the registry or the repo:
//
//   npm run build && node scripts/pack-test.mjs      (.ci/run calls it after `npm test`)
//
// 1. copies the built native/bsd-sockets.<target>.node into npm/<target>/ and `npm pack`s the
//    main package and that platform package;
// 2. installs both tarballs (and nothing else: --offline, empty cache) into a fresh project
//    in the OS temp dir, with every cargo/rustup directory removed from PATH;
// 3. there, `require`s and `import`s the package, checks both give the same API, and runs a
//    real loopback TCP exchange with each;
// 4. type-checks consumer .mts and .cts files against the installed package with
//    `tsc --noEmit --strict` (module nodenext);
// 5. removes the platform package and checks the error names platform/arch/libc and the
//    packages that exist; then NAPI_RS_NATIVE_LIBRARY_PATH pointing at a .node loads it.
import { execFileSync } from 'node:child_process'
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const repoRequire = createRequire(join(root, 'package.json'))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const keep = process.argv.includes('--keep')

function libc() {
  if (process.platform !== 'linux') return ''
  return process.report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl'
}
const target = [process.platform, process.arch, libc()].filter(Boolean).join('-')
const binary = `${pkg.napi.binaryName}.${target}.node`
const platformDir = join(root, 'npm', target)

const step = (msg) => console.log(`\n--> pack-test: ${msg}`)
const fail = (msg) => {
  console.error(`pack-test: FAIL: ${msg}`)
  process.exit(1)
}
for (const f of ['dist/index.js', 'dist-cjs/index.js', 'native/index.cjs', `native/${binary}`]) {
  if (!existsSync(join(root, f))) fail(`${f} missing: run \`npm run build\` first`)
}
if (!existsSync(join(platformDir, 'package.json'))) fail(`npm/${target} missing (napi.targets?)`)

// PATH without a Rust toolchain: the install must not need one.
const PATH = process.env.PATH.split(delimiter)
  .filter((d) => !/cargo|rustup/.test(d))
  .join(delimiter)
const env = { ...process.env, PATH }
delete env.NAPI_RS_NATIVE_LIBRARY_PATH
for (const key of Object.keys(env)) if (key.startsWith('npm_')) delete env[key]
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'], ...opts })

const work = mkdtempSync(join(tmpdir(), 'bsd-sockets-pack-'))
const project = join(work, 'consumer')
try {
  step(`packing bsd-sockets and bsd-sockets-${target} into ${work}`)
  copyFileSync(join(root, 'native', binary), join(platformDir, binary))
  const pack = (dir) => {
    const [info] = JSON.parse(
      run('npm', ['pack', '--json', '--pack-destination', work], { cwd: dir }),
    )
    console.log(`    ${info.filename}: ${info.files.map((f) => f.path).join(' ')}`)
    return { file: join(work, info.filename), files: info.files.map((f) => f.path) }
  }
  // The main package as published: `napi pre-publish` (CI publish job) adds optionalDependencies
  // on every platform package, pinned to this version. They cannot be in the repo's package.json
  // before the platform packages exist on the registry (`npm ci` would fail: lock not in sync),
  // so they are added here to an unpacked copy, the same way.
  const plain = pack(root)
  const stage = join(work, 'stage')
  mkdirSync(stage)
  run('tar', ['-xzf', plain.file, '-C', stage])
  rmSync(plain.file)
  const stagedJson = join(stage, 'package', 'package.json')
  const staged = JSON.parse(readFileSync(stagedJson, 'utf8'))
  staged.optionalDependencies = Object.fromEntries(
    readdirSync(join(root, 'npm')).map((d) => [`${pkg.name}-${d}`, pkg.version]),
  )
  writeFileSync(stagedJson, `${JSON.stringify(staged, null, 2)}\n`)
  console.log(`    + optionalDependencies: ${Object.keys(staged.optionalDependencies).join(' ')}`)
  const main = pack(join(stage, 'package'))
  const platform = pack(platformDir)
  const stray = main.files.filter((f) => f.endsWith('.node') || f.startsWith('ts/'))
  if (stray.length) fail(`main package holds ${stray.join(', ')}`)
  if (platform.files.filter((f) => f !== 'package.json' && f !== 'README.md').join() !== binary)
    fail(`platform package holds ${platform.files.join(', ')}`)

  step('npm install --offline of the two tarballs in a fresh project (no cargo on PATH)')
  mkdirSync(project)
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }),
  )
  for (const tool of ['cargo', 'rustc']) {
    let found = true
    try {
      run(tool, ['--version'], { stdio: 'ignore' })
    } catch {
      found = false
    }
    if (found) fail(`${tool} still on PATH`)
  }
  run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--cache', join(work, 'cache')].concat([
      main.file,
      platform.file,
    ]),
    { cwd: project, stdio: ['ignore', 'inherit', 'inherit'] },
  )

  // A real exchange: listen on an ephemeral loopback port, connect, accept, echo.
  const exchange = `
    const s = m.socket(m.AF_INET, m.SOCK_STREAM)
    s.setsockopt(m.SOL_SOCKET, m.SO_REUSEADDR, 1)
    s.bind(['127.0.0.1', 0])
    s.listen(1)
    const port = s.getsockname()[1]
    const c = m.socket(m.AF_INET, m.SOCK_STREAM)
    c.connect(['127.0.0.1', port])
    const [conn] = s.accept()
    c.sendall('ping from ' + FORMAT)
    const got = conn.recv(100).toString()
    conn.sendall(got.toUpperCase())
    const back = c.recv(100).toString()
    for (const x of [c, conn, s]) x.close()
    if (back !== ('PING FROM ' + FORMAT).toUpperCase()) throw new Error('echo mismatch: ' + back)
    console.log('    ' + FORMAT + ': loopback exchange ok on port ' + port + ', ' + Object.keys(m).length + ' exports')
  `
  writeFileSync(
    join(project, 'test.cjs'),
    `const FORMAT = 'require'\nconst m = require('bsd-sockets')\n${exchange}\n` +
      `module.exports = Object.keys(m).filter((k) => k !== '__esModule').sort()\n`,
  )
  writeFileSync(
    join(project, 'test.mjs'),
    `import * as m from 'bsd-sockets'\nimport { createRequire } from 'node:module'\n` +
      `const FORMAT = 'import'\n${exchange}\n` +
      `const cjsKeys = createRequire(import.meta.url)('./test.cjs')\n` +
      `const esmKeys = Object.keys(m).sort()\n` +
      `if (cjsKeys.join() !== esmKeys.join()) throw new Error('require and import differ: ' +\n` +
      `  [cjsKeys.filter((k) => !esmKeys.includes(k)), esmKeys.filter((k) => !cjsKeys.includes(k))])\n` +
      `console.log('    require and import give the same ' + esmKeys.length + ' names')\n`,
  )
  step('require + import, loopback exchange')
  const resolved = run(
    'node',
    [
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module'
     console.log(import.meta.resolve('bsd-sockets') + ' ' + createRequire(import.meta.url).resolve('bsd-sockets'))`,
    ],
    { cwd: project },
  )
  if (!/\/dist\/index\.js .*\/dist-cjs\/index\.js$/.test(resolved.trim()))
    fail(`exports map resolves to ${resolved}`)
  run('node', ['test.cjs'], { cwd: project, stdio: ['ignore', 'inherit', 'inherit'] })
  run('node', ['test.mjs'], { cwd: project, stdio: ['ignore', 'inherit', 'inherit'] })

  step('tsc --noEmit --strict of consumer .mts/.cts (module nodenext) against the package')
  // Tooling only: typescript from the repo, @types/node copied in as a user would install it.
  for (const dep of ['@types/node', 'undici-types']) {
    const src = dirname(repoRequire.resolve(`${dep}/package.json`))
    cpSync(src, join(project, 'node_modules', dep), { recursive: true })
  }
  const consumer = `
    const s: Socket = socket(AF_INET, SOCK_STREAM)
    s.bind(['127.0.0.1', 0])
    const port: number = s.getsockname()[1] as number
    const data: Buffer = Buffer.from(String(port))
    void data
    s.close()
  `
  writeFileSync(
    join(project, 'consumer.mts'),
    `import { AF_INET, SOCK_STREAM, type Socket, socket } from 'bsd-sockets'\n${consumer}`,
  )
  writeFileSync(
    join(project, 'consumer.cts'),
    `import { AF_INET, SOCK_STREAM, type Socket, socket } from 'bsd-sockets'\n${consumer}\n` +
      `import bs = require('bsd-sockets')\nconst t: typeof bs.socket = socket\nvoid t\n`,
  )
  run(
    process.execPath,
    [
      repoRequire.resolve('typescript/bin/tsc'),
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--types',
      'node',
      'consumer.mts',
      'consumer.cts',
    ],
    { cwd: project, stdio: ['ignore', 'inherit', 'inherit'] },
  )
  console.log('    types ok')

  step('no platform package: the error names what was detected and what exists')
  rmSync(join(project, 'node_modules', `bsd-sockets-${target}`), { recursive: true })
  const probe = `try { require('bsd-sockets'); console.log('LOADED') } catch (e) { console.log(e.code + '\\n' + e.message) }`
  const out = run('node', ['-e', probe], { cwd: project })
  console.log(out.replace(/^/gm, '    | '))
  for (const needle of [
    'ERR_BSD_SOCKETS_NO_BINARY',
    `platform=${process.platform}`,
    `arch=${process.arch}`,
    `bsd-sockets-${target}`,
    'bsd-sockets-darwin-arm64',
    'NAPI_RS_NATIVE_LIBRARY_PATH',
  ])
    if (!out.includes(needle)) fail(`error message lacks ${needle}`)

  const as = (platform) =>
    run(
      'node',
      ['-e', `Object.defineProperty(process, 'platform', { value: '${platform}' })\n${probe}`],
      {
        cwd: project,
      },
    )
  const aix = as('aix')
  if (!aix.includes('platform=aix') || !aix.includes('No prebuilt package exists for aix-x64'))
    fail(`unsupported-platform message: ${aix}`)
  console.log(`    (as aix) ${aix.split('\n')[2].trim()}`)
  // Windows is a target: the package official (MSVC-built) Node's loader asks for is named.
  const win = as('win32')
  if (!win.includes('platform=win32') || !win.includes('bsd-sockets-win32-x64-msvc; it is missing'))
    fail(`win32 message: ${win}`)
  console.log(`    (as win32) ${win.split('\n')[2].trim()}`)

  step('NAPI_RS_NATIVE_LIBRARY_PATH points the loader at a local .node')
  const local = join(work, `local-${binary}`)
  copyFileSync(join(root, 'native', binary), local)
  const viaEnv = run('node', ['-e', probe], {
    cwd: project,
    env: { ...env, NAPI_RS_NATIVE_LIBRARY_PATH: local },
  })
  if (viaEnv.trim() !== 'LOADED') fail(`override did not load: ${viaEnv}`)
  console.log('    loaded from the override')

  console.log('\npack-test: ok')
} finally {
  rmSync(join(platformDir, binary), { force: true })
  if (keep) console.log(`kept ${work}`)
  else rmSync(work, { recursive: true, force: true })
}
