/**
 * What RACCOON and PENGUIN share (P2, `architectures.py`; shared/specs/models-from-seeds.md):
 *
 * - conv layers without bias, each followed by BatchNorm2d and the activation;
 * - Linear layers with bias, PyTorch's default initialisation, dropout 0.5 by default;
 * - ONE activation instance shared by every layer: ReLU by default, LeakyReLU(0.2)
 *   in the seed's runs (`run_controller` passes it; hyperlab's run files default to it);
 * - the output activation is Identity: the model returns a logit (BCEWithLogits trains it).
 *
 * The seed's input is a (1, 256, 256) slice of a cube; smaller square inputs work
 * as long as every strided convolution still has at least one output row. The
 * size after the convolutions decides the first Linear layer's width, so it is
 * computed here rather than fixed at 4 x 4.
 */
import { Module } from '../nn/module';
import { LeakyReLU, ReLU } from '../nn/activations';

export type CubeActivation = 'relu' | 'leakyrelu';

export interface CubeNetOptions {
  /** L, the seed's `layer_param` (default 64): channel widths are multiples of it. */
  layerParam?: number;
  /** Side of the square input image (default 256, the seed's cubes). */
  inputSize?: number;
  /** Dropout probability after the hidden Linear layers (default 0.5). */
  dropout?: number;
  /** 'relu' (the class default) or 'leakyrelu' (the seed's runs), or a module to share. */
  activation?: CubeActivation | Module;
  /** Slope of 'leakyrelu' for negative inputs (default 0.2, as run_controller). */
  negativeSlope?: number;
}

/** The one activation module every layer of the model shares. */
export function sharedActivation(a: CubeActivation | Module = 'relu', negativeSlope = 0.2): Module {
  if (a instanceof Module) return a;
  const name = String(a).toLowerCase().replace(/[_-]/g, '');
  if (name === 'relu') return new ReLU();
  if (name === 'leakyrelu') return new LeakyReLU(negativeSlope);
  throw new Error(`RACCOON/PENGUIN: activation must be 'relu' or 'leakyrelu' (the seed's choices), got '${a}'`);
}

/** Check L, the input size and the dropout, with the model's name in the message. */
export function checkOptions(model: string, L: number, inputSize: number, dropout: number): void {
  if (!(Number.isInteger(L) && L > 0)) throw new Error(`${model}: layer_param must be a positive integer, got ${L}`);
  if (!(Number.isInteger(inputSize) && inputSize > 0)) throw new Error(`${model}: input_size must be a positive integer, got ${inputSize}`);
  if (!(dropout >= 0 && dropout <= 1)) throw new Error(`${model}: dropout must be in [0, 1], got ${dropout}`);
}

/**
 * Spatial sizes after each of `n` convolutions (kernel k, stride s, padding p):
 * size' = floor((size + 2p - k) / s) + 1, as PyTorch. Throws, naming the layer and
 * the smallest input that works, when a layer would have no output rows.
 */
export function convSizes(model: string, inputSize: number, n: number, k: number, s: number, p: number): number[] {
  const sizes: number[] = [];
  let size = inputSize;
  for (let i = 0; i < n; i++) {
    const next = Math.floor((size + 2 * p - k) / s) + 1;
    if (next < 1) {
      throw new Error(
        `${model}: input size ${inputSize} is too small: convolution ${i + 1} of ${n} (kernel ${k}, stride ${s}, padding ${p}) ` +
          `gets ${size} x ${size} and would give no output. Use input_size >= ${minInputSize(n, k, s, p)} (the seed uses 256).`,
      );
    }
    sizes.push(next);
    size = next;
  }
  return sizes;
}

/** The smallest square input for which all `n` convolutions have output. */
export function minInputSize(n: number, k: number, s: number, p: number): number {
  let size = 1;
  for (let i = 0; i < n; i++) size = (size - 1) * s + k - 2 * p; // the smallest input giving `size` rows
  return size;
}
