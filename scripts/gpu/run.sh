#!/usr/bin/env bash
# The webgpu conformance suite and the GPU benches on a bare Linux x86-64 NVIDIA machine, in one command, from
# the repo root of a copy of the repo plus the folder scripts/gpu/prepare.sh assembled (.gpu): no Node, npm or
# Vulkan loader needs to be installed there. Built for a machine reached one command at a time: under 10 minutes,
# results as files under $OUT (a device call returns at most 8 files; this writes 7).
#
#   bash scripts/gpu/run.sh [--quick] [--dry-run] [--only conformance,matmul,block,train] [--allow-software]
#
#   (default)          full sizes: matmul incl. 1024³ and 4096³, the block step at full size (batch 32, seq 96,
#                      d_model 512, d_ff 2048), the full-preset Transformer training step
#   --quick            reduced sizes (block: batch 8 / d_model 128; train: small preset), for a software adapter
#   --dry-run          --quick, and leave the system alone: no .debs unpacked into /, no NVIDIA ICD forced; the
#                      machine's own Vulkan loader and driver (lavapipe on a CPU machine) are used
#   --only LIST        run only these steps (a rerun of one part inside a short device budget)
#   --allow-software   go on with full sizes on a software adapter (by default a full run stops there: hours,
#                      not minutes, and no GPU figure; --quick goes on at its reduced sizes)
#
# Files in $OUT (default /tmp/sparsecast-gpu-out when OUT is unset):
#   conformance.jsonl  one JSON line per (kernel, webgpu), then {"summary":true,...,"failed":[...]}
#   matmul.jsonl block.jsonl train.jsonl   the benches' JSON lines, each with the adapter's description
#   nvidia-smi.txt     the GPU as the driver reports it (or why it is missing)
#   summary.json       adapter info and limits, runtime, mode, each step's exit status and seconds
#   run.log            everything the steps printed on stderr, and this script's own messages
# Exit status: 0 all passed; 1 conformance failed or no adapter; 3 conformance passed but a bench failed or
# timed out; 4 a software adapter where a GPU was expected; 2 bad arguments or a missing carried piece.
# Step time limits (seconds) can be changed with GPU_T_CONFORMANCE, GPU_T_MATMUL, GPU_T_BLOCK, GPU_T_TRAIN.
set -euo pipefail

usage() {
  sed -n '7,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

quick=0
dry=0
allow_software=0
only="conformance,matmul,block,train"
while [ "$#" -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --dry-run) dry=1; quick=1; allow_software=1 ;;
    --allow-software) allow_software=1 ;;
    --only) [ "$#" -ge 2 ] || { echo "run: --only needs a list (conformance,matmul,block,train)" >&2; exit 2; }; only="$2"; shift ;;
    --only=*) only="${1#--only=}" ;;
    -h|--help) usage ;;
    *) echo "run: unknown argument '$1'" >&2; usage ;;
  esac
  shift
done
for s in ${only//,/ }; do
  case "$s" in conformance|matmul|block|train) ;; *) echo "run: unknown step '$s' in --only (conformance, matmul, block, train)" >&2; exit 2 ;; esac
done
wants() { [[ ",$only," == *",$1,"* ]]; }

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
carried="${GPU_CARRIED:-.gpu}"
OUT="${OUT:-/tmp/sparsecast-gpu-out}"
mkdir -p "$OUT"
log="$OUT/run.log"
: >"$log"
say() { echo "run: $*" | tee -a "$log" >&2; }

# Every piece prepare.sh makes, checked before anything runs, each named when missing.
for f in node.xz node_modules/webgpu/index.js node_modules/webgpu/package.json \
  node_modules/webgpu/dist/linux-x64/dawn.node.xz conformance.mjs bench.mjs manifest.json; do
  if [ ! -f "$carried/$f" ]; then
    echo "run: $carried/$f is missing: run 'bash scripts/gpu/prepare.sh' on the CPU machine and carry $carried" >&2
    exit 2
  fi
