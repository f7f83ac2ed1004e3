/**
 * Loading the native addon (lib/engine/native/sgemm.cc, built by `npm run build:native`).
 *
 * Loading is tried once, on first use. When it fails (not built, no OpenBLAS at
 * run time, HYPERLAB_NATIVE=0) the reason is kept, hyperlab runs on the plain
 * tfjs kernels and device() reports why.
 *
 * HYPERLAB_NATIVE=0 turns the addon off; HYPERLAB_NATIVE_ADDON=/path/to/x.node
 * loads a build from elsewhere.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The functions sgemm.cc exports (offsets in bytes into `heap`, strides in floats). */
export interface NativeAddon {
  sgemm(
    heap: ArrayBuffer, batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean,
    aOff: number, aStride: number, bOff: number, bStride: number, cOff: number,
  ): void;
  epilogue(
    heap: ArrayBuffer, cOff: number, batch: number, m: number, n: number,
    biasOff: number, biasSB: number, biasSM: number, biasSN: number,
    activation: number, preluOff: number, preluSB: number, preluSM: number, preluSN: number, alpha: number,
  ): void;
  info(): { config: string; corename: string; threads: number };
  setThreads(n: number): void;
}

export type AddonStatus = { ok: true; addon: NativeAddon; file: string } | { ok: false; reason: string };

let status: AddonStatus | null = null;

/** Where a build may be: beside this file (running from source) or in the source tree (running from dist/). */
function candidates(): string[] {
  const rel = path.join('build', 'Release', 'hyperlab_native.node');
  return [
    path.join(__dirname, rel),
    path.join(__dirname, '..', '..', '..', '..', 'lib', 'engine', 'native', rel), // dist/lib/engine/native -> repo
  ];
}

/** The addon, or why there is none. Tries to load it the first time only. */
export function loadAddon(): AddonStatus {
  if (status) return status;
  const flag = process.env.HYPERLAB_NATIVE;
  if (flag !== undefined && /^(0|false|off|no)$/i.test(flag.trim())) {
    status = { ok: false, reason: `turned off by HYPERLAB_NATIVE=${flag}` };
    return status;
  }
  const asked = process.env.HYPERLAB_NATIVE_ADDON;
  const file = asked ?? candidates().find((f) => fs.existsSync(f));
  if (!file) {
    status = { ok: false, reason: 'the addon is not built (run `npm run build:native`; Debian needs libopenblas-dev, g++, make)' };
    return status;
  }
  try {
    const addon = require(file) as NativeAddon; // eslint-disable-line @typescript-eslint/no-var-requires
    addon.info(); // calls into OpenBLAS once, so a broken install fails here and not mid-training
    status = { ok: true, addon, file };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    status = { ok: false, reason: `cannot load ${file}: ${msg}` };
  }
  return status;
}
