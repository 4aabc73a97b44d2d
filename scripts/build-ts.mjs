// `npm run build:ts`: ts/ -> dist/ (ESM, tsconfig.build.json) and dist-cjs/ (CommonJS,
// tsconfig.cjs.json), then dist-cjs/package.json so Node reads dist-cjs/*.js as CommonJS.
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
for (const dir of ['dist', 'dist-cjs']) rmSync(join(root, dir), { recursive: true, force: true })
for (const config of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', join(root, config)], { stdio: 'inherit' })
}
mkdirSync(join(root, 'dist-cjs'), { recursive: true })
writeFileSync(join(root, 'dist-cjs/package.json'), '{ "type": "commonjs" }\n')
