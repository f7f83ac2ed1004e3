#!/usr/bin/env bash
# Notebook tooling for hyperlab: Jupyter Notebook and Chromium from Debian (for
# using the lessons in a browser and for the browser end-to-end test), and the
# tslab kernel registered with Jupyter. Run after `npm ci` (tslab comes from npm).
# Safe to run again: it installs only what is missing.
#
#   scripts/notebook-setup.sh              apt packages + kernel registration
#   scripts/notebook-setup.sh --no-apt     only register the kernel
set -euo pipefail
cd "$(dirname "$0")/.."

# jupyter-notebook: classic Notebook 6 (Debian bookworm has no JupyterLab package).
# jupyter-nbconvert: HTML of executed lessons (test/e2e/nbconvert.test.ts).
# chromium + fonts-liberation: headless browser for the tests in test/e2e/
source scripts/apt.sh
if [ "${1:-}" != "--no-apt" ]; then
  apt_install_missing notebook-setup jupyter-notebook jupyter-nbconvert chromium fonts-liberation
fi

# `import * as hl from 'hyperlab'` in a notebook resolves node_modules/hyperlab, a
# link to this folder that npm makes from the devDependency "hyperlab": "file:".
if [ ! -e node_modules/hyperlab ]; then
  echo "notebook-setup: node_modules/hyperlab is missing: run npm ci (or npm install) first" >&2
  exit 1
fi

# Register the TypeScript kernel. The kernelspec runs this checkout's tslab by its
# full path, so Jupyter finds it without a global install.
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import jupyter_client" 2>/dev/null; then
  scope="--user"
  [ "$(id -u)" -eq 0 ] && scope=""
  node node_modules/tslab/bin/tslab install --python=/usr/bin/python3 --binary="$PWD/node_modules/.bin/tslab" $scope >/dev/null
  echo 'notebook-setup: tslab kernel registered for Jupyter (its kernel is called "TypeScript")'
else
  echo "notebook-setup: Jupyter is not installed for /usr/bin/python3; kernel not registered"
fi
