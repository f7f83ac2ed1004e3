/**
 * Loading the native addon (lib/engine/native/*.cc, built by `npm run build:native`).
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

/** The functions the addon exports (offsets in bytes into `heap`, -1 for none; strides in floats). */
export interface NativeAddon {
  sgemm(
    heap: ArrayBuffer,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    aOff: number,
    aStride: number,
    bOff: number,
    bStride: number,
    cOff: number,
  ): void;
  epilogue(
    heap: ArrayBuffer,
    cOff: number,
    batch: number,
    m: number,
    n: number,
    biasOff: number,
    biasSB: number,
    biasSM: number,
    biasSN: number,
    activation: number,
    preluOff: number,
    preluSB: number,
    preluSM: number,
    preluSN: number,
    alpha: number,
  ): void;
  // conv.cc: NCHW convolutions; `geometry` is N C H W  O KH KW  OH OW  SH SW  PT PL  DH DW
  conv2d(heap: ArrayBuffer, xOff: number, wOff: number, biasOff: number, yOff: number, ...geometry: number[]): void;
  conv2dBackpropInput(heap: ArrayBuffer, dyOff: number, wOff: number, dxOff: number, ...geometry: number[]): void;
  conv2dBackpropFilter(heap: ArrayBuffer, xOff: number, dyOff: number, dwOff: number, ...geometry: number[]): void;
  channelSum(heap: ArrayBuffer, xOff: number, outOff: number, n: number, c: number, s: number): void;
  // fused.cc
  batchNormTrain(
    heap: ArrayBuffer,
    xOff: number,
    wOff: number,
    bOff: number,
    yOff: number,
    meanOff: number,
    varOff: number,
    n: number,
    c: number,
    s: number,
    eps: number,
  ): void;
  batchNormRunningStats(
    heap: ArrayBuffer,
    rmOff: number,
    rvOff: number,
    meanOff: number,
    varOff: number,
    rmOut: number,
    rvOut: number,
    c: number,
    momentum: number,
    unbias: number,
  ): void;
  batchNormTrainGrad(
    heap: ArrayBuffer,
    dyOff: number,
    xOff: number,
    meanOff: number,
    varOff: number,
    wOff: number,
    dxOff: number,
    dwOff: number,
    dbOff: number,
    n: number,
    c: number,
    s: number,
    eps: number,
  ): void;
  lstmForward(
    heap: ArrayBuffer,
    projOff: number,
    whhOff: number,
    bihOff: number,
    bhhOff: number,
    h0Off: number,
    c0Off: number,
    outOff: number,
    hNOff: number,
    cNOff: number,
    gatesOff: number,
    cellsOff: number,
    L: number,
    N: number,
    H: number,
    reverse: boolean,
  ): void;
  lstmBackward(
    heap: ArrayBuffer,
    dOutOff: number,
    dhNOff: number,
    dcNOff: number,
    gatesOff: number,
    cellsOff: number,
    outOff: number,
    h0Off: number,
    c0Off: number,
    whhOff: number,
    dprojOff: number,
    dwhhOff: number,
    dbOff: number,
    dh0Off: number,
    dc0Off: number,
    L: number,
    N: number,
    H: number,
    reverse: boolean,
  ): void;
  adam(
    heap: ArrayBuffer,
    pOff: number,
    gOff: number,
    mOff: number,
    vOff: number,
    vmaxOff: number,
    pOut: number,
    mOut: number,
    vOut: number,
    vmaxOut: number,
    size: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
    flags: number,
  ): void;
  crossEntropy(heap: ArrayBuffer, logitsOff: number, targetOff: number, lossOff: number, probsOff: number, M: number, C: number, mean: boolean): void;
  crossEntropyGrad(heap: ArrayBuffer, dyOff: number, probsOff: number, targetOff: number, dxOff: number, M: number, C: number, mean: boolean): void;
  leakyRelu(heap: ArrayBuffer, xOff: number, yOff: number, n: number, alpha: number): void;
  leakyReluGrad(heap: ArrayBuffer, dyOff: number, xOff: number, dxOff: number, n: number, alpha: number): void;
  // small.cc
  prelu(heap: ArrayBuffer, xOff: number, aOff: number, yOff: number, n: number, c: number, s: number): void;
  preluGrad(heap: ArrayBuffer, dyOff: number, xOff: number, aOff: number, dxOff: number, daOff: number, n: number, c: number, s: number): void;
  normSum(heap: ArrayBuffer, offsets: number[], sizes: number[], outOff: number, global: boolean, lambda: number): void;
  normSumGrad(heap: ArrayBuffer, dyOff: number, offsets: number[], sizes: number[], outOffsets: number[], global: boolean, lambda: number): void;
  mse(heap: ArrayBuffer, predOff: number, targetOff: number, outOff: number, n: number, mean: boolean): void;
  mseGrad(heap: ArrayBuffer, dyOff: number, predOff: number, targetOff: number, dpredOff: number, n: number, mean: boolean): void;
  bceWithLogits(heap: ArrayBuffer, predOff: number, targetOff: number, lossOff: number, n: number, mean: boolean): void;
  bceWithLogitsGrad(heap: ArrayBuffer, dyOff: number, predOff: number, targetOff: number, dpredOff: number, n: number, mean: boolean): void;
  sgd(
    heap: ArrayBuffer,
    pOff: number,
    gOff: number,
    bufOff: number,
    pOut: number,
    bufOut: number,
    n: number,
    lr: number,
    momentum: number,
    dampening: number,
    weightDecay: number,
    flags: number,
  ): void;
  relu(heap: ArrayBuffer, xOff: number, yOff: number, n: number): void;
  reluGrad(heap: ArrayBuffer, dyOff: number, yOff: number, dxOff: number, n: number): void;
  linearGrad(heap: ArrayBuffer, dyOff: number, xOff: number, dwOff: number, dbOff: number, M: number, N: number, K: number): void;
  info(): { config: string; corename: string; threads: number };
  setThreads(n: number): void;
}

/** Every function the TypeScript side calls (an older build lacking some is not used). */
const ADDON_FUNCTIONS = [
  'sgemm',
  'epilogue',
  'conv2d',
  'conv2dBackpropInput',
  'conv2dBackpropFilter',
  'channelSum',
  'batchNormTrain',
  'batchNormTrainGrad',
  'batchNormRunningStats',
  'lstmForward',
  'lstmBackward',
  'adam',
  'crossEntropy',
  'crossEntropyGrad',
  'leakyRelu',
  'leakyReluGrad',
  'prelu',
  'preluGrad',
  'normSum',
  'normSumGrad',
  'mse',
  'mseGrad',
  'bceWithLogits',
  'bceWithLogitsGrad',
  'sgd',
  'relu',
  'reluGrad',
  'linearGrad',
  'info',
  'setThreads',
];

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
    const missing = ADDON_FUNCTIONS.filter((f) => typeof (addon as unknown as Record<string, unknown>)[f] !== 'function');
    if (missing.length) {
      status = { ok: false, reason: `${file} is an older build without ${missing.join(', ')}: rebuild it with \`npm run build:native\`` };
      return status;
    }
    addon.info(); // calls into OpenBLAS once, so a broken install fails here and not mid-training
    status = { ok: true, addon, file };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    status = { ok: false, reason: `cannot load ${file}: ${msg}` };
  }
  return status;
}
