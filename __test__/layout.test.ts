// The house rules a reader relies on, checked on the source: modules depend one way (no
// import cycle in ts/, type-only imports included), no module grows past ~700 lines, and the
// calls registered by hand in crates/node/src/fast.rs are exactly those ts/binding.ts types.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { native } from '../ts/binding.js'

const TS = join(import.meta.dirname, '..', 'ts')
const files = readdirSync(TS).filter((f) => f.endsWith('.ts'))
const source = new Map(files.map((f) => [f, readFileSync(join(TS, f), 'utf8')]))

/** The ts/ modules a module's source imports or re-exports, `import type` included. */
function importsIn(src: string): string[] {
  return [...src.matchAll(/^(?:import|export)[^;]*?from '\.\/([\w-]+)\.js'/gm)].map(
    (m) => `${m[1]}.ts`,
  )
}

/** Every cycle of `sources` (file name -> its source) a depth-first walk finds, as `a.ts -> b.ts -> a.ts`. */
function cycles(sources: Map<string, string>): string[] {
  const found: string[] = []
  const done = new Set<string>()
  const path: string[] = []
  const walk = (f: string): void => {
    const at = path.indexOf(f)
    if (at !== -1) {
      found.push([...path.slice(at), f].join(' -> '))
      return
    }
    if (done.has(f)) return
    path.push(f)
    for (const g of importsIn(sources.get(f) ?? '')) walk(g)
    path.pop()
    done.add(f)
  }
  for (const f of sources.keys()) walk(f)
  return found
}

describe('ts/ layout', () => {
  it('has no import cycle', () => {
    // The walk itself finds one when there is one.
    const pair = new Map([
      ['cycle-a.ts', "import type { B } from './cycle-b.js'"],
      ['cycle-b.ts', "import type { A } from './cycle-a.js'"],
    ])
    expect(cycles(pair)).toEqual(['cycle-a.ts -> cycle-b.ts -> cycle-a.ts'])
    expect(cycles(source)).toEqual([])
  })

  it('keeps every module under 750 lines', () => {
    const long = files.filter((f) => (source.get(f) ?? '').split('\n').length > 750)
    expect(long).toEqual([])
  })
})

describe('the hand-registered fast calls', () => {
  it('are the names binding.ts declares in FdCalls, each a function of the addon', () => {
    const rust = readFileSync(join(TS, '..', 'crates', 'node', 'src', 'fast.rs'), 'utf8')
    const table = /const CALLS[^=]*= &\[([^\]]*)\]/.exec(rust)?.[1] ?? ''
    // __panicForTest is a test hook, reached untyped on purpose.
    const registered = [...table.matchAll(/\(c"(\w+)"/g)]
      .map((m) => m[1] as string)
      .filter((n) => n !== '__panicForTest')
    const binding = source.get('binding.ts') ?? ''
    const body = /interface FdCalls \{([\s\S]*?)\n\}/.exec(binding)?.[1] ?? ''
    const declared = [...body.matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1] as string)
    expect(registered.length).toBeGreaterThan(5)
    expect(declared.toSorted()).toEqual(registered.toSorted())
    const addon = native as unknown as Record<string, unknown>
    for (const name of registered) expect(typeof addon[name], name).toBe('function')
  })
})
