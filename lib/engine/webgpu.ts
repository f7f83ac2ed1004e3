/**
 * WebGPU in Node: the `webgpu` npm package (Dawn, Chrome's WebGPU, with prebuilt
 * binaries inside the package) gives a GPU; tfjs-backend-webgpu runs tfjs on it.
 *
 * - A real GPU is reached through Vulkan on Linux (NVIDIA, AMD, Intel drivers),
 *   Metal on macOS and D3D12 on Windows.
 * - Without a GPU, Mesa's software rasteriser (llvmpipe) gives a *software*
 *   adapter through OpenGL/EGL (Debian: libegl-dev libegl-mesa0 libgl1-mesa-dri).
 *   It runs the same shaders on the CPU, ~50x slower than the wasm backend: it
 *   is for testing the GPU code path, and is used only when asked for
 *   (`{software: true}`, HYPERLAB_WEBGPU_SOFTWARE=1, or the webgpu backend asked
 *   for by name when no real adapter exists).
 *
 * tfjs-backend-webgpu registers itself only when `navigator.gpu` exists at the
 * moment it is loaded, so it is loaded here, lazily, after navigator.gpu is set.
 * Its synchronous reads need OffscreenCanvas, which Node lacks; ./webgpu_sync.ts
 * replaces them (hyperlab reads losses synchronously).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from './tf';
import { installEventPump, readBufferSync, MappableBuffer } from './webgpu_sync';
import { patchWebGPUKernels } from './webgpu_kernels';

/** What the device report says about the WebGPU adapter. */
export interface WebGPUAdapterReport {
  /** 'nvidia', 'amd', 'intel', ... ('' when the driver does not say). */
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The adapter's own flag: a fallback (software) adapter in WebGPU's sense. */
  isFallbackAdapter: boolean;
  /** True for a CPU implementation (llvmpipe, lavapipe, SwiftShader, or isFallbackAdapter). */
  software: boolean;
  /** How Dawn reached it: 'default' (Vulkan / Metal / D3D12) or 'opengl' (the software adapter). */
  api: string;
}

export interface WebGPUOptions {
  /**
   * Which adapters may be used: 'real' (a GPU; the default), 'software' (only
   * Mesa's llvmpipe) or 'any' (a GPU, else the software adapter).
   * HYPERLAB_WEBGPU_SOFTWARE=1 turns 'real' into 'any'.
   */
  adapter?: 'real' | 'software' | 'any';
}

/** The outcome of looking for an adapter, without starting anything. */
export type WebGPUProbe = { ok: true; adapter: WebGPUAdapterReport } | { ok: false; why: string; softwareAvailable?: boolean };

// ---------------------------------------------------------------------------
// Minimal typings of what we use from the `webgpu` package (no DOM types needed)

interface GPUAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GPUAdapterLike {
  info?: GPUAdapterInfoLike;
  isFallbackAdapter?: boolean;
  features: { has(f: string): boolean };
  limits: Record<string, number>;
  requestDevice(desc?: object): Promise<GPUDeviceLike>;
}
interface GPUDeviceLike {
  destroy(): void;
  addEventListener?(type: string, listener: (ev: { error?: { message?: string } }) => void): void;
  createComputePipeline?: (this: GPUDeviceLike, desc: { label?: string }) => unknown;
}
interface GPULike {
  requestAdapter(opts?: object): Promise<GPUAdapterLike | null>;
}
interface WebGPUPackage {
  create(flags: string[]): GPULike;
  globals: Record<string, unknown>;
}

// ---------------------------------------------------------------------------
// Loading the package

let pkg: WebGPUPackage | null = null;
let pkgError: string | null = null;

/** The message for a missing `webgpu` package. */
export const WEBGPU_NOT_INSTALLED = 'not installed: npm install webgpu (WebGPU for Node, Dawn binaries included)';

/** Load the `webgpu` package (an ES module; Node >= 20.19 require()s it). Null with a reason when it cannot load. */
export function loadWebGPUPackage(): WebGPUPackage | null {
  if (pkg || pkgError) return pkg;
  try {
    const m = require('webgpu') as WebGPUPackage;
    if (typeof m.create !== 'function') throw new Error('the webgpu package has no create()');
    installEventPump();
    pkg = m;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'MODULE_NOT_FOUND' && /'webgpu'/.test(err.message)) pkgError = WEBGPU_NOT_INSTALLED;
    else if (err.code === 'ERR_REQUIRE_ESM')
      pkgError = `the webgpu package is an ES module and this Node (${process.version}) cannot require() it: use Node >= 20.19`;
    else pkgError = `the webgpu package failed to load: ${err.message.split('\n')[0]}`;
  }
  return pkg;
}

