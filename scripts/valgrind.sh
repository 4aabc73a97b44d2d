#!/usr/bin/env bash
# Runs the core crate's test binaries (unit and integration tests) under valgrind memcheck.
# Any memory error or definite leak fails the run (exit 1). Needs valgrind on PATH
# (Debian/Ubuntu: apt-get install valgrind). Not part of `npm test`: it takes minutes.
#
#   scripts/valgrind.sh            # every core test binary
#   scripts/valgrind.sh socket     # only binaries whose name contains "socket"
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind not found" >&2; exit 2; }
filter="${1:-}"

# Debug build: full debug info for valgrind's reports, no LTO. Built first, so a failed
# build stops the script instead of leaving an empty list that would pass.
cargo test -p bsd-sockets-core --no-run
mapfile -t bins < <(cargo test -p bsd-sockets-core --no-run --message-format=json 2>/dev/null |
  node -e '
    let s = ""
    process.stdin.on("data", (d) => (s += d)).on("end", () => {
      for (const line of s.split("\n")) {
        if (!line.startsWith("{")) continue
        const m = JSON.parse(line)
        if (m.reason === "compiler-artifact" && m.profile?.test && m.executable) console.log(m.executable)
      }
    })')

((${#bins[@]} > 0)) || { echo "no test binaries found" >&2; exit 1; }
status=0
for bin in "${bins[@]}"; do
  [[ -z "$filter" || "$(basename "$bin")" == *"$filter"* ]] || continue
  echo "== $(basename "$bin")"
  # One test thread keeps valgrind's serialized threads from stretching socket timeouts;
  # --child-silent-after-fork: tests that fork report from the parent only.
  if ! valgrind --tool=memcheck --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite --child-silent-after-fork=yes --quiet \
    "$bin" --test-threads=1 -q; then
    status=1
  fi
done
exit $status
