#!/usr/bin/env bash
# Builds the operators' tools the tests run (promtool for the alert rules, Prometheus to scrape a real worker,
# helm and k8s-decode for the Helm chart, Docker Compose for docker-compose.yml) from the Go module proxy into .tools/go-bin, at the versions pinned below.
# Go's module and build caches live outside the clone (`go env GOMODCACHE GOCACHE`), so a rerun, or a fresh clone
# on a machine that built them once, only links: seconds, not the first build's minutes. `PROMTOOL_PATH`,
# `PROMETHEUS_PATH`, `HELM_PATH` or `K8S_DECODE_PATH` names a binary to use instead (test/helpers/go-tools.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
# name, package, version (the Prometheus module's v0.316.0 is Prometheus 3.16).
tools=(
  "promtool github.com/prometheus/prometheus/cmd/promtool v0.316.0"
  "prometheus github.com/prometheus/prometheus/cmd/prometheus v0.316.0"
  "helm helm.sh/helm/v4/cmd/helm v4.3.2"
)
# Programs built in a module of this repository (dependencies pinned by its go.sum), into a directory named by a
# hash of its sources, so an edit rebuilds and a rerun only checks the hash: name, module directory, and the
# package when it is not the module's own (Compose's command: `go install` refuses its module, see
# test/compose-cli/README.md).
local_tools=(
  "k8s-decode test/k8s-decode"
  "docker-compose test/compose-cli github.com/docker/compose/v5/cmd"
)
if ! command -v go >/dev/null 2>&1; then
  echo "Go tools: no go on PATH; install Go 1.26 to build the tools of test/monitoring and test/deploy/helm-chart.test.ts." >&2
  exit 1
fi
for entry in "${tools[@]}"; do
  read -r name package version <<<"$entry"
  dir=".tools/go-bin/$name-$version"
  if [ -x "$dir/$name" ]; then continue; fi
  echo "Go tools: building $name $version from the Go module proxy (first time only; minutes)..." >&2
  started=$(date +%s)
  GOBIN="$PWD/$dir.partial" go install "$package@$version" >&2
  rm -rf "$dir" && mv "$dir.partial" "$dir"
  echo "Go tools: $name ready in $(($(date +%s) - started)) s" >&2
done
for entry in "${local_tools[@]}"; do
  read -r name module package <<<"$entry"
  hash=$(cat "$module"/go.mod "$module"/go.sum $(find "$module" -maxdepth 1 -name '*.go' | LC_ALL=C sort) | sha256sum | cut -c1-12)
  dir=".tools/go-bin/$name-$hash"
  if [ -x "$dir/$name" ]; then continue; fi
  echo "Go tools: building $name ($module) from the Go module proxy..." >&2
  started=$(date +%s)
  mkdir -p "$dir.partial"
  (cd "$module" && go build -trimpath -o "$OLDPWD/$dir.partial/$name" "${package:-.}") >&2
  rm -rf "$dir" && mv "$dir.partial" "$dir"
  echo "Go tools: $name ready in $(($(date +%s) - started)) s" >&2
done
