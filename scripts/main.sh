#!/usr/bin/env bash
# The main job on a fresh machine: install, build, then train a forecaster on the shipped ETTh1 and print
# its result as one JSON line. Extra arguments go to `sparsecast train`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund >/dev/null; else npm install --no-audit --no-fund >/dev/null; fi
npm run --silent build >/dev/null
node bin/sparsecast.js train --data data/ETTh1.csv --model MLP --train_epochs 3 "$@"
