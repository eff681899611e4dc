#!/usr/bin/env bash
# THE test command (README: `bash scripts/test.sh`), also what .ci/run runs on a fresh machine:
#   1. system packages the tests need (Debian's chromium for the browser suite),
#   2. node dependencies from the lockfile,
#   3. a WebGPU adapter for Node (Mesa's lavapipe when there is no GPU; scripts/setup-webgpu.sh, which needs
#      the npm package `webgpu`, hence after step 2),
#   4. the AssemblyScript kernels (build/kernels.wasm and the embedded bytes module),
#   5. every vitest suite (Node; Deno and headless Chromium runners included).
# Extra arguments go to vitest (e.g. `bash scripts/test.sh test/conformance.test.ts`).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== system packages"
bash scripts/setup-system.sh

echo "== node dependencies"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi

echo "== WebGPU adapter (Mesa lavapipe when there is no GPU)"
bash scripts/setup-webgpu.sh

echo "== build: wasm kernels, WGSL shaders, bundle and type declarations"
npm run build

echo "== typecheck"
npm run typecheck

echo "== tests"
npx vitest run "$@"
