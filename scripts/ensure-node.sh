#!/usr/bin/env bash
# Prints the bin directory of a Node runtime for the tests: `shipped` (the version in .nvmrc, which the image's
# FROM lines use) or `floor` (the oldest Node that package.json engines admits, at its latest patch). When the
# machine's node is that version, its own directory; otherwise the official binary from the npm registry's
# node-<os>-<arch> package (npm checks its integrity), unpacked once into .tools/node-<version>/ and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
# The floor: Node 22 is the oldest line still maintained (Node 20 reached its end of life in April 2026), and
# vite (vitest) needs 22.12 on that line. Renovate keeps this on 22.x (renovate.json); raise it on purpose.
FLOOR_NODE_VERSION=22.23.5
case "${1:-}" in
  shipped) version="$(tr -d ' \nv' < .nvmrc)" ;;
  floor) version="$FLOOR_NODE_VERSION" ;;
  *) echo "usage: $0 shipped|floor" >&2; exit 2 ;;
esac
if [ "$(node --version 2>/dev/null || true)" = "v$version" ]; then
  dirname "$(command -v node)"
  exit 0
fi
dir=".tools/node-$version"
if [ ! -x "$dir/bin/node" ]; then
  os="$(uname -s | tr '[:upper:]' '[:lower:]')"
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
  echo "Installing Node $version (npm package node-$os-$arch) into $dir..." >&2
  mkdir -p .tools
  tmp="$(mktemp -d .tools/node-download.XXXXXX)"
  trap 'rm -rf "$tmp"' EXIT
  tarball="$(cd "$tmp" && npm pack "node-$os-$arch@$version" --silent --no-audit --no-fund | tail -n 1)"
  tar xzf "$tmp/$tarball" -C "$tmp" package/bin/node package/LICENSE
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
fi
"$dir/bin/node" --version >/dev/null
echo "$PWD/$dir/bin"
