// Bumps the main package and every platform package (npm/<target>/package.json) together.
//
//   npm run version -- 0.2.0     (or patch / minor / major: anything `npm version` accepts)
//   npm version 0.2.0            (npm's own command: runs this as its "version" lifecycle script,
//                                 after it set package.json, before its git commit and tag)
//
// `napi version` copies package.json's version into npm/*/package.json. optionalDependencies
// are not kept in the repo's package.json: `napi pre-publish` (CI publish job) writes them,
// pinned to this same version. The generated loader (native/index.cjs) takes the version at
// `napi build` time, so rebuild after bumping.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' })
const [next] = process.argv.slice(2)
// npm_command is 'version' under `npm version`, 'run-script' under `npm run version`.
const lifecycle = process.env.npm_command === 'version'
if (next && !lifecycle) {
  // --ignore-scripts: do not re-enter this script through the "version" lifecycle hook.
  run('npm', ['version', next, '--no-git-tag-version', '--ignore-scripts'])
}
run(process.execPath, [join(root, 'node_modules/@napi-rs/cli/dist/cli.js'), 'version'])
// Under `npm version`, stage the platform packages so npm's commit and tag include them.
if (lifecycle) run('git', ['add', 'npm'])
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
console.log(`bsd-sockets and npm/* platform packages at ${version}`)