done
ls "$carried"/debs/*.deb >/dev/null 2>&1 || { echo "run: no .deb in $carried/debs: run scripts/gpu/prepare.sh" >&2; exit 2; }

# --- unpack ----------------------------------------------------------------------------------------------
# Unpacked beside the compressed copies (Node finds `webgpu` from the bundles' folder) and removed on exit, so
# the folder never grows past what prepare.sh measured, should it be carried again.
node_bin="$carried/node"
dawn="$carried/node_modules/webgpu/dist/linux-x64/dawn.node"
cleanup() { rm -f "$node_bin" "$dawn"; }
trap cleanup EXIT
unxz_to() {
  # xz is not in every bare image; Python's lzma module (the CUDA images' python3) reads the same format.
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$1" >"$2"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  else
    echo "run: neither xz nor python3 is here to unpack $1" >&2
    exit 2
  fi
}
t0=$(date +%s)
unxz_to "$carried/node.xz" "$node_bin"
chmod +x "$node_bin"
unxz_to "$carried/node_modules/webgpu/dist/linux-x64/dawn.node.xz" "$dawn"
say "unpacked Node $("$node_bin" --version) and Dawn in $(( $(date +%s) - t0 )) s"

# The Vulkan loader: a bare CUDA image has the NVIDIA driver but no libvulkan.so.1 (device README). Unpacked
# into / only where it is missing, and never on a dry run (it would replace this machine's own).
if [ "$dry" = 1 ]; then
  say "dry run: using this machine's Vulkan loader and drivers as they are"
elif ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  say "Vulkan loader already installed: $(ldconfig -p | grep -m1 'libvulkan\.so\.1 ' | sed 's/.*=> //')"
else
  command -v dpkg >/dev/null 2>&1 || { say "dpkg is missing: cannot unpack $carried/debs (the Vulkan loader)"; exit 2; }
  for f in "$carried"/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
  say "unpacked the Vulkan loader from $carried/debs ($(ls "$carried"/debs | tr '\n' ' '))"
fi
if [ "$dry" = 0 ]; then
  # NVIDIA's driver folder on these machines; its ICD is not in the loader's default search paths.
  nv=/usr/local/nvidia
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ ! -e /usr/share/vulkan/icd.d/nvidia_icd.json ] && [ ! -e /etc/vulkan/icd.d/nvidia_icd.json ] \
    && [ -e "$nv/share/vulkan/icd.d/nvidia_icd.json" ]; then
    export VK_DRIVER_FILES="$nv/share/vulkan/icd.d/nvidia_icd.json"
    say "VK_DRIVER_FILES=$VK_DRIVER_FILES"
  fi
  for d in "$nv/lib64" "$nv/lib"; do
    [ -d "$d" ] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
fi

# --- the machine ---------------------------------------------------------------------------------------
if command -v nvidia-smi >/dev/null 2>&1; then
  { nvidia-smi || true; echo; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv || true; } \
    >"$OUT/nvidia-smi.txt" 2>&1
else
  echo "nvidia-smi: not found on this machine$([ "$dry" = 1 ] && echo ' (dry run)')" >"$OUT/nvidia-smi.txt"
fi

# The adapter Dawn picks, as the backend will see it: info fields and the limits the kernels depend on.
adapter_json="$("$node_bin" --input-type=module -e "
  const { create, globals } = await import('$root/$carried/node_modules/webgpu/index.js');
  Object.assign(globalThis, globals);
  const a = await create([]).requestAdapter();
  if (!a) { console.log('null'); process.exit(0); }
  const i = a.info ?? {};
  const l = a.limits;
  console.log(JSON.stringify({
    vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description,
    limits: { maxBufferSize: l.maxBufferSize, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize, maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup },
    features: [...a.features].sort(),
  }));
  process.exit(0);
" 2>>"$log" || echo null)"
software=false
if [ "$adapter_json" = null ]; then
  say "no WebGPU adapter: Dawn found no Vulkan driver (VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}); see run.log"
elif echo "$adapter_json" | grep -q -i -E 'llvmpipe|lavapipe|swiftshader|software|"cpu"'; then
  software=true
fi
say "adapter: $adapter_json"

# --- steps ---------------------------------------------------------------------------------------------
steps_file="$OUT/.steps"
: >"$steps_file"
# run_step NAME LIMIT_S CMD...: JSON lines to $OUT/NAME.jsonl (and the console), stderr to run.log.
run_step() {
  local name="$1" limit="$2" rc=0 s
  shift 2
  say "$name: $* (limit ${limit} s)"
  s=$(date +%s)
  set +e
  timeout --kill-after=10 "$limit" "$@" 2>>"$log" | tee "$OUT/$name.jsonl"
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then say "$name: stopped at its ${limit} s limit"; fi
  echo "$name $rc $(( $(date +%s) - s ))" >>"$steps_file"
  say "$name: exit $rc after $(( $(date +%s) - s )) s"
}

node_run=("$node_bin" --experimental-wasm-relaxed-simd)
stopped=""
if [ "$adapter_json" = null ]; then
  stopped="no adapter"
elif [ "$software" = true ] && [ "$allow_software" = 0 ] && [ "$quick" = 0 ]; then
  stopped="software adapter"
  say "the adapter is a software renderer, not the GPU: stopping before the full-size benches (--allow-software or --quick to go on)"
fi
if [ -z "$stopped" ]; then
  # Quick: what lavapipe on two shared cores does in a few minutes (≈ 1 GFLOP/s); full: the issue's sizes.
  if [ "$quick" = 1 ]; then
    matmul_shapes=(--shapes 256x256x256,512x512x512,1024x1024x1024); block_size=--small; preset=small; runs=(--runs 5)
  else
    matmul_shapes=(); block_size=--full; preset=full; runs=()
  fi
  wants conformance && run_step conformance "${GPU_T_CONFORMANCE:-120}" "${node_run[@]}" "$carried/conformance.mjs" --json --backend webgpu
  wants matmul && run_step matmul "${GPU_T_MATMUL:-100}" "${node_run[@]}" "$carried/bench.mjs" matmul --backend webgpu --json \
    "${matmul_shapes[@]}"
  wants block && run_step block "${GPU_T_BLOCK:-90}" "${node_run[@]}" "$carried/bench.mjs" block --backend webgpu --json "$block_size" \
    "${runs[@]}"
  wants train && run_step train "${GPU_T_TRAIN:-180}" "${node_run[@]}" "$carried/bench.mjs" train --backend webgpu --json \
    --preset "$preset" --models Transformer --no-peer "${runs[@]}"
fi

# --- summary -------------------------------------------------------------------------------------------
# summary.json, and the exit status by the rule in the header: conformance passed only with exit 0 and a
# summary line naming no failure; a bench passed when it exited 0 and printed at least one JSON line.
status=0
"$node_bin" -e '
  const fs = require("node:fs");
  const [out, carried, adapter, software, quick, dry, stopped, only] = process.argv.slice(1);
  const steps = fs.readFileSync(out + "/.steps", "utf8").split("\n").filter(Boolean).map((l) => {
    const [name, rc, seconds] = l.split(" ");
    const file = `${out}/${name}.jsonl`;
    const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter((x) => x.startsWith("{")).length : 0;
    return { name, rc: +rc, seconds: +seconds, lines };
  });
  let conformance = null;
  const conf = out + "/conformance.jsonl";
  if (fs.existsSync(conf)) {
    const last = fs.readFileSync(conf, "utf8").split("\n").map((l) => { try { return JSON.parse(l); } catch { return {}; } }).find((r) => r.summary);
    if (last) conformance = { kernels: last.kernels, ok: last.ok, failed: last.failed };
  }
  const wanted = only.split(",");
  let status = 0;
  if (stopped === "no adapter") status = 1;
  else if (stopped === "software adapter") status = 4;
  else if (wanted.includes("conformance") && (steps.find((s) => s.name === "conformance")?.rc !== 0 || !conformance || conformance.failed.length > 0)) status = 1;
  else if (steps.some((s) => s.name !== "conformance" && (s.rc !== 0 || s.lines === 0))) status = 3;
  const s = {
    status, adapter: JSON.parse(adapter), software: software === "true", mode: dry === "1" ? "dry-run" : quick === "1" ? "quick" : "full",
    node: process.version, manifest: JSON.parse(fs.readFileSync(carried + "/manifest.json", "utf8")),
    vk_driver_files: process.env.VK_DRIVER_FILES ?? null, stopped: stopped || null, steps, conformance,
    finished: new Date().toISOString(),
  };
  fs.writeFileSync(out + "/summary.json", JSON.stringify(s, null, 1) + "\n");
  process.exit(status);
' "$OUT" "$carried" "$adapter_json" "$software" "$quick" "$dry" "$stopped" "$only" || status=$?
rm -f "$steps_file"
say "summary: $OUT/summary.json; exit $status"
exit "$status"
