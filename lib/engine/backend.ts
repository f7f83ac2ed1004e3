/**
 * Choosing where tensors live. `useBackend('wasm')` picks one by name;
 * `autoBackend()` picks the fastest that starts here; `device()` reports the
 * backend in use, why, why the others were passed over, the WebGPU adapter, and
 * whether the wasm backend's matrix products run on the native OpenBLAS kernels
 * (./native/matmul.ts) or on tfjs' own.
 *
 * Order, unless a backend is named (HYPERLAB_BACKEND, the run file's
 * `hyperlab: {backend}`, `--backend`, useBackend):
 *
 *   1. tensorflow via @tensorflow/tfjs-node-gpu (CUDA), when installed and on a GPU
 *   2. webgpu on a real adapter (the `webgpu` package: Vulkan / Metal / D3D12)
 *   3. tensorflow via @tensorflow/tfjs-node (libtensorflow on the CPU)
 *   4. wasm with the native OpenBLAS kernels
 *   5. wasm
 *   6. cpu
 *
 * tfjs-node(-gpu) and webgpu are optional: when absent or failing, the reason is
 * reported and the next one is tried. WebGPU's software adapter (Mesa llvmpipe)
 * is ~50x slower than wasm and is used only when asked for (./webgpu.ts).
 */
import { tf } from './tf';
import { describeNative, installNativeMatMul, nativeKernelsActive, setNativeKernels, setNativeThreads } from './native/matmul';
import { adapterSummary, probeWebGPU, setupWebGPU, WebGPUAdapterReport } from './webgpu';

export { setNativeKernels, nativeKernelsActive, setNativeThreads };

// Done once, when hyperlab is imported: with the addon built (npm run build:native)
// the wasm backend's matrix products run on OpenBLAS; without it, on tfjs' kernels (bias bug repaired).
installNativeMatMul();

export type BackendName = 'cpu' | 'wasm' | 'webgpu' | 'tensorflow';

/** Backends hyperlab can use, fastest first (tensorflow ranks first with tfjs-node-gpu, after webgpu with tfjs-node). */
export const backendPreference: BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface DeviceReport {
  backend: string;
  reason: string;
  passedOver: { backend: string; why: string }[];
  /**
   * The wasm backend's native matrix products: 'openblas sgemm (OpenBLAS 0.3.21, Haswell, 1 thread)',
   * 'off: ...' or 'unavailable: <reason>' (only the wasm backend uses them).
   */
  native: string;
  /** The WebGPU adapter (vendor, architecture, description, software or not) when the backend is webgpu. */
  adapter?: WebGPUAdapterReport;
  /** The package behind the tensorflow backend: '@tensorflow/tfjs-node-gpu (CUDA GPU)' or '@tensorflow/tfjs-node (CPU)'. */
  tensorflow?: string;
}

let lastReport: DeviceReport | null = null;

// ---------------------------------------------------------------------------
// tfjs-node / tfjs-node-gpu: optional, detected with a guarded require

const TF_PACKAGES = {
  gpu: { name: '@tensorflow/tfjs-node-gpu', needs: ' (Linux x64, needs CUDA 11.2 + cuDNN 8.1)' },
  cpu: { name: '@tensorflow/tfjs-node', needs: '' },
} as const;

interface TensorflowState {
  /** The package that loaded (it registers the 'tensorflow' backend), or null. */
  loaded: keyof typeof TF_PACKAGES | null;
  why: Record<keyof typeof TF_PACKAGES, string>;
}
let tfState: TensorflowState | null = null;

/** Load tfjs-node-gpu, else tfjs-node (once: both register the same 'tensorflow' backend). */
function loadTensorflow(): TensorflowState {
  if (tfState) return tfState;
  const state: TensorflowState = { loaded: null, why: { gpu: '', cpu: '' } };
  for (const kind of ['gpu', 'cpu'] as const) {
    const { name, needs } = TF_PACKAGES[kind];
    if (state.loaded) {
      state.why[kind] = `not loaded: ${TF_PACKAGES[state.loaded].name} provides the tensorflow backend`;
      continue;
    }
    try {
      require(name);
      state.loaded = kind;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      state.why[kind] =
        err.code === 'MODULE_NOT_FOUND' && err.message.includes(`'${name}'`)
          ? `not installed: npm install ${name}${needs}`
          : `failed: ${name}: ${err.message.split('\n')[0]}`;
    }
  }
  tfState = state;
  return state;
}

