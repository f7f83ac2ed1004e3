#!/usr/bin/env node
/**
 * `npm run build:native`: build the OpenBLAS matrix-product addon
 * (lib/engine/native/build/Release/hyperlab_native.node).
 *
 * Never part of `npm install`: hyperlab runs without the addon (on the plain
 * tfjs kernels) and device() says why. Needs a C++ compiler, make, python3 and
 * OpenBLAS's headers (Debian: `apt-get install g++ make python3 libopenblas-dev`).
 *
 * node-gyp is told where Node's own headers are (--nodedir), because without it
 * node-gyp downloads them, and there may be no internet.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const here = __dirname;

/** Node's headers: $npm_config_nodedir, else the prefix of the running node (e.g. /usr for /usr/bin/node). */
function nodeDir() {
  const candidates = [process.env.npm_config_nodedir, path.resolve(process.execPath, '..', '..')].filter(Boolean);
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h'))) return dir;
  }
  return null;
}

/** node-gyp: a local install, else the copy bundled with npm. */
function nodeGyp() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js', { paths: [here] });
  } catch {
    const bundled = path.resolve(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (fs.existsSync(bundled)) return bundled;
    if (process.env.npm_execpath) {
      const beside = path.resolve(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
      if (fs.existsSync(beside)) return beside;
    }
  }
  return null;
}

function fail(msg) {
  console.error(`build:native: ${msg}`);
  console.error('hyperlab still works without the addon, on the plain tfjs kernels (device() reports it).');
  process.exit(1);
}

const dir = nodeDir();
if (!dir)
  fail(`Node's C headers (include/node/node_api.h) were not found beside ${process.execPath}; set npm_config_nodedir to the folder that has include/node`);
const gyp = nodeGyp();
if (!gyp) fail('node-gyp was not found (it ships with npm); install it with `npm install --save-dev node-gyp`');
if (
  !fs.existsSync('/usr/include/x86_64-linux-gnu/cblas.h') &&
  !fs.existsSync('/usr/include/cblas.h') &&
  !fs.existsSync('/usr/include/aarch64-linux-gnu/cblas.h')
) {
  console.warn(
    'build:native: cblas.h not found in /usr/include; the build will fail unless OpenBLAS is elsewhere on the include path (Debian: apt-get install libopenblas-dev)',
  );
}

const started = Date.now();
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${dir}`, '--loglevel=warn'], { cwd: here, stdio: 'inherit' });
if (r.status !== 0) fail(`node-gyp rebuild failed (exit ${r.status}); Debian needs: apt-get install g++ make python3 libopenblas-dev`);

// Check that it loads (libopenblas is found at run time too) and says what it is.
try {
  const addon = require(path.join(here, 'build', 'Release', 'hyperlab_native.node'));
  const info = addon.info();
  console.log(`build:native: built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${info.config} (${info.corename}), ${info.threads} thread(s)`);
} catch (e) {
  fail(`the addon built but does not load: ${e.message}`);
}
