/**
 * XANESNET's `aegan_mlp` (v2023-08; names of v2024-03, shared/specs/models-from-seeds.md).
 * Two domains: a = the model input x (the structure descriptor in train_xyz / train_aegan),
 * b = the target y (the spectrum). Every width is h = hidden_size; `dropout` is unused.
 * [L, BN, act] is Linear -> BatchNorm1d -> act, each act a fresh module.
 *
 *     AEGen(in):    encoder  [Lin(in,h),BN,act] + (n_gen-1) x [Lin(h,h),BN,act] + [Lin(h,h),BN]
 *                   decoder  n_gen x [Lin(h,h),BN,act] + [Lin(h,in),act]
 *     Shared:       n_shared x [Lin(h,h),BN,act] + [Lin(h,h),BN]          (enc_shared, dec_shared)
 *     Dis(in):      [Lin(in,h),BN,act] + (n_dis-1) x [Lin(h,h),BN,act] + [Lin(h,1),Sigmoid]
 *
 * The path from domain X to domain Y: x -> gen_X.encode -> enc_shared -> dec_shared -> gen_Y.decode.
 * So with s(v) = dec_shared(enc_shared(v)):
 *
 *     recon_a = gen_a.decode(s(gen_a.encode(a)))     pred_b = gen_b.decode(s(gen_a.encode(a)))
 *     recon_b = gen_b.decode(s(gen_b.encode(b)))     pred_a = gen_a.decode(s(gen_b.encode(b)))
 *
 * The training step (two optimizers, gen and dis updates) is in ./aegan_task.ts.
 *
 * Parameter names (XANESNET 2024): gen_a / gen_b .encoder_layers.{0 input, 1 mid.{i}, 2 output},
 * .decoder_layers.{0 mid.{i}, 1 output}; enc_shared / dec_shared .dense_layers.{i};
 * dis_a / dis_b .dense_layers.{0 input, 1 mid.{i}, 2 output}. The discriminators are
 * exactly the parameters whose name contains "dis".
 */
import { tf } from '../../engine/tf';
import { Module } from '../../nn/module';
import { Sequential } from '../../nn/containers';
import { Linear } from '../../nn/linear';
import { BatchNorm1d } from '../../nn/batchnorm';
import { Sigmoid, getActivation } from '../../nn/activations';

/** [Linear(in, out), BatchNorm1d(out), act], or without the activation. */
function block(inF: number, outF: number, activation: string | null): Sequential {
  const layers: Module[] = [new Linear(inF, outF), new BatchNorm1d(outF)];
  if (activation) layers.push(getActivation(activation));
  return new Sequential(...layers);
}

function repeat(n: number, make: () => Module): Module[] {
  return Array.from({ length: n }, make);
}

/** The generator of one domain: an encoder to the shared width h and a decoder back. */
export class AEGen extends Module {
  readonly encoder_layers: Sequential;
  readonly decoder_layers: Sequential;

  constructor(inputSize: number, numHiddenLayers: number, hiddenSize: number, activation: string) {
    super();
    const h = hiddenSize;
    this.encoder_layers = new Sequential(
      block(inputSize, h, activation),
      new Sequential(...repeat(numHiddenLayers - 1, () => block(h, h, activation))),
      block(h, h, null),
    );
    this.decoder_layers = new Sequential(
      new Sequential(...repeat(numHiddenLayers, () => block(h, h, activation))),
      new Sequential(new Linear(h, inputSize), getActivation(activation)),
    );
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.decode(this.encode(x));
  }

  encode(x: tf.Tensor): tf.Tensor {
    return this.encoder_layers.forward(x);
  }

  decode(z: tf.Tensor): tf.Tensor {
    return this.decoder_layers.forward(z);
  }
}

/** enc_shared and dec_shared: n x [Lin(h,h),BN,act] + [Lin(h,h),BN]. */
export class SharedLayer extends Module {
  readonly dense_layers: Sequential;

  constructor(numHiddenLayers: number, hiddenSize: number, activation: string) {
    super();
    this.dense_layers = new Sequential(...repeat(numHiddenLayers, () => block(hiddenSize, hiddenSize, activation)), block(hiddenSize, hiddenSize, null));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.dense_layers.forward(x);
  }
}

/** The discriminator of one domain: the probability (after a sigmoid) that its input is real. */
export class Dis extends Module {
  readonly dense_layers: Sequential;

  constructor(inputSize: number, numHiddenLayers: number, hiddenSize: number, activation: string) {
    super();
    const h = hiddenSize;
    this.dense_layers = new Sequential(
      block(inputSize, h, activation),
      new Sequential(...repeat(numHiddenLayers - 1, () => block(h, h, activation))),
      new Sequential(new Linear(h, 1), new Sigmoid()),
    );
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.dense_layers.forward(x);
  }
}

