#!/usr/bin/env bash
# AddressSanitizer, in two parts (needs a nightly toolchain: `rustup toolchain install nightly`).
# Any ASan report fails the run. Not part of `npm test`. Builds into target/asan* so the
# normal build's artifacts are left alone.
#
#   1. the core crate's tests, built with ASan;
#   2. the addon built with ASan, under the vitest suite (JS tests, workers and child
#      processes all load it). Node itself is not instrumented, so the ASan runtime is
#      preloaded: GCC's libasan (the same runtime interface as LLVM's); leak checking is off,
#      as Node keeps its heap at exit. Skipped, with a message, when no libasan.so is found.
#
#   scripts/asan.sh [vitest arguments, e.g. __test__/msg.test.ts]
set -euo pipefail
cd "$(dirname "$0")/.."
host="$(rustc +nightly -vV | sed -n 's/^host: //p')"

RUSTFLAGS="-Zsanitizer=address" RUSTDOCFLAGS="-Zsanitizer=address" \
  CARGO_TARGET_DIR=target/asan \
  cargo +nightly test -p bsd-sockets-core --target "$host" -- --test-threads=1

libasan="$(gcc -print-file-name=libasan.so 2>/dev/null || true)"
if [[ ! -f "$libasan" ]]; then
  echo "asan.sh: no libasan.so (gcc's) found: the addon part is skipped" >&2
  exit 0
fi

# The JS side and the loader come from the normal build.
npm run build
RUSTFLAGS="-Zsanitizer=address" CARGO_TARGET_DIR=target/asan-node \
  cargo +nightly build -p bsd-sockets-node --release --target "$host"

# A copy of the package whose native/ holds the ASan addon, so the loader picks it up the
# usual way (NAPI_RS_NATIVE_LIBRARY_PATH would also redirect vitest's own napi-rs bundler).
tree=target/asan-node/tree
rm -rf "$tree"
mkdir -p "$tree/native"
cp -r __test__ ts loader dist scripts package.json tsconfig.json vitest.config.ts "$tree/"
cp native/index.cjs native/index.d.cts "$tree/native/"
cp "target/asan-node/$host/release/libbsd_sockets_node.so" "$tree/native/$(cd native && ls ./*.node | head -1)"
ln -s "$PWD/node_modules" "$tree/node_modules"

# Children inherit LD_PRELOAD; curl hangs at start with GCC's libasan preloaded, so the tests
# get a curl that runs without it.
mkdir -p "$tree/shims"
if real="$(command -v curl)"; then
  printf '#!/bin/sh\nunset LD_PRELOAD\nexec %s "$@"\n' "$real" >"$tree/shims/curl"
  chmod +x "$tree/shims/curl"
fi

# A small quarantine keeps RSS near a normal run's, as the memory-bound tests expect.
log="$tree/vitest.log"
status=0
(cd "$tree" && PATH="$PWD/shims:$PATH" LD_PRELOAD="$libasan" \
  ASAN_OPTIONS=detect_leaks=0:quarantine_size_mb=16 npx vitest run "$@") 2>&1 |
  tee "$log" || status=$?
if grep -q "ERROR: AddressSanitizer" "$log"; then
  echo "asan.sh: AddressSanitizer reported errors (see $log)" >&2
  exit 1
fi
exit "$status"
