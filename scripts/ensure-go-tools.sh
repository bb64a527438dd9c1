#!/usr/bin/env bash
# Builds the operators' tools the tests run (promtool for the alert rules) from the Go module proxy into
# .tools/go-bin, at the versions pinned below. Go's module and build caches live outside the clone
# (`go env GOMODCACHE GOCACHE`), so a rerun, or a fresh clone on a machine that built them once, only links:
# seconds, not the first build's minutes. A tool already on PATH at the pinned version is not rebuilt here
# either: `PROMTOOL_PATH` names one to use instead (test/helpers/go-tools.ts resolves it).
set -euo pipefail
cd "$(dirname "$0")/.."
# name, package, version (the Prometheus module's v0.316.0 is Prometheus 3.16).
tools=(
  "promtool github.com/prometheus/prometheus/cmd/promtool v0.316.0"
)
if ! command -v go >/dev/null 2>&1; then
  echo "Go tools: no go on PATH; install Go 1.26 to build promtool (test/monitoring/alert-rules.test.ts)." >&2
  exit 1
fi
for entry in "${tools[@]}"; do
  read -r name package version <<<"$entry"
  dir=".tools/go-bin/$name-$version"
  if [ -x "$dir/$name" ]; then continue; fi
  echo "Go tools: building $name $version from the Go module proxy (first time only; minutes)..." >&2
  started=$(date +%s)
  GOBIN="$PWD/$dir.partial" go install "$package@$version" >&2
  mv "$dir.partial" "$dir"
  echo "Go tools: $name ready in $(($(date +%s) - started)) s" >&2
done