export interface XanesAEGANOptions {
  /** Size of domain a (the model input x). */
  nIn: number;
  /** Size of domain b (the target y). */
  nOut: number;
  hiddenSize?: number;
  numHiddenLayersGen?: number;
  numHiddenLayersShared?: number;
  numHiddenLayersDis?: number;
  activation?: string;
}

/** The four generator outputs of one pass over a batch (a, b). */
export interface AEGANOutputs {
  reconA: tf.Tensor;
  reconB: tf.Tensor;
  /** a predicted from b. */
  predA: tf.Tensor;
  /** b predicted from a. */
  predB: tf.Tensor;
}

export class XanesAEGAN extends Module {
  readonly gen_a: AEGen;
  readonly gen_b: AEGen;
  readonly enc_shared: SharedLayer;
  readonly dec_shared: SharedLayer;
  readonly dis_a: Dis;
  readonly dis_b: Dis;

  constructor(o: XanesAEGANOptions) {
    super();
    const {
      nIn,
      nOut,
      hiddenSize: h = 256,
      numHiddenLayersGen: nGen = 2,
      numHiddenLayersShared: nShared = 2,
      numHiddenLayersDis: nDis = 2,
      activation = 'prelu',
    } = o;
    const sizes = { nIn, nOut, hidden_size: h, num_hidden_layers_gen: nGen, num_hidden_layers_shared: nShared, num_hidden_layers_dis: nDis };
    for (const [name, v] of Object.entries(sizes)) {
      if (!(Number.isInteger(v) && v >= 1)) throw new Error(`aegan_mlp: ${name} must be a positive integer, got ${v}`);
    }
    this.gen_a = new AEGen(nIn, nGen, h, activation);
    this.gen_b = new AEGen(nOut, nGen, h, activation);
    this.enc_shared = new SharedLayer(nShared, h, activation);
    this.dec_shared = new SharedLayer(nShared, h, activation);
    this.dis_a = new Dis(nIn, nDis, h, activation);
    this.dis_b = new Dis(nOut, nDis, h, activation);
  }

  /** dec_shared(enc_shared(z)): the shared middle of every path. */
  shared(z: tf.Tensor): tf.Tensor {
    return this.dec_shared.forward(this.enc_shared.forward(z));
  }

  /** b from a (spectrum from structure in train_xyz). */
  predictB(a: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.gen_b.decode(this.shared(this.gen_a.encode(a))));
  }

  /** a from b (structure from spectrum). */
  predictA(b: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.gen_a.decode(this.shared(this.gen_b.encode(b))));
  }

  reconstructA(a: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.gen_a.decode(this.shared(this.gen_a.encode(a))));
  }

  reconstructB(b: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.gen_b.decode(this.shared(this.gen_b.encode(b))));
  }

  /** The prediction of y from x (the model's use in train_xyz): predictB. */
  predict(x: tf.Tensor): tf.Tensor {
    return this.predictB(x);
  }

  /**
   * All four outputs, in the order of XANESNET's reconstruct_all_predict_all (which
   * fixes the order of the batch-norm updates in training mode): encode a, encode b,
   * the shared layers for a then b, then decode predA, predB, reconA, reconB.
   */
  generateAll(a: tf.Tensor, b: tf.Tensor): AEGANOutputs {
    const out = tf.tidy(() => {
      const encA = this.gen_a.encode(a);
      const encB = this.gen_b.encode(b);
      const sharedEncA = this.enc_shared.forward(encA);
      const sharedEncB = this.enc_shared.forward(encB);
      const sharedA = this.dec_shared.forward(sharedEncA);
      const sharedB = this.dec_shared.forward(sharedEncB);
      const predA = this.gen_a.decode(sharedB);
      const predB = this.gen_b.decode(sharedA);
      const reconA = this.gen_a.decode(sharedA);
      const reconB = this.gen_b.decode(sharedB);
      return [reconA, reconB, predA, predB];
    });
    return { reconA: out[0], reconB: out[1], predA: out[2], predB: out[3] };
  }

  /**
   * forward(a, b) = [reconA, reconB, predA, predB] (XANESNET 2025's order); with a alone,
   * [reconA, predB], the [recon, pred] of the autoencoders.
   */
  forward(a: tf.Tensor, b?: tf.Tensor): tf.Tensor[] {
    if (!b) {
      return tf.tidy(() => {
        const s = this.shared(this.gen_a.encode(a));
        return [this.gen_a.decode(s), this.gen_b.decode(s)];
      });
    }
    const o = this.generateAll(a, b);
    return [o.reconA, o.reconB, o.predA, o.predB];
  }
}
