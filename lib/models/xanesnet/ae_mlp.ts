/**
 * XANESNET's `ae_mlp` (v2023-08; names of v2024-03, shared/specs/models-from-seeds.md),
 * with sz(i) = int(H * s^i), H = hidden_size (2023: hl_ini_dim), s = shrink_rate
 * (hl_shrink), N = num_hidden_layers (n_hl):
 *
 *     encoder:   for i = 0 .. N-1:  Linear(i == 0 ? nIn : sz(i-1), sz(i)) -> act
 *     decoder:   the mirror: for i = N-1 .. 0:  Linear(sz(i), i == 0 ? nIn : sz(i-1)) -> act
 *                (it ends in Linear(H, nIn) -> act: the reconstruction passes through the activation)
 *     predictor: Linear(sz(N-1), H) -> act -> Dropout(p) -> Linear(H, nOut)
 *
 *     forward(x) = [recon = decoder(encoder(x)), pred = predictor(encoder(x))]
 *
 * Example, 49 features, 226 energies, N 5, H 512, s 0.5: encoder 49-512-256-128-64-32,
 * decoder 32-64-128-256-512-49, prediction 32-512-226. Trained on loss(recon, x) +
 * loss(pred, y) with one optimizer (./ae_task.ts).
 *
 * Parameter names: encoder_layers.{i}.{0 linear, 1 act}, decoder_layers.{i}.{0, 1},
 * dense_layers.0.{0 linear, 1 act}, dense_layers.1.0.
 */
import { tf } from '../../engine/tf';
import { Module } from '../../nn/module';
import { Sequential } from '../../nn/containers';
import { Linear } from '../../nn/linear';
import { Dropout } from '../../nn/dropout';
import { getActivation } from '../../nn/activations';
import { hiddenWidth, XanesMLPOptions } from './mlp';

/** The same settings as the mlp (hidden_size, num_hidden_layers, shrink_rate, dropout, activation). */
export type XanesAEMLPOptions = XanesMLPOptions;

export class XanesAEMLP extends Module {
  readonly encoder_layers: Sequential;
  readonly decoder_layers: Sequential;
  readonly dense_layers: Sequential;

  constructor(o: XanesAEMLPOptions) {
    super();
    const { nIn, nOut, hiddenSize: H = 512, numHiddenLayers: N = 5, shrinkRate: s = 0.5, dropout = 0.2, activation = 'prelu' } = o;
    if (!(Number.isInteger(N) && N >= 1)) throw new Error(`ae_mlp: num_hidden_layers (n_hl) must be a positive integer, got ${N}`);
    const sz = (i: number) => hiddenWidth(H, s, i);
    if (sz(N - 1) < 1) {
      throw new Error(
        `ae_mlp: the last hidden layer would have int(${H} * ${s}^${N - 1}) = ${sz(N - 1)} units; ` +
          'raise hidden_size (hl_ini_dim) or shrink_rate (hl_shrink), or lower num_hidden_layers (n_hl)',
      );
    }
    const enc: Module[] = [];
    const dec: Module[] = [];
    for (let i = 0; i < N; i++) {
      const wider = i === 0 ? nIn : sz(i - 1);
      enc.push(new Sequential(new Linear(wider, sz(i)), getActivation(activation)));
      dec.unshift(new Sequential(new Linear(sz(i), wider), getActivation(activation)));
    }
    this.encoder_layers = new Sequential(...enc);
    this.decoder_layers = new Sequential(...dec);
    this.dense_layers = new Sequential(
      new Sequential(new Linear(sz(N - 1), H), getActivation(activation), new Dropout(dropout)),
      new Sequential(new Linear(H, nOut)),
    );
  }

  /** [reconstruction of x, prediction of y]. */
  forward(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
    return tf.tidy(() => {
      const z = this.encoder_layers.forward(x);
      return [this.decoder_layers.forward(z), this.dense_layers.forward(z)] as [tf.Tensor, tf.Tensor];
    });
  }

  /** The prediction of y alone. */
  predict(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.dense_layers.forward(this.encoder_layers.forward(x)));
  }

  /** The reconstruction of x alone. */
  reconstruct(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.decoder_layers.forward(this.encoder_layers.forward(x)));
  }
}
