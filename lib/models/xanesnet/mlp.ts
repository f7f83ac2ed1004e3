/**
 * XANESNET's `mlp` (v2023-08, shared/specs/models-from-seeds.md):
 *
 *     for i = 0 .. N-2:  Linear(i == 0 ? nIn : sz(i-1), sz(i)) -> Dropout(p) -> act
 *     then               Linear(sz(N-2), nOut)
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
    layers.push(new Linear(N >= 2 ? hiddenWidth(H, s, N - 2) : nIn, nOut));
    this.dense_layers = new Sequential(...layers);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.dense_layers.forward(x);
  }
}
