#!/usr/bin/env bash
# Makes Debian's Chromium available for the Web UI browser test (playwright-core drives it; no browser
# download). Does nothing when CHROMIUM_PATH or a chromium on PATH exists. Installs the `chromium` package
# with apt-get when run as root (CI machines); otherwise says what to do, and the test skips (fails under CI).
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the Web UI test (apt-get)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q chromium >/dev/null 2>&1; then
    apt-get update -q >/dev/null 2>&1 || true
    apt-get install -y -q chromium >&2 || echo "chromium could not be installed" >&2
  fi
else
  echo "No Chromium: install Debian's chromium package (or set CHROMIUM_PATH) to run the Web UI test." >&2
fi
