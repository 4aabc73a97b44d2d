// Reads a built addon's ELF, Mach-O or PE headers and checks them against the target it was built
// for: format and architecture, the `napi_register_module_v1` export Node looks for, and the
// libraries it needs (musl: nothing of glibc's; gnu: no glibc symbol newer than GLIBC_FLOOR;
// FreeBSD: FreeBSD's libc; macOS: libSystem and a minimum OS no newer than the deployment
// target). Plain Node, no `file`/`readelf`/`otool` needed, so it runs on any CI host.
//
//   node scripts/binary-check.mjs <target-triple> <file.node>    (build-targets.mjs calls it)
//
// Hand-written because no maintained npm package reads both formats' dynamic sections without
// native code; it reads only the few structures below (see elf(5) and <mach-o/loader.h>).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { versionCmp } from './toolchain.mjs'

/** The oldest glibc the gnu binaries may need: what zig links against by default. */
export const GLIBC_FLOOR = '2.17'
/** MACOSX_DEPLOYMENT_TARGET per architecture (rustc's own minimum for arm64 is 11.0). */
export const MACOS_MIN = { x86_64: '10.13', aarch64: '11.0' }

const SYMBOL = 'napi_register_module_v1'
// Sonames only glibc has: a musl binary needing any of them would not load on Alpine.
const GLIBC_SONAMES =
  /^(libc\.so\.6|libpthread\.so\.0|libdl\.so\.2|libm\.so\.6|librt\.so\.1|ld-linux.*)$/

const EM = new Map([
  [62, 'x86_64'],
  [183, 'aarch64'],
])
const CPU = new Map([
  [0x01000007, 'x86_64'],
  [0x0100000c, 'aarch64'],
])

/**
 * Reads what the checks need from an ELF64 little-endian shared object.
 * @param {Buffer} b
 */
function readElf(b) {
  if (b[4] !== 2 || b[5] !== 1) throw new Error('not a 64-bit little-endian ELF')
  const u16 = (o) => b.readUInt16LE(o)
  const u32 = (o) => b.readUInt32LE(o)
  const u64 = (o) => Number(b.readBigUInt64LE(o))
  const str = (o) => b.toString('latin1', o, b.indexOf(0, o))
  const shoff = u64(0x28)
  const shentsize = u16(0x3a)
  const sections = Array.from({ length: u16(0x3c) }, (_, i) => {
    const h = shoff + i * shentsize
    return { type: u32(h + 4), offset: u64(h + 24), size: u64(h + 32), link: u32(h + 40) }
  })
  const of = (type) => sections.find((s) => s.type === type)
  const dynsym = of(11) // SHT_DYNSYM
  const dynamic = of(6) // SHT_DYNAMIC
  const versym = of(0x6fffffff) // SHT_GNU_versym
  const verneed = of(0x6ffffffe) // SHT_GNU_verneed
  if (!dynsym || !dynamic) throw new Error('no dynamic symbol table: not a shared object')
  const strtab = (s) => (o) => str(sections[s.link].offset + o)

  const needed = []
  const dynstr = strtab(dynamic)
  for (let o = dynamic.offset; o < dynamic.offset + dynamic.size; o += 16) {
    const tag = u64(o)
    if (tag === 0) break
    if (tag === 1) needed.push(dynstr(u64(o + 8))) // DT_NEEDED
  }

  // Version index -> "GLIBC_2.17" (from the libraries' version needs).
  const versionNames = new Map()
  if (verneed) {
    const vstr = strtab(verneed)
    for (let o = verneed.offset, more = true; more; ) {
      for (let a = o + u32(o + 8), n = u16(o + 2); n > 0; n--) {
        versionNames.set(u16(a + 6), vstr(u32(a + 8)))
        if (u32(a + 12) === 0) break
        a += u32(a + 12)
      }
      more = u32(o + 12) !== 0
      o += u32(o + 12)
    }
  }

  const exports = new Set()
  const strongVersions = new Set()
  const symstr = strtab(dynsym)
  for (let i = 0, o = dynsym.offset; o < dynsym.offset + dynsym.size; i++, o += 24) {
    const info = b[o + 4]
    const bind = info >> 4
    const defined = u16(o + 6) !== 0
    if (defined && (bind === 1 || bind === 2) && (info & 0xf) === 2) exports.add(symstr(u32(o)))
    // A weak undefined symbol may be missing at run time (std checks before use): it sets
    // no floor. Every other versioned reference does.
    if (!defined && bind === 1 && versym) {
      const name = versionNames.get(u16(versym.offset + 2 * i) & 0x7fff)
      if (name) strongVersions.add(name)
    }
  }
  return {
    format: 'ELF',
    arch: EM.get(u16(0x12)) ?? `e_machine ${u16(0x12)}`,
    shared: u16(0x10) === 3, // ET_DYN
    needed,
    exports,
    versions: [...strongVersions],
  }
}

