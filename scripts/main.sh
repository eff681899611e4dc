#!/usr/bin/env bash
# The main job on a fresh machine: install, build, then train the small-preset Transformer with PALS on the
# shipped ETTh1 (Time-Series-Library protocol, pred_len 96) and print its result as one JSON line. Logs,
# checkpoints, the model file, plots and an HTML report land in runs/main. Extra arguments go to
# `sparsecast train` (e.g. --train_epochs 10 for the full TSLib schedule, --method dense).
set -euo pipefail
cd "$(dirname "$0")/.."
# SPARSECAST_SKIP_SETUP=1 skips the install and build (the tests run this script against the build they made).
if [ "${SPARSECAST_SKIP_SETUP:-}" != 1 ]; then
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund >/dev/null; else npm install --no-audit --no-fund >/dev/null; fi
  npm run --silent build >/dev/null
fi
# --val_batches (the PALS controller's validation batches per decision) only when the run stays PALS: train
# refuses a flag its --method does not read. The report is made of the folder train wrote (its last --out).
method=pals
out=runs/main
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --method) method="${args[i + 1]:-}" ;;
    --method=*) method="${args[i]#--method=}" ;;
    --out) out="${args[i + 1]:-}" ;;
    --out=*) out="${args[i]#--out=}" ;;
  esac
done
pals_flags=()
if [ "$method" = pals ]; then pals_flags=(--val_batches 10); fi
node bin/sparsecast.js train --data data/ETTh1.csv --model Transformer --preset small --method pals \
  --train_epochs 2 "${pals_flags[@]}" --out runs/main "$@"
node bin/sparsecast.js report --out "$out" >/dev/null
