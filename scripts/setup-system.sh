#!/usr/bin/env bash
# Install the Debian packages the test suite needs (idempotent; quick when everything is present).
#   chromium      — headless Chromium driven by playwright-core in test/browser.test.ts (never downloaded by npm).
#   redis-server  — the Redis that test/queue.test.ts starts on a free port for the BullMQ sweep queue.
# Run as root (CI containers are), or as a user with passwordless sudo. Otherwise, when something is missing,
# it prints the command to run and exits 1.
set -euo pipefail

PACKAGES=(chromium redis-server)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
# The binary the browser test launches.
if [ ! -x /usr/bin/chromium ] && [[ ! " ${missing[*]} " == *" chromium "* ]]; then
  missing+=(chromium)
fi
if ! command -v redis-server >/dev/null 2>&1 && [[ ! " ${missing[*]} " == *" redis-server "* ]]; then
  missing+=(redis-server)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: all system packages present (${PACKAGES[*]})"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-system: missing packages: ${missing[*]}, and apt-get is not available." >&2
  echo "setup-system: install Chromium (so that /usr/bin/chromium exists) and redis-server, then rerun the tests." >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "setup-system: missing Debian packages: ${missing[*]}" >&2
    echo "setup-system: run this as root, then rerun the tests:" >&2
    echo "    sudo bash scripts/setup-system.sh" >&2
    echo "  (or: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]})" >&2
    exit 1
  fi
fi

echo "setup-system: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

if [ ! -x /usr/bin/chromium ]; then
  echo "setup-system: chromium was installed but /usr/bin/chromium is missing" >&2
  exit 1
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "setup-system: redis-server was installed but is not on PATH" >&2
  exit 1
fi
echo "setup-system: done ($(/usr/bin/chromium --version 2>/dev/null || echo chromium); $(redis-server --version | cut -d' ' -f1-3))"