/** Reads a ULEB128 at `o`: [value, next offset]. */
function uleb(b, o) {
  let value = 0
  let shift = 0
  for (;;) {
    const byte = b[o++]
    value += (byte & 0x7f) * 2 ** shift
    shift += 7
    if (byte < 0x80) return [value, o]
  }
}

/** Every name in a Mach-O export trie (the dynamic linker's list of exports). */
function trieNames(b, start, size) {
  const names = []
  const walk = (node, prefix) => {
    const [terminalSize, afterSize] = uleb(b, start + node)
    if (terminalSize > 0) names.push(prefix)
    let o = afterSize + terminalSize
    const children = b[o++]
    for (let i = 0; i < children; i++) {
      const end = b.indexOf(0, o)
      const label = b.toString('latin1', o, end)
      const [child, next] = uleb(b, end + 1)
      o = next
      if (child < size) walk(child, prefix + label)
    }
  }
  walk(0, '')
  return names
}

/** "X.Y.Z" from Mach-O's xxxx.yy.zz nibble version. */
const machoVersion = (v) => `${v >>> 16}.${(v >>> 8) & 0xff}.${v & 0xff}`

/**
 * Reads what the checks need from a 64-bit Mach-O dylib.
 * @param {Buffer} b
 */
function readMachO(b) {
  const u32 = (o) => b.readUInt32LE(o)
  const cputype = u32(4)
  const dylibs = []
  const exports = new Set()
  let minos = null
  for (let i = 0, o = 32; i < u32(16); i++, o += u32(o + 4)) {
    const cmd = u32(o) & 0x7fffffff // without LC_REQ_DYLD
    if (cmd === 0x0c)
      dylibs.push(b.toString('latin1', o + u32(o + 8), b.indexOf(0, o + u32(o + 8))))
    if (cmd === 0x32) minos = machoVersion(u32(o + 12)) // LC_BUILD_VERSION
    if (cmd === 0x24) minos = machoVersion(u32(o + 8)) // LC_VERSION_MIN_MACOSX
    // LC_DYLD_INFO(_ONLY) (export trie at +40) or LC_DYLD_EXPORTS_TRIE (at +8).
    const trie =
      cmd === 0x22 ? [u32(o + 40), u32(o + 44)] : cmd === 0x33 ? [u32(o + 8), u32(o + 12)] : null
    if (trie && trie[1] > 0) for (const n of trieNames(b, trie[0], trie[1])) exports.add(n.slice(1))
  }
  return {
    format: 'Mach-O',
    arch: CPU.get(cputype) ?? `cputype 0x${cputype.toString(16)}`,
    shared: u32(12) === 6, // MH_DYLIB
    needed: dylibs,
    exports,
    minos,
  }
}