/** Why the `webgpu` package did not load (null when it loaded or was not tried). */
export function webgpuPackageError(): string | null {
  return pkgError;
}

// ---------------------------------------------------------------------------
// System libraries (Linux): checked before loading Dawn, so that a machine
// without them gets a clear reason instead of Dawn's warnings on stderr.

const LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/lib64',
  '/usr/lib',
  '/lib',
  '/usr/local/lib',
  '/usr/lib/wsl/lib',
];
let ldCache: string | null = null;

/** Whether the dynamic loader can find `name` (LD_LIBRARY_PATH, the ld.so cache, the usual folders). */
export function findSharedLibrary(name: string): boolean {
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIB_DIRS];
  if (dirs.some((d) => fs.existsSync(path.join(d, name)))) return true;
  if (ldCache === null) {
    try {
      ldCache = fs.readFileSync('/etc/ld.so.cache').toString('latin1');
    } catch {
      ldCache = '';
    }
  }
  return ldCache.includes(`\0${name}\0`) || ldCache.includes(`/${name}\0`);
}

/** What the software adapter needs on Linux: file -> Debian package. */
const SOFTWARE_PREREQUISITES: [string, string][] = [
  ['libEGL.so', 'libegl-dev'], // Dawn opens "libEGL.so", which only the -dev package provides
  ['libEGL_mesa.so.0', 'libegl-mesa0'],
  ['dri/swrast_dri.so', 'libgl1-mesa-dri'],
];

/** Debian packages the software adapter lacks here ([] when all are there; always [] off Linux). */
export function missingSoftwarePackages(): string[] {
  if (process.platform !== 'linux') return [];
  return SOFTWARE_PREREQUISITES.filter(([file]) => !findSharedLibrary(file)).map(([, p]) => p);
}

// ---------------------------------------------------------------------------
// Finding an adapter

const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|swrast|software/i;

function describeAdapter(adapter: GPUAdapterLike, api: string): WebGPUAdapterReport {
  const info = adapter.info ?? {};
  const isFallbackAdapter = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter);
  const report = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter,
    software: false,
    api,
  };
  report.software =
    isFallbackAdapter || api === 'opengl' || SOFTWARE_NAMES.test(`${report.vendor} ${report.architecture} ${report.device} ${report.description}`);
  return report;
}

/** One line naming the adapter: 'nvidia hopper (NVIDIA H100 ...)' or 'llvmpipe-llvm-15-0-6-256-bits- (OpenGL version 4.5 ... Mesa 22.3.6)'. */
export function adapterSummary(a: WebGPUAdapterReport): string {
  const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || a.device || 'unnamed adapter';
  const detail = [a.device !== name ? a.device : '', a.description].filter(Boolean).join(', ');
  return `${name}${detail ? ` (${detail})` : ''}`;
}

interface Found {
  gpu: GPULike;
  adapter: GPUAdapterLike;
  request: object;
  report: WebGPUAdapterReport;
}

const NO_VULKAN =
  'no adapter found: no Vulkan loader (libvulkan.so.1); a GPU needs its driver with Vulkan support (NVIDIA driver, or Mesa: libvulkan1 mesa-vulkan-drivers)';

/** A real GPU: Dawn's default backends (Vulkan on Linux). */
async function findRealAdapter(p: WebGPUPackage): Promise<Found | string> {
  if (process.platform === 'linux' && !findSharedLibrary('libvulkan.so.1')) return NO_VULKAN;
  let gpu: GPULike;
  try {
    gpu = p.create([]);
  } catch (e) {
    return `failed: ${(e as Error).message.split('\n')[0]}`;
  }
  const request = { powerPreference: 'high-performance' };
  const adapter = await gpu.requestAdapter(request).catch(() => null);
  if (!adapter)
    return 'no adapter found: Dawn found no GPU through Vulkan (no driver with Vulkan support, or only a CPU implementation such as lavapipe, which Dawn rejects)';
  const report = describeAdapter(adapter, 'default');
  if (report.software) return `no GPU adapter: Dawn offers only a software adapter (${adapterSummary(report)})`;
  return { gpu, adapter, request, report };
}

