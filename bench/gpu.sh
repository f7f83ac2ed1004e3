#!/usr/bin/env bash
# bench/gpu.sh: hyperlab's bench on a machine with an NVIDIA GPU, in under 8 minutes.
#
#   bash bench/gpu.sh                 # install from the lockfile, build, bench, write bench/results.json
#   OUT=/tmp/gpu.json REPEAT=2 bash bench/gpu.sh
#   HYPERLAB_WEBGPU_SOFTWARE=1 ONLY=simplenn_small_b32 bash bench/gpu.sh   # the software adapter (a test, no GPU)
#
# What it does:
#   1. installs node_modules from package-lock.json (`npm ci`) unless they are there already
#      (SKIP_INSTALL=1 skips it; the `webgpu` package brings Dawn's binaries), builds the
#      TypeScript and, where OpenBLAS and g++ are present, the native addon;
#   2. checks that WebGPU finds an adapter (a real GPU through Dawn on Vulkan; with
#      HYPERLAB_WEBGPU_SOFTWARE=1 Mesa's llvmpipe is allowed, ~50x slower than wasm);
#   3. runs `bench/run.ts --quick` on webgpu and wasm+openblas, with PyTorch on CUDA where the
#      python (HYPERLAB_BENCH_PYTHON, default /usr/bin/python3, else python3) has torch with CUDA,
#      else PyTorch on the CPU, every run bounded so the whole script stays under 8 minutes;
#   4. writes the results, with the GPU adapter and PyTorch's device named, to $OUT
#      (default bench/results.json; the CPU figures there are replaced: keep them in git).
# Environment: OUT, REPEAT (default 1), ONLY (workload ids, comma-separated), BACKENDS
# (default webgpu,wasm+openblas), TIME_LIMIT (seconds for the bench itself, default 420).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
OUT=${OUT:-bench/results.json}
REPEAT=${REPEAT:-1}
BACKENDS=${BACKENDS:-webgpu,wasm+openblas}
TIME_LIMIT=${TIME_LIMIT:-420}
say() { echo "gpu.sh [$(( $(date +%s) - start )) s] $*"; }

# 1. install and build
if [ "${SKIP_INSTALL:-0}" != 1 ] && [ ! -d node_modules/@tensorflow/tfjs-core ]; then
  say "installing from package-lock.json (npm ci)"
  npm ci --no-audit --no-fund
fi
say "building (tsc)"
npm run build --silent
if [ ! -f lib/engine/native/build/Release/hyperlab_native.node ]; then
  if command -v g++ >/dev/null && { ldconfig -p 2>/dev/null | grep -q libopenblas || [ -e /usr/include/x86_64-linux-gnu/cblas.h ] || [ -e /usr/include/cblas.h ]; }; then
    say "building the native addon"
    npm run build:native --silent || say "native addon did not build: wasm+openblas will be skipped"
  else
    say "no g++ or OpenBLAS: wasm+openblas will be reported as unavailable"
  fi
fi

# 2. the GPU, through WebGPU
say "looking for a WebGPU adapter"
if ! timeout 120 node -e "
  const hl = require('./dist/lib');
  hl.useBackend('webgpu').then((r) => { console.log('webgpu adapter: ' + hl.adapterSummary(r.adapter)); process.exit(0); },
    (e) => { console.error(e.message); process.exit(1); });"; then
  say "WebGPU found no adapter (see above): on an NVIDIA machine install the Vulkan loader (libvulkan1) and the driver's ICD"
  BACKENDS=$(echo "$BACKENDS" | sed 's/webgpu,\{0,1\}//; s/,$//')
fi

# 3. PyTorch: CUDA where present
PY=${HYPERLAB_BENCH_PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 || true)
TORCH_ARGS=(--torch-device cpu)
if [ -z "$PY" ] || ! "$PY" -c "import torch" 2>/dev/null; then
  say "no PyTorch: hyperlab only"
  TORCH_ARGS=(--no-torch)
elif "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  say "PyTorch on CUDA: $("$PY" -c 'import torch; print(torch.cuda.get_device_name(0))')"
  TORCH_ARGS=(--torch-device cuda)
else
  say "PyTorch has no CUDA here: PyTorch on the CPU"
fi
export HYPERLAB_BENCH_PYTHON=$PY

ARGS=(--quick --repeat "$REPEAT" --backends "$BACKENDS" --out "$OUT" "${TORCH_ARGS[@]}")
if [ -n "${ONLY:-}" ]; then
  ARGS+=(--only "$ONLY")
else
  # run_small measures CPU-side overhead of a run (not a GPU figure): every other workload
  ARGS+=(--only "$(node -e "console.log(require('./dist/bench/workloads').WORKLOADS.map((w) => w.id).filter((id) => id !== 'run_small').join(','))")")
fi
say "bench: node dist/bench/run.js ${ARGS[*]} (at most $TIME_LIMIT s)"
OPENBLAS_NUM_THREADS=1 timeout "$TIME_LIMIT" node dist/bench/run.js "${ARGS[@]}"
say "done: $OUT"
