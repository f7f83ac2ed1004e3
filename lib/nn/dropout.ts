/** `Dropout(p)`: in training, zero each element with probability p and scale the rest by 1/(1-p). */
import { tf } from '../engine/tf';
import { defaultGenerator } from '../engine/random';
import { Module } from './module';

export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be in [0, 1], got ${p}`);
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.p === 0) return x.clone();
    if (this.p === 1) return tf.zerosLike(x);
    // The mask comes from the seeded global generator, so runs are reproducible.
    const u = defaultGenerator.uniformArray(x.size);
    const keep = 1 - this.p;
    const mask = new Float32Array(x.size);
    for (let i = 0; i < u.length; i++) mask[i] = u[i] < keep ? 1 / keep : 0;
    return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, 'float32')));
  }

  extraRepr(): string {
    return `p=${this.p}`;
  }
}
