/**
 * Test helpers: fixtures written by PyTorch (test/parity/*.py), closeness checks
 * with stated tolerances, and running a test on every CPU backend.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { tf, useBackend, BackendName, Module, Parameter } from '../lib';

export interface FixtureTensor {
  shape: number[];
  data: number[];
}

const fixtureDir = path.join(__dirname, '..', '..', 'test', 'fixtures');

/** The parsed JSON written by test/parity/gen_<area>.py. */
export function loadFixture(area: string): any {
  const file = path.join(fixtureDir, `${area}.json`);
  if (!fs.existsSync(file)) {
    throw new Error(`fixture ${file} is missing: run \`npm run fixtures ${area}\` (needs Debian python3-torch)`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

export function fromFixture(t: FixtureTensor): tf.Tensor {
  return tf.tensor(t.data, t.shape, 'float32');
}

/** A state dict of tf tensors from a fixture's {key: FixtureTensor}; dispose with disposeAll. */
export function stateDictFromFixture(sd: Record<string, FixtureTensor>): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, fromFixture(v)]));
}

export function disposeAll(x: Record<string, tf.Tensor> | tf.Tensor[]): void {
  for (const t of Object.values(x)) t.dispose();
}

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/** float32 against PyTorch float32: about 1e-5 relative, with a small absolute floor near zero. */
export const F32: Tolerance = { rtol: 1e-5, atol: 1e-6 };

/**
 * Assert |actual - expected| <= atol + rtol * |expected| elementwise, with a message
 * naming `where`, the worst index and both values.
 */
export function assertClose(actual: tf.Tensor | number[] | number, expected: FixtureTensor | number[] | number, tol: Tolerance = F32, where = 'value'): void {
  const { rtol = 1e-5, atol = 1e-6 } = tol;
  const a: number[] = actual instanceof tf.Tensor ? Array.from(actual.dataSync()) : typeof actual === 'number' ? [actual] : actual;
  let e: number[];
  if (typeof expected === 'number') e = [expected];
  else if (Array.isArray(expected)) e = expected;
  else {
    e = expected.data;
    if (actual instanceof tf.Tensor && actual.shape.join(',') !== expected.shape.join(',')) {
      throw new Error(`${where}: shape [${actual.shape}] differs from PyTorch's [${expected.shape}]`);
    }
  }
  if (a.length !== e.length) throw new Error(`${where}: ${a.length} values, PyTorch has ${e.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - e[i]);
    const excess = diff - (atol + rtol * Math.abs(e[i]));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${where}: element ${worst} is ${a[worst]}, PyTorch gives ${e[worst]} ` +
        `(|diff| ${Math.abs(a[worst] - e[worst]).toExponential(3)} > atol ${atol} + rtol ${rtol} * |expected|)`,
    );
  }
}

/**
 * The backends every parity test runs on: the CPU ones, plus webgpu when
 * HYPERLAB_TEST_WEBGPU=1 (on a machine without a GPU that is the software
 * adapter, ~50x slower than wasm: not by default; test/webgpu.test.ts covers it).
 */
export const BACKENDS: BackendName[] = ['cpu', 'wasm', ...(process.env.HYPERLAB_TEST_WEBGPU === '1' ? (['webgpu'] as const) : [])];

/** Define `name [backend]` for each backend; the body runs with that backend active. */
export function testOnBackends(name: string, body: (backend: BackendName) => void | Promise<void>): void {
  for (const backend of BACKENDS) {
    test(`${name} [${backend}]`, async () => {
      await useBackend(backend);
      await body(backend);
    });
  }
}

/** Load a fixture state dict into `model` (copies) and free the temporaries. */
export function loadTorchState(model: Module, sd: Record<string, FixtureTensor>): void {
  const tensors = stateDictFromFixture(sd);
  model.loadStateDict(tensors);
  disposeAll(tensors);
}

/** Gradients of every named parameter, as a map name -> tensor (for comparing with PyTorch's p.grad). */
export function namedGrads(model: Module): Record<string, tf.Tensor | null> {
  return Object.fromEntries([...model.namedParameters()].map(([n, p]: [string, Parameter]) => [n, p.grad]));
}
