#!/usr/bin/env bash
# JupyterLab for hyperlab, without pip: Debian's jupyter_server and jupyterlab_server
# (the Python side) and a JupyterLab 3.6 built from the @jupyterlab npm packages with
# plotly's renderer (lab/, its own package.json and lockfile). Needs the tslab kernel
# registered (scripts/notebook-setup.sh). `npm run lab` opens the lessons in it.
# Safe to run again: it installs and builds only what is missing or out of date.
#
#   scripts/lab-setup.sh            apt packages + npm ci in lab/ + webpack build
#   scripts/lab-setup.sh --no-apt   only the npm part
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/apt.sh
if [ "${1:-}" != "--no-apt" ]; then
  apt_install_missing lab-setup python3-jupyter-server python3-jupyterlab-server
fi

cd lab
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "lab-setup: npm ci in lab/"
  npm ci --no-audit --no-fund --loglevel=error
fi
# Rebuild when any input is newer than the bundle.
if [ ! -f build/bundle.js ] || [ -n "$(find index.js webpack.config.js package-lock.json -newer build/bundle.js)" ]; then
  echo "lab-setup: building the lab (webpack)"
  start=$(date +%s)
  npm run --silent build >build.log 2>&1 || {
    tail -40 build.log >&2
    echo "lab-setup: the lab build failed (log: lab/build.log)" >&2
    exit 1
  }
  echo "lab-setup: lab built in $(($(date +%s) - start)) s"
fi
echo "lab-setup: JupyterLab ready: npm run lab"
