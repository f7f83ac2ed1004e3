#!/usr/bin/env bash
# Set up a fresh Debian machine for hyperlab: the Debian packages it lacks, the npm
# packages from the lockfile, the native CPU kernels (optional) and the build.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: OpenBLAS and a C++ toolchain for the native matrix kernels
# (optional: without them the plain tfjs kernels run), protoc to decode TensorBoard
# files in tests, Mesa's EGL + llvmpipe for the WebGPU software adapter the GPU
# code path is tested on, and redis-server for the queued-sweep test (test/sweep_queue.test.ts
# starts its own on a loopback port; Debian's service on 6379 is not used by hyperlab).
# Jupyter and Chromium come with scripts/notebook-setup.sh below.
source scripts/apt.sh
apt_install_missing setup libopenblas-dev g++ make python3 protobuf-compiler libegl-dev libegl-mesa0 libgl1-mesa-dri redis-server

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The native OpenBLAS kernels for the wasm backend: optional, a failure only means
# the plain tfjs kernels run (hyperlab device says why).
npm run --silent build:native || echo "setup: native CPU kernels not built; hyperlab runs on the plain tfjs kernels (hyperlab device says why)"
npm run --silent build
# Jupyter Notebook + Chromium (Debian) and the tslab kernel, for the lessons.
bash scripts/notebook-setup.sh
# JupyterLab (lab/: npm packages + Debian's jupyterlab_server), for `npm run lab` and its
# browser test. Optional: without it the JupyterLab test skips and says why.
bash scripts/lab-setup.sh || echo "setup: JupyterLab was not built (see above); npm run lab and its browser test need it"
echo "setup: done"
