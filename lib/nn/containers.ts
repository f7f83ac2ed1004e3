/** Sequential, Identity and Flatten. */
import { tf } from '../engine/tf';
import { Module } from './module';

/** Runs its layers in order; they are named 0, 1, 2, ... as in PyTorch. */
export class Sequential extends Module {
  [index: number]: Module;
  private count = 0;

  constructor(...layers: Module[]) {
    super();
    for (const l of layers) this.append(l);
  }

  append(layer: Module): this {
    if (!(layer instanceof Module)) {
      throw new Error(`Sequential: item ${this.count} is not a Module (got ${typeof layer}); pass layers such as new Linear(4, 2)`);
    }
    this[this.count++] = layer;
    return this;
  }

  get length(): number {
    return this.count;
  }

  /** The layers in order. */
  layers(): Module[] {
    return Array.from({ length: this.count }, (_, i) => this[i]);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let y = x;
      for (const layer of this.layers()) y = layer.forward(y);
      return y;
    });
  }
}

export class Identity extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return x.clone();
  }
}

/** Flattens dimensions startDim..endDim into one (PyTorch defaults: 1 and -1). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: tf.Tensor): tf.Tensor {
    const s = this.startDim < 0 ? x.rank + this.startDim : this.startDim;
    const e = this.endDim < 0 ? x.rank + this.endDim : this.endDim;
    const merged = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
    return x.reshape([...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
  }
}
