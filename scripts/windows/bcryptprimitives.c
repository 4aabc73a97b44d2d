// A stand-in for Windows' bcryptprimitives.dll, for running tests under wine 8 only (never
// shipped): wine 8 has no such DLL, and Rust's std (1.78 and later) imports ProcessPrng from
// it for HashMap seeds and the like, so a Rust addon fails to load without it. ProcessPrng is
// documented to always succeed; RtlGenRandom (advapi32's SystemFunction036), which wine has,
// gives the same bytes the old std used. Built by scripts/windows-toolchain.mjs with
// `zig cc -target x86_64-windows-gnu -shared` and copied into the wine prefix's system32.
#include <windows.h>
#include <ntsecapi.h>

// https://learn.microsoft.com/en-us/windows/win32/seccng/processprng
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  // RtlGenRandom takes a ULONG length: fill larger buffers a piece at a time.
  while (len > 0) {
    ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (!RtlGenRandom(data, chunk)) return FALSE;
    data += chunk;
    len -= chunk;
  }
  return TRUE;
}
