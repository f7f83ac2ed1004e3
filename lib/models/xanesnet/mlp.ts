/**
 * XANESNET's `mlp` (v2023-08, shared/specs/models-from-seeds.md):
 *
 *     for i = 0 .. N-2:  Sequential(Linear(i == 0 ? nIn : sz(i-1), sz(i)), Dropout(p), act)
 *     then               Sequential(Linear(sz(N-2), nOut))
 *
 * The output Linear sits in a Sequential of its own, as in the original, so the
 * state-dict keys are XANESNET's: dense_layers.0.0.weight, ..., dense_layers.<N-1>.0.bias.
 * (hyperlab before 2026-12 named the output `dense_layers.<N-1>.weight`; loadStateDict
 * still reads those keys, see LEGACY_KEYS below.)
 *
 * n_hl 1: the seed documents "n_hl dense layers, the last one a Linear", so one
 * dense layer is Linear(nIn, nOut). The original code instead sizes that layer's
 * input from sz(-1) = int(H / s) and fails on its first forward pass; hyperlab
 * builds the documented layer and warns (README, "Faithful to the seeds").
 *
 * with sz(i) = int(H * s^i), H = hidden_size (2023: hl_ini_dim), s = shrink_rate
 * (hl_shrink), N = num_hidden_layers (n_hl): N Linear layers in all. Each
 * activation is a fresh module (PReLU has its own slope). Example, 49 wACSF
 * features and a 226-point spectrum, N 5, H 512, s 0.5: 49-512-256-128-64-226.
 */
import { tf } from '../../engine/tf';
import { Module } from '../../nn/module';
import { Sequential } from '../../nn/containers';
import { Linear } from '../../nn/linear';
import { Dropout } from '../../nn/dropout';
import { getActivation } from '../../nn/activations';
import type { StateDict } from '../../nn/module';
import { renameLegacyKeys } from './legacy_keys';

export interface XanesMLPOptions {
  nIn: number;
  nOut: number;
  hiddenSize?: number;
  numHiddenLayers?: number;
  shrinkRate?: number;
  dropout?: number;
  activation?: string;
}

/** Width of hidden layer i: int(H * s^i), as Python's int() truncates. */
export function hiddenWidth(H: number, s: number, i: number): number {
  return Math.trunc(H * s ** i);
}

/** What n_hl 1 builds here and what the original would do (XanesMLP warns with this). */
export function nHl1Warning(nIn: number, nOut: number, H: number, s: number): string {
  return (
    `mlp: n_hl (num_hidden_layers) 1 builds the one dense layer the seed documents, Linear(${nIn}, ${nOut}): ` +
    'hl_ini_dim, hl_shrink, dropout and activation have no effect. XANESNET itself would build ' +
    `Linear(int(${H} / ${s}) = ${hiddenWidth(H, s, -1)}, ${nOut}) and fail on its first forward pass ` +
    '(mat1 and mat2 shapes cannot be multiplied). For one hidden layer of hl_ini_dim units, set n_hl: 2.'
  );
}

/** hyperlab's keys before 2026-12 -> XANESNET's: the output Linear was not wrapped in a Sequential. */
function legacyMLPKeys(last: number): Record<string, string> {
  return { [`dense_layers.${last}.weight`]: `dense_layers.${last}.0.weight`, [`dense_layers.${last}.bias`]: `dense_layers.${last}.0.bias` };
}

export class XanesMLP extends Module {
  readonly dense_layers: Sequential;

  constructor(o: XanesMLPOptions) {
    super();
    const { nIn, nOut, hiddenSize: H = 512, numHiddenLayers: N = 5, shrinkRate: s = 0.5, dropout = 0.2, activation = 'prelu' } = o;
    if (!(N >= 1)) throw new Error(`mlp: num_hidden_layers (n_hl) must be >= 1, got ${N}`);
    if (hiddenWidth(H, s, N - 1) < 1) {
      throw new Error(
        `mlp: the last hidden layer would have int(${H} * ${s}^${N - 1}) = ${hiddenWidth(H, s, N - 1)} units; ` +
          'raise hidden_size (hl_ini_dim) or shrink_rate (hl_shrink), or lower num_hidden_layers (n_hl)',
      );
    }
    const layers: Module[] = [];
    for (let i = 0; i <= N - 2; i++) {
      const fanIn = i === 0 ? nIn : hiddenWidth(H, s, i - 1);
      layers.push(new Sequential(new Linear(fanIn, hiddenWidth(H, s, i)), new Dropout(dropout), getActivation(activation)));
    }
    if (N === 1) console.warn(nHl1Warning(nIn, nOut, H, s));
    layers.push(new Sequential(new Linear(N >= 2 ? hiddenWidth(H, s, N - 2) : nIn, nOut)));
    this.dense_layers = new Sequential(...layers);
  }

  /** PyTorch's load_state_dict, also reading state dicts saved by hyperlab before the keys matched XANESNET's. */
  loadStateDict(state: StateDict, strict = true): { missingKeys: string[]; unexpectedKeys: string[] } {
    return super.loadStateDict(renameLegacyKeys(state, legacyMLPKeys(this.dense_layers.length - 1), 'mlp'), strict);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.dense_layers.forward(x);
  }
}
