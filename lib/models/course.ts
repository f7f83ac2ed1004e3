/**
 * The small networks of the course walkthroughs (lessons/06), as ready-made modules.
 *
 * - TwoLayerNet(D_in, H, D_out): PyTorch's "learning PyTorch with examples" net,
 *   linear1 -> clamp(min=0) -> linear2; with 1000, 100, 10 it has 101,110 parameters.
 * - SimpleNN(nIn = 5, hidden = 8, nOut = 1): fc1 -> ReLU -> fc2, 57 parameters at 5-8-1.
 *
 * The lesson writes them by hand first; these are the same, for reuse.
 */
import { tf } from '../engine/tf';
import { Module } from '../nn/module';
import { Linear } from '../nn/linear';
import * as F from '../nn/functional';

export class TwoLayerNet extends Module {
  readonly linear1: Linear;
  readonly linear2: Linear;

  constructor(dIn: number, h: number, dOut: number) {
    super();
    this.linear1 = new Linear(dIn, h);
    this.linear2 = new Linear(h, dOut);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.linear2.forward(F.relu(this.linear1.forward(x)))); // clamp(min=0) is relu
  }
}

export class SimpleNN extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(nIn = 5, hidden = 8, nOut = 1) {
    super();
    this.fc1 = new Linear(nIn, hidden);
    this.fc2 = new Linear(hidden, nOut);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc2.forward(F.relu(this.fc1.forward(x))));
  }
}
