#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, then typecheck, lint and the test suites
# against a real Temporal dev server (started by test/helpers/global-setup.ts) and the Atlas simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
# Everything runs on the Node the image ships (.nvmrc), installed into .tools/ when the machine's differs; a named
# subset runs again on the floor of package.json engines (scripts/ensure-node.sh says which versions and why).
SHIPPED_BIN="$(bash scripts/ensure-node.sh shipped)"
FLOOR_BIN="$(bash scripts/ensure-node.sh floor)"
export PATH="$SHIPPED_BIN:$PATH"
echo "Node $(node --version) (shipped, .nvmrc); floor subset on $("$FLOOR_BIN/node" --version)"
bash scripts/ensure-deps.sh
bash scripts/ensure-chromium.sh
# Resolve (or install) the Temporal CLI once, before vitest starts its workers.
TEMPORAL_CLI_PATH="$(npx tsx scripts/resolve-temporal-cli.ts)"
export TEMPORAL_CLI_PATH
echo "Temporal CLI: $TEMPORAL_CLI_PATH ($("$TEMPORAL_CLI_PATH" --version))"
# The Python SDK peers of test/contract/python-sdk.test.ts; without them it skips (fails under CI=true).
bash scripts/ensure-python-peers.sh || echo "Python peers unavailable: test/contract/python-sdk.test.ts will skip" >&2
# promtool and Prometheus (test/monitoring/alert-rules.test.ts, prometheus-scrape.test.ts), built from the Go module
# proxy once (cached outside the clone).
bash scripts/ensure-go-tools.sh
echo "== typecheck"; npx tsc --noEmit -p tsconfig.json
# One command a line: under `set -e` a failing `a && b` would not stop the script.
echo "== lint"
npx eslint .
npx prettier --check . >/dev/null
echo "== tests"
mkdir -p test-artifacts
status=0
# The console gets what a person reads: a dot per test, every failure in full (with the logs of failing tests
# only) and the summary. Every test's result and timing is kept in test-artifacts/ (JSON and JUnit XML).
npx vitest run --silent=passed-only --reporter=dot \
  --reporter=json --outputFile.json=test-artifacts/vitest.json \
  --reporter=junit --outputFile.junit=test-artifacts/junit.xml "$@" || status=$?
counts() {
  node -e '
    const r = require(process.argv[1]);
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
  ' "$PWD/$1" || true
}
# On the floor: the Temporal end-to-end exports (workflow, typed client, encrypted payloads, replay of recorded
# histories), the worker starting, and the package installed as a stranger would. Only on a full run (no file
# arguments).
FLOOR_SUBSET=(
  test/workflows/export-snapshot.test.ts
  test/workflows/client.test.ts
  test/workflows/payload-encryption.test.ts
  test/workflows/replay.test.ts
  test/reliability/worker-startup.test.ts
  test/package/install.test.ts
)
if [ "$#" -eq 0 ]; then
  echo "== floor subset on Node $("$FLOOR_BIN/node" --version)"
  PATH="$FLOOR_BIN:$PATH" npx vitest run --silent=passed-only --reporter=dot \
    --reporter=json --outputFile.json=test-artifacts/vitest-floor.json \
    --reporter=junit --outputFile.junit=test-artifacts/junit-floor.xml "${FLOOR_SUBSET[@]}" || status=$?
  echo "floor subset, Node $("$FLOOR_BIN/node" --version): $(counts test-artifacts/vitest-floor.json)"
fi
# One plain closing line for tools that read it: "N passed, N failed, N skipped" (the full suite, shipped Node).
counts test-artifacts/vitest.json
exit "$status"