/** Start the 'tensorflow' backend; what runs it, or throws with the reasons. */
async function startTensorflow(): Promise<{ pkg: string; gpu: boolean }> {
  const state = loadTensorflow();
  if (!state.loaded) throw new Error(`${TF_PACKAGES.gpu.name}: ${state.why.gpu}; ${TF_PACKAGES.cpu.name}: ${state.why.cpu}`);
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`failed: ${TF_PACKAGES[state.loaded].name} did not initialise`);
  await tf.ready();
  const b = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  const gpu = state.loaded === 'gpu' && b.isUsingGpuDevice === true;
  return { pkg: TF_PACKAGES[state.loaded].name, gpu };
}

// ---------------------------------------------------------------------------

function assertBackendName(name: string, where: string): asserts name is BackendName {
  if (!backendPreference.includes(name as BackendName)) {
    throw new Error(`${where}: unknown backend '${name}'; use one of: ${backendPreference.join(', ')} (or 'auto')`);
  }
}

/** Switch to backend `name` (awaits its initialisation). Throws with the reason if it cannot start. */
export async function useBackend(name: BackendName, reason = 'asked for by name'): Promise<DeviceReport> {
  assertBackendName(name, 'useBackend');
  const report: DeviceReport = {
    backend: name,
    reason,
    passedOver: backendPreference.filter((b) => b !== name).map((b) => ({ backend: b, why: `not chosen: '${name}' was ${reason}` })),
    native: '',
  };
  if (name === 'webgpu') {
    let adapter: WebGPUAdapterReport;
    try {
      // named: a real GPU, else the software adapter (slow, but what was asked for)
      adapter = await setupWebGPU({ adapter: 'any' });
    } catch (e) {
      throw new Error(`useBackend: the 'webgpu' backend cannot start: ${(e as Error).message.replace(/^webgpu: /, '')}`);
    }
    report.adapter = adapter;
    if (adapter.software) report.reason += '; on the software adapter (CPU emulation of a GPU: slow, for testing)';
  } else if (name === 'tensorflow') {
    try {
      const t = await startTensorflow();
      report.tensorflow = `${t.pkg} (${t.gpu ? 'CUDA GPU' : 'CPU'})`;
    } catch (e) {
      throw new Error(`useBackend: the 'tensorflow' backend cannot start: ${(e as Error).message}`);
    }
    lastReport = report;
    return device();
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new Error(`useBackend: the '${name}' backend failed to initialise: ${(e as Error).message}; try 'cpu', which always works`);
  }
  if (!ok) throw new Error(`useBackend: the '${name}' backend failed to initialise; try 'cpu', which always works`);
  await tf.ready();
  lastReport = report;
  return device();
}

/** The value of HYPERLAB_BACKEND, checked ('auto' or empty: none). */
function backendFromEnv(): BackendName | null {
  const asked = (process.env.HYPERLAB_BACKEND ?? '').trim();
  if (!asked || asked === 'auto') return null;
  assertBackendName(asked, 'HYPERLAB_BACKEND');
  return asked;
}

/**
 * Pick the fastest backend that starts (order above), unless HYPERLAB_BACKEND
 * names one. The report lists every backend passed over and why.
 */
