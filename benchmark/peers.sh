#!/usr/bin/env bash
# Installs the benchmark's optional peers, which benchmark/run.mjs skips when absent:
#   - Bun (npm package @oven/bun-linux-x64) into ~/.cache/bsd-sockets/bun
#   - the reference event-loop server (../shared/reference/uvpoll, plain C N-API) built with
#     node-gyp in /tmp/uvpoll: a yardstick, never part of this repository.
#
#   npm run bench:peers
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cache="${XDG_CACHE_HOME:-$HOME/.cache}/bsd-sockets"

echo "==> Bun (@oven/bun-linux-x64 from npm)"
if [[ "$(uname -sm)" != "Linux x86_64" ]]; then
  echo "skipped: @oven/bun-linux-x64 is for Linux x86_64"
else
  mkdir -p "$cache/bun"
  if ! npm install --prefix "$cache/bun" --no-save --no-audit --no-fund @oven/bun-linux-x64 >/dev/null; then
    echo "error: could not install @oven/bun-linux-x64 from the npm registry" >&2
    exit 1
  fi
  "$cache/bun/node_modules/@oven/bun-linux-x64/bin/bun" --version
fi

echo "==> reference server (../shared/reference/uvpoll -> /tmp/uvpoll)"
ref="$(cd .. && pwd)/shared/reference/uvpoll"
if [[ ! -d "$ref" ]]; then
  echo "skipped: $ref is not here"
else
  rm -rf /tmp/uvpoll && cp -r "$ref" /tmp/uvpoll
  nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  if ! (cd /tmp/uvpoll && npm_config_nodedir="$nodedir" npx --yes node-gyp rebuild >/dev/null 2>&1); then
    echo "error: node-gyp could not build /tmp/uvpoll (needs a C compiler and node-gyp from npm)" >&2
    exit 1
  fi
  ls -l /tmp/uvpoll/build/Release/uvpoll.node
fi