/** Mesa's llvmpipe through OpenGL ES / EGL without a display. */
async function findSoftwareAdapter(p: WebGPUPackage): Promise<Found | string> {
  const missing = missingSoftwarePackages();
  if (missing.length) return `no software adapter: Mesa's EGL / llvmpipe libraries are missing (Debian: apt-get install ${missing.join(' ')})`;
  // Mesa reads EGL_PLATFORM when Dawn first opens EGL: no X or Wayland display needed
  if (!process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
  let gpu: GPULike;
  try {
    gpu = p.create(['backend=opengl']);
  } catch (e) {
    return `failed: ${(e as Error).message.split('\n')[0]}`;
  }
  const request = { featureLevel: 'compatibility' };
  const adapter = await gpu.requestAdapter(request).catch(() => null);
  if (!adapter) return 'no software adapter: Dawn found no OpenGL adapter through EGL (is EGL_PLATFORM=surfaceless usable?)';
  return { gpu, adapter, request, report: { ...describeAdapter(adapter, 'opengl'), software: true } };
}

/** Whether HYPERLAB_WEBGPU_SOFTWARE asks for the software adapter. */
export function softwareRequested(): boolean {
  const v = (process.env.HYPERLAB_WEBGPU_SOFTWARE ?? '').toLowerCase();
  return v !== '' && v !== '0' && v !== 'false' && v !== 'no';
}

function adapterMode(opts: WebGPUOptions): 'real' | 'software' | 'any' {
  const mode = opts.adapter ?? 'real';
  return mode === 'real' && softwareRequested() ? 'any' : mode;
}

/** The last adapter found and not yet used (probeWebGPU then setupWebGPU start Dawn once). */
let cached: { mode: 'real' | 'software' | 'any'; found: Found } | null = null;

/** Whether the `webgpu` package is installed (without loading it). */
export function webgpuInstalled(): boolean {
  try {
    require.resolve('webgpu');
    return true;
  } catch {
    return false;
  }
}

async function findAdapter(opts: WebGPUOptions): Promise<Found | string> {
  const mode = adapterMode(opts);
  if (cached && (cached.mode === mode || (!cached.found.report.software && mode !== 'software'))) return cached.found;
  if (!webgpuInstalled()) return WEBGPU_NOT_INSTALLED;
  if (mode === 'real' && process.platform === 'linux' && !findSharedLibrary('libvulkan.so.1')) return NO_VULKAN;
  const p = loadWebGPUPackage();
  if (!p) return pkgError!;
  let real: Found | string = 'not tried';
  if (mode !== 'software') {
    real = await findRealAdapter(p);
    if (typeof real !== 'string' || mode === 'real') return real;
  }
  const soft = await findSoftwareAdapter(p);
  if (typeof soft !== 'string') return soft;
  return mode === 'software' ? soft : `${real}; ${soft}`;
}

/**
 * Look for an adapter without registering anything (for the device report).
 * With the default options only a real GPU counts; `softwareAvailable` then says
 * whether the software adapter could be had (from its libraries, without starting it).
 */
export async function probeWebGPU(opts: WebGPUOptions = {}): Promise<WebGPUProbe> {
  if (active && (adapterMode(opts) !== 'real' || !active.report.software)) return { ok: true, adapter: active.report };
  const found = await findAdapter(opts);
  if (typeof found !== 'string') {
    cached = { mode: adapterMode(opts), found };
    return { ok: true, adapter: found.report };
  }
  const softwareAvailable = webgpuInstalled() && adapterMode(opts) === 'real' && missingSoftwarePackages().length === 0;
  return { ok: false, why: found, softwareAvailable };
}

// ---------------------------------------------------------------------------
// Registering the tfjs backend

interface Active {
  gpu: GPULike;
  request: object;
  report: WebGPUAdapterReport;
  device: GPUDeviceLike | null;
}
let active: Active | null = null;

/** The adapter the webgpu backend runs on (null before setupWebGPU). */
export function webgpuAdapter(): WebGPUAdapterReport | null {
  return active?.report ?? null;
}

interface TensorData {
  dtype: string;
  values: unknown;
  resource: MappableBuffer & { size: number };
  complexTensorInfos?: { real: { dataId: object }; imag: { dataId: object } };
}
interface WebGPUBackendLike {
  tensorMap: { get(id: object): TensorData };
  bufferManager: { acquireBuffer(size: number, usage: number): MappableBuffer; releaseBuffer(b: MappableBuffer): void };
  commandEncoder: { copyBufferToBuffer(src: object, so: number, dst: object, dO: number, size: number): void };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(id: object, values: unknown): unknown;
  readSync(id: object): unknown;
}

/** Replace WebGPUBackend.readSync (OffscreenCanvas, browser only) with a copy to a staging buffer read synchronously. */
function patchReadSync(WebGPUBackend: { prototype: WebGPUBackendLike }): void {
  const proto = WebGPUBackend.prototype as WebGPUBackendLike & { __hyperlabSyncRead?: boolean };
  if (proto.__hyperlabSyncRead) return;
  const COPY_DST = 0x0008;
  const MAP_READ = 0x0001;
  proto.readSync = function readSync(this: WebGPUBackendLike, dataId: object): unknown {
    const data = this.tensorMap.get(dataId);
    if (data.values != null || data.dtype === 'string') return data.values;
    if (data.dtype === 'complex64') {
      const re = this.readSync(data.complexTensorInfos!.real.dataId) as Float32Array;
      const im = this.readSync(data.complexTensorInfos!.imag.dataId) as Float32Array;
      const merged = tf.backend_util.mergeRealAndImagArrays(re, im);
      return this.convertAndCacheOnCPU(dataId, merged);
    }
    const size = data.resource.size;
    const staging = this.bufferManager.acquireBuffer(size, COPY_DST | MAP_READ);
    this.ensureCommandEncoderReady();
    this.endComputePassEncoder();
    this.commandEncoder.copyBufferToBuffer(data.resource, 0, staging, 0, size);
    this.submitQueue();
    let bytes: ArrayBuffer;
    try {
      bytes = readBufferSync(staging);
    } finally {
      this.bufferManager.releaseBuffer(staging);
    }
    const values = tf.util.convertBackendValuesAndArrayBuffer(bytes, data.dtype as tf.DataType);
    return this.convertAndCacheOnCPU(dataId, values);
  };
  proto.__hyperlabSyncRead = true;
}

/** The message for GPU errors Dawn reported and nothing has thrown for yet (cleared). */
function takeErrors(errors: string[] | undefined): string | null {
  if (!errors || errors.length === 0) return null;
  const msg = errors.length === 1 ? errors[0] : `${errors[0]} (and ${errors.length - 1} more)`;
  errors.length = 0;
  return msg;
}

/**
 * Dawn rejects an invalid shader or command with an event (sent synchronously,
 * during the call) and then computes nothing: the result would silently be
 * zeros. Make the kernel whose pipeline fails to build throw, before anything is
 * recorded (the pipeline is not cached, so a later call fails the same way).
 */
function watchErrors(device: GPUDeviceLike, errors: string[]): void {
  device.addEventListener?.('uncapturederror', (ev) => {
    errors.push(ev.error?.message?.split('\n')[0] ?? 'unknown error');
  });
  const create = device.createComputePipeline;
  if (typeof create !== 'function') return;
  device.createComputePipeline = function (desc: { label?: string }) {
    const before = errors.length;
    const pipeline = create.call(this, desc);
    if (errors.length > before) {
      const msg = takeErrors(errors);
      throw new Error(
        `webgpu: the GPU rejected tfjs-backend-webgpu's ${desc?.label || 'shader'} for inputs of this shape: ${msg} ` +
          '(a limitation of tfjs-backend-webgpu 4.22; run this model on another backend)',
      );
    }
    return pipeline;
  };
}

/** Reads throw when the GPU reported an error that nothing has thrown for (their data may be wrong). */
function patchReadErrors(WebGPUBackend: { prototype: object }): void {
  type Backend = { hyperlabErrors?: string[]; read(id: object): Promise<unknown>; readSync(id: object): unknown; __hyperlabReadErrors?: boolean };
  const proto = WebGPUBackend.prototype as Backend;
  if (proto.__hyperlabReadErrors) return;
  const check = (b: Backend): void => {
    const msg = takeErrors(b.hyperlabErrors);
    if (msg) throw new Error(`webgpu: the GPU reported an error, so this result may be wrong: ${msg}`);
  };
  const { read, readSync } = proto;
  proto.read = async function (id) {
    const values = await read.call(this, id);
    check(this);
    return values;
  };
  proto.readSync = function (id) {
    const values = readSync.call(this, id);
    check(this);
    return values;
  };
  proto.__hyperlabReadErrors = true;
}

/** Make `globalThis.navigator.gpu` (and the GPU* constants) exist; Node 21+ has a navigator object, Node 20 none. */
function installNavigator(p: WebGPUPackage, gpu: GPULike): void {
  for (const [k, v] of Object.entries(p.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const g = globalThis as { navigator?: object };
  if (g.navigator) {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true, enumerable: true });
  } else {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
}

/**
 * Find an adapter (a real GPU unless `opts.adapter` or HYPERLAB_WEBGPU_SOFTWARE
 * allows the software one), set navigator.gpu, load tfjs-backend-webgpu and
 * register the `webgpu` backend on that adapter. Idempotent. Throws an Error
 * whose message says why WebGPU cannot be had here.
 */
export async function setupWebGPU(opts: WebGPUOptions = {}): Promise<WebGPUAdapterReport> {
  const mode = adapterMode(opts);
  if (active) {
    if (mode === 'real' && active.report.software) {
      throw new Error(`webgpu: only the software adapter ${adapterSummary(active.report)} is set up; no real GPU was found`);
    }
    return active.report;
  }
  const found = await findAdapter(opts);
  cached = null;
  if (typeof found === 'string') throw new Error(`webgpu: ${found}`);
  const p = loadWebGPUPackage()!;
  installNavigator(p, found.gpu);

  // loaded only now: it registers its kernels (and a backend factory, replaced below) when navigator.gpu exists
  let mod: { WebGPUBackend: new (device: unknown, info: unknown) => tf.KernelBackend };
  try {
    mod = require('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    throw new Error(
      `webgpu: @tensorflow/tfjs-backend-webgpu failed to load (npm install @tensorflow/tfjs-backend-webgpu@4.22.0): ${(e as Error).message.split('\n')[0]}`,
    );
  }
  patchReadSync(mod.WebGPUBackend as unknown as { prototype: WebGPUBackendLike });
  patchReadErrors(mod.WebGPUBackend as unknown as { prototype: object }); // after patchReadSync: wraps it
  patchWebGPUKernels();
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');

  const state: Active = { gpu: found.gpu, request: found.request, report: found.report, device: null };
  let firstAdapter: GPUAdapterLike | null = found.adapter;
  tf.registerBackend(
    'webgpu',
    async () => {
      // an adapter gives one device; a later re-initialisation asks for a fresh one
      const adapter = firstAdapter ?? (await state.gpu.requestAdapter(state.request));
      firstAdapter = null;
      if (!adapter) throw new Error('webgpu: the adapter is gone');
      const l = adapter.limits;
      const requiredFeatures = ['timestamp-query'].filter((f) => adapter.features.has(f));
      const device = await adapter.requestDevice({
        requiredFeatures,
        requiredLimits: {
          maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
          maxBufferSize: l.maxBufferSize,
          maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        },
      });
      state.device = device;
      const errors: string[] = [];
      watchErrors(device, errors);
      const backend = new mod.WebGPUBackend(device, adapter.info);
      (backend as unknown as { hyperlabErrors: string[] }).hyperlabErrors = errors;
      return backend;
    },
    // below wasm (2): tfjs never picks webgpu on its own; hyperlab picks it by name
    1,
  );
  active = state;
  return state.report;
}

/**
 * Undo setupWebGPU: switch to the cpu backend if webgpu is in use, dispose the
 * webgpu backend (tensors on it are lost), destroy the device and remove
 * navigator.gpu. The next setupWebGPU starts afresh.
 */
export async function releaseWebGPU(): Promise<void> {
  if (!active) return;
  if (tf.getBackend() === 'webgpu') await tf.setBackend('cpu');
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  try {
    active.device?.destroy();
  } catch {
    // already destroyed
  }
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav && nav.gpu === active.gpu) delete nav.gpu;
  active = null;
}
