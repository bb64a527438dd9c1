#!/usr/bin/env bash
# Makes the Python environment of the Python contract test (test/contract/python-sdk.test.ts): a venv in
# .tools/python-peers with the pins of examples/python/requirements.txt. Does nothing when the venv already
# holds exactly those pins for this python3; rebuilds it when they change. Exits 1, saying why, when it cannot
# (no python3, no venv module, pip cannot reach the registry); the test then fails under CI=true, skips otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.tools/python-peers
requirements=examples/python/requirements.txt
python="${PYTHON_PEERS_PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "Python peers: no $python on PATH; install Python 3.9+ to run the Python contract test." >&2
  exit 1
fi
# The stamp names what was installed: the interpreter and the pins. Any change rebuilds the venv.
want="$("$python" -c 'import sys; print(sys.version.split()[0])') $(grep -v '^#' "$requirements" | tr -s '\n' ' ')"
stamp="$venv/.installed"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "Python peers: installing $(grep -v '^#' "$requirements" | tr -s '\n' ' ')into $venv..." >&2
rm -rf "$venv"
if ! "$python" -m venv "$venv" >&2; then
  echo "Python peers: '$python -m venv' failed (on Debian: apt-get install python3-venv)." >&2
  rm -rf "$venv"
  exit 1
fi
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements" >&2; then
  echo "Python peers: pip could not install $requirements." >&2
  rm -rf "$venv"
  exit 1
fi
echo "$want" >"$stamp"