export async function autoBackend(): Promise<DeviceReport> {
  const asked = backendFromEnv();
  if (asked) return useBackend(asked, 'asked for by HYPERLAB_BACKEND');
  const passedOver: { backend: string; why: string }[] = [];
  const chosen = (backend: string, reason: string, extra: Partial<DeviceReport> = {}): DeviceReport => {
    lastReport = { backend, reason, passedOver, native: '', ...extra };
    return device();
  };
  const fasterStarted = (label: string): void => {
    passedOver.push({ backend: label, why: `not tried: ${lastReport!.backend} started and is faster` });
  };

  // 1. tfjs-node-gpu on a CUDA GPU
  const tfs = loadTensorflow();
  let tensorflowOnCpu: string | null = null; // the package to run on the CPU at step 3
  if (tfs.loaded === 'gpu') {
    try {
      const t = await startTensorflow();
      if (t.gpu) return finish(chosen('tensorflow', 'the fastest backend that started: tfjs-node-gpu on a CUDA GPU', { tensorflow: `${t.pkg} (CUDA GPU)` }));
      passedOver.push({
        backend: 'tensorflow (tfjs-node-gpu)',
        why: 'installed, but no CUDA GPU is usable (needs CUDA 11.2 + cuDNN 8.1): libtensorflow would run on the CPU',
      });
      tensorflowOnCpu = t.pkg;
    } catch (e) {
      passedOver.push({ backend: 'tensorflow (tfjs-node-gpu)', why: `failed: ${(e as Error).message}` });
    }
    await tf.setBackend('cpu');
  } else {
    passedOver.push({ backend: 'tensorflow (tfjs-node-gpu)', why: tfs.why.gpu });
    if (tfs.loaded === 'cpu') tensorflowOnCpu = TF_PACKAGES.cpu.name;
  }

  // 2. webgpu on a real adapter
  const probe = await probeWebGPU();
  if (probe.ok) {
    try {
      const r = await useBackend('webgpu', '');
      const where = adapterSummary(r.adapter!);
      const reason = probe.adapter.software
        ? `WebGPU on the software adapter ${where}, allowed by HYPERLAB_WEBGPU_SOFTWARE (slow, for testing)`
        : `the fastest backend that started: WebGPU on ${where}`;
      return finish(chosen('webgpu', reason, { adapter: r.adapter }));
    } catch (e) {
      passedOver.push({ backend: 'webgpu', why: `failed: ${(e as Error).message.replace(/^useBackend: /, '')}` });
      await tf.setBackend('cpu');
    }
  } else {
    const why = probe.softwareAvailable
      ? `${probe.why}; software adapter only (Mesa llvmpipe, ~50x slower than wasm): use HYPERLAB_BACKEND=webgpu to force it`
      : probe.why;
    passedOver.push({ backend: 'webgpu', why });
  }

  // 3. tfjs-node (libtensorflow on the CPU)
  if (tensorflowOnCpu) {
    try {
      await startTensorflow();
      return finish(
        chosen('tensorflow', `the fastest backend that started: ${tensorflowOnCpu} (libtensorflow on the CPU)`, { tensorflow: `${tensorflowOnCpu} (CPU)` }),
      );
    } catch (e) {
      passedOver.push({ backend: 'tensorflow (tfjs-node)', why: `failed: ${(e as Error).message}` });
      await tf.setBackend('cpu');
    }
  } else {
    passedOver.push({ backend: 'tensorflow (tfjs-node)', why: tfs.why.cpu });
  }

  // 4./5. wasm, with the native kernels when the addon loaded; 6. cpu
  for (const name of ['wasm', 'cpu'] as const) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        let reason = 'the fastest backend that started';
        if (name === 'wasm') {
          if (nativeKernelsActive()) reason += ', with the native OpenBLAS kernels';
          else passedOver.push({ backend: 'wasm + native kernels', why: describeNative() });
        }
        return finish(chosen(name, reason));
      }
      passedOver.push({ backend: name, why: 'failed to initialise' });
    } catch (e) {
      passedOver.push({ backend: name, why: `failed: ${(e as Error).message}` });
    }
  }
  throw new Error(`no backend could start: ${passedOver.map((p) => `${p.backend}: ${p.why}`).join('; ')}`);

  /** List the backends below the chosen one as not tried. */
  function finish(report: DeviceReport): DeviceReport {
    const order = ['tensorflow (tfjs-node-gpu)', 'webgpu', 'tensorflow (tfjs-node)', 'wasm', 'cpu'];
    const chosenAt = report.backend === 'tensorflow' ? (report.tensorflow?.includes('GPU') ? 0 : 2) : order.indexOf(report.backend);
    for (const label of order.slice(chosenAt + 1)) {
      if (!passedOver.some((p) => p.backend === label)) fasterStarted(label);
    }
    return device();
  }
}

/** What runs now and why. */
export function device(): DeviceReport {
  const report = lastReport ?? { backend: tf.getBackend(), reason: 'tfjs default (no backend chosen yet)', passedOver: [] };
  return { ...report, native: describeNative() };
}

export { setupWebGPU, releaseWebGPU, probeWebGPU, webgpuAdapter, adapterSummary } from './webgpu';
export type { WebGPUAdapterReport, WebGPUOptions, WebGPUProbe } from './webgpu';
