#!/usr/bin/env bash
# Make WebGPU usable in Node on a machine without a GPU (idempotent; quick when an adapter already works).
#
# Node gets WebGPU from Dawn's bindings (npm `webgpu`, an optionalDependency). Without a GPU, Dawn runs on Mesa's
# lavapipe (software Vulkan). Dawn needs a recent lavapipe: with Debian bookworm's Mesa 22.3
# `requestAdapter()` returns null. This script:
#   1. checks whether `requestAdapter()` already returns an adapter in Node; if so, it does nothing;
#   2. on Debian bookworm, adds the bookworm-backports suite using the SAME mirror the machine's Debian sources
#      already use (read from /etc/apt/sources.list and /etc/apt/sources.list.d/*), and installs
#      mesa-vulkan-drivers and libvulkan1 from it; on newer Debian/Ubuntu it installs them from the default suites;
#   3. checks the adapter again.
# Run as root (CI containers are), or as a user with passwordless sudo; otherwise it prints what to run.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
PACKAGES=(mesa-vulkan-drivers libvulkan1)
LIST=/etc/apt/sources.list.d/sparsecast-bookworm-backports.sources

probe() {
  # Prints the adapter description and exits 0 when Node's WebGPU has an adapter.
  node --input-type=module -e "
    let mod;
    try { mod = await import('webgpu'); } catch (e) { console.error('npm package webgpu is not installed (run: npm install)'); process.exit(2); }
    const gpu = mod.create([]);
    const a = await gpu.requestAdapter();
    if (!a) process.exit(1);
    const i = a.info ?? {};
    console.log([i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ') || 'adapter');
    process.exit(0);
  " 2>/dev/null
}

rc=0
desc="$(cd "$ROOT" && probe)" || rc=$?
if [ "$rc" -eq 0 ]; then
  echo "setup-webgpu: WebGPU adapter available in Node ($desc)"
  exit 0
fi
if [ "$rc" -eq 2 ]; then
  echo "setup-webgpu: the npm package 'webgpu' is missing; run 'npm install' first (a devDependency here, an optional peer for users)" >&2
  exit 1
fi
echo "setup-webgpu: no WebGPU adapter in Node; installing Mesa's lavapipe (software Vulkan)"

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-webgpu: apt-get is not available. Install Mesa >= 25 with the lavapipe Vulkan driver and the Vulkan" >&2
  echo "setup-webgpu: loader (libvulkan.so.1) with your package manager, or run on a machine with a GPU." >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "setup-webgpu: installing Mesa's software Vulkan driver needs root. Run:" >&2
    echo "    sudo bash scripts/setup-webgpu.sh" >&2
    exit 1
  fi
fi

codename=""
if [ -r /etc/os-release ]; then
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
fi

# The mirror URI (and keyring) of the machine's main Debian source for `bookworm`: one-line .list files and
# deb822 .sources files are both read. Security and backports entries are skipped.
find_mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    # deb [options] URI SUITE COMPONENTS...
    awk -v want="$1" '
      $1 == "deb" {
        i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == want) { print $i "\t"; exit }
      }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    [ "$f" = "$LIST" ] && continue
    awk -v want="$1" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no") {
          n = split(suites, s, " ")
          for (j = 1; j <= n; j++) if (s[j] == want) { split(uris, u, " "); print u[1] "\t" signed; found = 1; exit }
        }
        types = ""; uris = ""; suites = ""; signed = ""; enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      {
        key = tolower($1); sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val)
        if (key == "types") types = val
        else if (key == "uris") uris = val
        else if (key == "suites") suites = val
        else if (key == "signed-by") signed = val
        else if (key == "enabled") enabled = tolower(val)
      }
      END { if (!found) flush() }' "$f"
  done
}

export DEBIAN_FRONTEND=noninteractive
if [ "$codename" = "bookworm" ]; then
  line="$(find_mirror bookworm | head -n 1)"
  mirror="${line%%$'\t'*}"
  signed="${line#*$'\t'}"
  if [ -z "$mirror" ]; then
    echo "setup-webgpu: could not find the Debian mirror for 'bookworm' in /etc/apt/sources.list{,.d/*}" >&2
    exit 1
  fi
  if ! grep -rqsE '(^|[[:space:]])bookworm-backports([[:space:]]|$)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "setup-webgpu: adding bookworm-backports from $mirror ($LIST)"
    {
      echo "# Added by sparsecast scripts/setup-webgpu.sh: Mesa >= 25 lavapipe for WebGPU (Dawn) without a GPU."
      echo "Types: deb"
      echo "URIs: $mirror"
      echo "Suites: bookworm-backports"
      echo "Components: main"
      if [ -n "$signed" ]; then echo "Signed-By: $signed"; fi
    } | "${SUDO[@]}" tee "$LIST" >/dev/null
  else
    echo "setup-webgpu: bookworm-backports is already configured"
  fi
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends -t bookworm-backports "${PACKAGES[@]}"
else
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
fi

rc=0
desc="$(cd "$ROOT" && probe)" || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "setup-webgpu: Mesa is installed ($(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo '?'))" >&2
  echo "setup-webgpu: but requestAdapter() still returns null in Node. Dawn needs Mesa >= 25 (lavapipe) and a" >&2
  echo "setup-webgpu: Vulkan ICD it can find (check VK_ICD_FILENAMES / VK_DRIVER_FILES are unset or valid)." >&2
  exit 1
fi
echo "setup-webgpu: done; WebGPU adapter available in Node ($desc)"
