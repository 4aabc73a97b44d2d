#!/usr/bin/env bash
# Runs the core crate's tests built with AddressSanitizer (needs a nightly toolchain:
# `rustup toolchain install nightly`). Any ASan report fails the run. Not part of `npm test`.
# Builds into target/asan so the normal build's artifacts are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
host="$(rustc +nightly -vV | sed -n 's/^host: //p')"
RUSTFLAGS="-Zsanitizer=address" RUSTDOCFLAGS="-Zsanitizer=address" \
  CARGO_TARGET_DIR=target/asan \
  cargo +nightly test -p bsd-sockets-core --target "$host" -- --test-threads=1