/**
 * Reads what the checks need from a PE32+ image (a Windows DLL or EXE): its exported names, each
 * with whether it is data (its address lies in a section that is not executable, so an import
 * .def must say DATA), and the DLLs it imports from. Headers, section table, export and import
 * directories only.
 * @param {Buffer} b
 * @see https://learn.microsoft.com/en-us/windows/win32/debug/pe-format
 */
export function readPe(b) {
  const bad = (why) => new Error(`not a PE32+ image: ${why}`)
  if (b.length < 0x40 || b.toString('latin1', 0, 2) !== 'MZ') throw bad('no MZ header')
  const nt = b.readUInt32LE(0x3c)
  if (b.toString('latin1', nt, nt + 4) !== 'PE\0\0') throw bad('no PE signature')
  const coff = nt + 4
  const sectionCount = b.readUInt16LE(coff + 2)
  const optionalSize = b.readUInt16LE(coff + 16)
  const opt = coff + 20
  if (b.readUInt16LE(opt) !== 0x20b) throw bad('optional header magic is not 0x20b')
  const sections = []
  for (let i = 0, at = opt + optionalSize; i < sectionCount; i++, at += 40) {
    sections.push({
      va: b.readUInt32LE(at + 12),
      size: Math.max(b.readUInt32LE(at + 8), b.readUInt32LE(at + 16)),
      raw: b.readUInt32LE(at + 20),
      exec: (b.readUInt32LE(at + 36) & 0x20000000) !== 0, // IMAGE_SCN_MEM_EXECUTE
    })
  }
  const sectionOf = (rva) => sections.find((s) => rva >= s.va && rva < s.va + s.size)
  const offset = (rva) => {
    const s = sectionOf(rva)
    if (!s) throw bad(`address 0x${rva.toString(16)} is in no section`)
    return rva - s.va + s.raw
  }
  const cstr = (at) => b.toString('latin1', at, b.indexOf(0, at))
  // PE32+: the data directories start at 112; entry 0 is the export table, 1 the imports.
  const exportList = []
  const exportRva = b.readUInt32LE(opt + 112)
  if (exportRva) {
    const dir = offset(exportRva)
    const functions = offset(b.readUInt32LE(dir + 28))
    const names = offset(b.readUInt32LE(dir + 32))
    const ordinals = offset(b.readUInt32LE(dir + 36))
    for (let i = 0; i < b.readUInt32LE(dir + 24); i++) {
      const rva = b.readUInt32LE(functions + 4 * b.readUInt16LE(ordinals + 2 * i))
      exportList.push({
        name: cstr(offset(b.readUInt32LE(names + 4 * i))),
        data: !sectionOf(rva)?.exec,
      })
    }
  }
  const needed = []
  const importRva = b.readUInt32LE(opt + 120)
  // IMAGE_IMPORT_DESCRIPTORs of 20 bytes, the DLL's name at 12, up to an all-zero one.
  for (let at = importRva && offset(importRva); importRva && b.readUInt32LE(at + 12); at += 20)
    needed.push(cstr(offset(b.readUInt32LE(at + 12))))
  return {
    format: 'PE',
    arch:
      b.readUInt16LE(coff) === 0x8664 ? 'x86_64' : `machine 0x${b.readUInt16LE(coff).toString(16)}`,
    shared: (b.readUInt16LE(coff + 18) & 0x2000) !== 0, // IMAGE_FILE_DLL
    needed,
    exports: new Set(exportList.map((e) => e.name)),
    exportList,
  }
}

/**
 * The headers of `file`.
 * @param {string} file
 */
export function inspect(file) {
  const b = readFileSync(file)
  if (b.readUInt32BE(0) === 0x7f454c46) return readElf(b)
  if (b.readUInt32LE(0) === 0xfeedfacf) return readMachO(b)
  if (b.toString('latin1', 0, 2) === 'MZ') return readPe(b)
  throw new Error(
    `${file}: neither ELF, 64-bit Mach-O nor PE (magic ${b.subarray(0, 4).toString('hex')})`,
  )
}

