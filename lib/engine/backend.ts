/**
 * Choosing where tensors live. `useBackend('wasm')` picks one by name;
 * `device()` reports the backend in use, why, why the others were passed over,
 * and whether the wasm backend's matrix products run on the native OpenBLAS
 * kernels (./native/matmul.ts) or on tfjs' own.
 */
import { tf } from './tf';
import { describeNative, installNativeMatMul, nativeKernelsActive, setNativeKernels, setNativeThreads } from './native/matmul';

export { setNativeKernels, nativeKernelsActive, setNativeThreads };

// Done once, when hyperlab is imported: with the addon built (npm run build:native)
// the wasm backend's matrix products run on OpenBLAS; without it, on tfjs' kernels (bias bug repaired).
installNativeMatMul();

export type BackendName = 'cpu' | 'wasm';

/** Backends in order of preference (fastest first) among those hyperlab can load here. */
export const backendPreference: BackendName[] = ['wasm', 'cpu'];

export interface DeviceReport {
  backend: string;
  reason: string;
  passedOver: { backend: string; why: string }[];
  /**
   * The wasm backend's native matrix products: 'openblas sgemm (OpenBLAS 0.3.21, Haswell, 1 thread)',
   * 'off: ...' or 'unavailable: <reason>' (only the wasm backend uses them).
   */
  native: string;
}

let lastReport: DeviceReport | null = null;


/** Switch to backend `name` (awaits its initialisation). Throws with the reason if it cannot start. */
export async function useBackend(name: BackendName, reason = 'asked for by name'): Promise<DeviceReport> {
  if (!backendPreference.includes(name)) {
    throw new Error(`useBackend: unknown backend '${name}'; use one of: ${backendPreference.join(', ')}`);
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`useBackend: the '${name}' backend failed to initialise; try 'cpu', which always works`);
  await tf.ready();
  lastReport = {
    backend: name,
    reason,
    passedOver: backendPreference.filter((b) => b !== name).map((b) => ({ backend: b, why: `not chosen: '${name}' was ${reason}` })),
    native: '',
  };
  return device();
}

/** Pick the fastest backend that starts, unless HYPERLAB_BACKEND names one. */
export async function autoBackend(): Promise<DeviceReport> {
  const asked = process.env.HYPERLAB_BACKEND as BackendName | undefined;
  if (asked) return useBackend(asked, 'asked for by HYPERLAB_BACKEND');
  const passedOver: { backend: string; why: string }[] = [];
  for (const name of backendPreference) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
              lastReport = { backend: name, reason: 'the fastest backend that started', passedOver, native: '' };
        return device();
      }
      passedOver.push({ backend: name, why: 'failed to initialise' });
    } catch (e) {
      passedOver.push({ backend: name, why: (e as Error).message });
    }
  }
  throw new Error(`no backend could start: ${passedOver.map((p) => `${p.backend}: ${p.why}`).join('; ')}`);
}

/** What runs now and why. */
export function device(): DeviceReport {
  const report = lastReport ?? { backend: tf.getBackend(), reason: 'tfjs default (no backend chosen yet)', passedOver: [] };
  return { ...report, native: describeNative() };
}