/**
 * Checks `file` against `triple`; returns one line per check, each with `ok`.
 * @param {string} triple e.g. 'aarch64-unknown-linux-musl'
 * @param {string} file
 * @returns {{ name: string, ok: boolean, detail: string }[]}
 */
export function checkBinary(triple, file) {
  const arch = triple.split('-')[0]
  const info = inspect(file)
  const checks = []
  const add = (name, ok, detail) => checks.push({ name, ok, detail })
  const darwin = triple.includes('-apple-darwin')
  const windows = triple.includes('-windows-')
  const format = darwin ? 'Mach-O' : windows ? 'PE' : 'ELF'
  add(
    'format',
    info.format === format && info.shared,
    `${info.format} ${info.shared ? 'shared library' : 'not a shared library'} (want ${format})`,
  )
  add('arch', info.arch === arch, `${info.arch} (want ${arch})`)
  add(
    'export',
    info.exports.has(SYMBOL),
    `${SYMBOL} ${info.exports.has(SYMBOL) ? 'exported' : 'MISSING'}`,
  )
  const needed = info.needed.join(' ')
  if (triple.endsWith('-musl')) {
    const glibc = info.needed.filter((n) => GLIBC_SONAMES.test(n))
    const versions = info.versions.filter((v) => v.startsWith('GLIBC_'))
    add(
      'libc',
      glibc.length === 0 && versions.length === 0 && info.needed.includes('libc.so'),
      `needs ${needed}${glibc.length ? ` (glibc: ${glibc.join(' ')})` : ''}${versions.length ? ` (${versions.join(' ')})` : ''}`,
    )
  } else if (triple.endsWith('-gnu')) {
    const glibc = info.versions.filter((v) => v.startsWith('GLIBC_')).map((v) => v.slice(6))
    const newest = glibc.sort(versionCmp).at(-1) ?? 'none'
    const ok =
      info.needed.includes('libc.so.6') &&
      (newest === 'none' || versionCmp(newest, GLIBC_FLOOR) <= 0)
    add('libc', ok, `needs ${needed}; newest glibc symbol ${newest} (floor ${GLIBC_FLOOR})`)
  } else if (triple.endsWith('-freebsd')) {
    add(
      'libc',
      info.needed.includes('libc.so.7') && !info.needed.some((n) => GLIBC_SONAMES.test(n)),
      `needs ${needed}`,
    )
  } else if (windows) {
    // N-API and libuv from the node.exe that loads it; else only DLLs every Windows 10 has
    // (no MinGW runtime DLL such as libgcc_s or libwinpthread, which users would lack).
    const system = /^(kernel32|ntdll|ws2_32|advapi32|userenv|bcryptprimitives|api-ms-win-.*)\.dll$/i
    const other = info.needed.filter((n) => n !== 'node.exe' && !system.test(n))
    add(
      'libc',
      info.needed.includes('node.exe') && other.length === 0,
      `imports ${info.needed.join(' ')}${other.length ? ` (not a system DLL: ${other.join(' ')})` : ''}`,
    )
  } else if (darwin) {
    const want = MACOS_MIN[arch]
    const ok =
      info.needed.includes('/usr/lib/libSystem.B.dylib') &&
      info.minos !== null &&
      versionCmp(info.minos, want) <= 0
    add(
      'libc',
      ok,
      `needs ${info.needed.map((n) => n.split('/').at(-1)).join(' ')}; minimum macOS ${info.minos} (want <= ${want})`,
    )
  }
  return checks
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [triple, file] = process.argv.slice(2)
  if (!triple || !file) {
    console.error('usage: node scripts/binary-check.mjs <target-triple> <file.node>')
    process.exit(2)
  }
  const checks = checkBinary(triple, file)
  for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(6)} ${c.detail}`)
  process.exit(checks.every((c) => c.ok) ? 0 : 1)
}
