/**
 * `BatchNorm1d` and `BatchNorm2d` with PyTorch's semantics and state dict.
 *
 * For each channel c (dimension 1), over the batch and every other dimension:
 *
 *     y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c
 *
 * Training (or no running statistics): mean and var are the batch's, var the
 * biased one (divided by n, the values per channel). The running statistics
 * are updated with the unbiased variance (divided by n - 1):
 *
 *     running = (1 - momentum) * running + momentum * batch_statistic
 *
 * (with momentum = null: a cumulative average, momentum = 1 / num_batches_tracked).
 * Evaluation: the running statistics stand in for the batch's.
 *
 * Written with elementwise ops and means rather than tf.batchNorm, whose
 * gradient uses Tile (very slow on wasm). On wasm with the native addon, the
 * training-mode normalization (forward and gradient) is one native kernel each
 * instead (lib/engine/native/batchnorm.ts). The running statistics are updated
 * outside the gradient tape.
 */
import { tf } from '../engine/tf';
import { noGrad } from '../engine/autograd';
import { batchNormRunningStatsNative, batchNormTrainNative, nativeOpsActive } from '../engine/native';
import { Module } from './module';
import { Parameter } from './parameter';

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch in the running statistics; null for a cumulative average. Default 0.1. */
  momentum?: number | null;
  /** Learn a per-channel scale (weight, ones) and shift (bias, zeros). Default true. */
  affine?: boolean;
  /** Keep running_mean / running_var for evaluation. Default true. */
  trackRunningStats?: boolean;
}

abstract class BatchNormNd extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  /** The input ranks this layer accepts, and their layout for messages. */
  protected abstract readonly ranks: number[];
  protected abstract readonly layout: string;

  constructor(
    readonly numFeatures: number,
    opts: BatchNormOptions = {},
  ) {
    super();
    if (!(Number.isInteger(numFeatures) && numFeatures > 0)) {
      throw new Error(`${new.target.name}(${numFeatures}): num_features must be a positive integer`);
    }
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    this.weight = this.affine ? Parameter.filled([numFeatures], 1) : null;
    this.bias = this.affine ? Parameter.filled([numFeatures], 0) : null;
    if (this.trackRunningStats) {
      this.registerBuffer('running_mean', tf.zeros([numFeatures]));
      this.registerBuffer('running_var', tf.ones([numFeatures]));
      this.registerBuffer('num_batches_tracked', tf.scalar(0, 'int32'));
    }
  }

  private get where(): string {
    return `${this.constructor.name}(${this.numFeatures})`;
  }

  private checkInput(x: tf.Tensor): void {
    if (!this.ranks.includes(x.rank)) {
      throw new Error(
        `${this.where}: expected ${this.ranks.map((r) => `${r}D`).join(' or ')} input ${this.layout}, got ${x.rank}D input of shape [${x.shape}]`,
      );
    }
    if (x.shape[1] !== this.numFeatures) {
      throw new Error(
        `${this.where}: input of shape [${x.shape}] has ${x.shape[1]} channels in dimension 1, expected ${this.numFeatures}. ` +
          'Check num_features, or the output size of the layer before.',
      );
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.checkInput(x);
    const useBatchStats = this.training || !this.trackRunningStats;
    const n = x.size / this.numFeatures; // values per channel
    if (useBatchStats && n === 1) {
      // PyTorch's check: one value per channel has no variance.
      throw new Error(
        `${this.where}: Expected more than 1 value per channel when training, got input size [${x.shape}]. Use a batch of at least 2, or call eval().`,
      );
    }
    const axes = [...Array(x.rank).keys()].filter((d) => d !== 1);
    const perChannel = [1, this.numFeatures, ...new Array(x.rank - 2).fill(1)]; // broadcasts over dimension 1
    if (useBatchStats && nativeOpsActive()) {
      return tf.tidy(() => {
        const weight = this.weight ?? tf.ones([this.numFeatures]);
        const bias = this.bias ?? tf.zeros([this.numFeatures]);
        const { y, mean, variance } = batchNormTrainNative(x, weight, bias, this.eps);
        if (this.training && this.trackRunningStats) this.updateRunningStats(mean, variance, n);
        return y;
      });
    }
    return tf.tidy(() => {
      let centred: tf.Tensor;
      let variance: tf.Tensor;
      if (useBatchStats) {
        const mean = tf.mean(x, axes, true);
        centred = tf.sub(x, mean);
        variance = tf.mean(tf.square(centred), axes, true); // biased: divided by n
        if (this.training && this.trackRunningStats) this.updateRunningStats(mean, variance, n);
      } else {
        centred = tf.sub(x, this.getBuffer('running_mean').reshape(perChannel));
        variance = this.getBuffer('running_var').reshape(perChannel);
      }
      // scale = weight / sqrt(var + eps), one number per channel, then one multiply over x
      let scale = tf.rsqrt(tf.add(variance, this.eps));
      if (this.weight) scale = tf.mul(scale, this.weight.reshape(perChannel));
      const y = tf.mul(centred, scale);
      return this.bias ? tf.add(y, this.bias.reshape(perChannel)) : y;
    });
  }

  /** running = (1 - m) * running + m * batch, with the unbiased variance; outside the tape. */
  private updateRunningStats(mean: tf.Tensor, biasedVar: tf.Tensor, n: number): void {
    noGrad(() => {
      const count = tf.tidy(() => tf.add(this.getBuffer('num_batches_tracked'), tf.scalar(1, 'int32')));
      this.registerBuffer('num_batches_tracked', count);
      const [runningMean, runningVar] = tf.tidy(() => {
        if (this.momentum !== null && nativeOpsActive() && mean.dtype === 'float32') {
          // one native kernel for both (lib/engine/native/batchnorm.ts), the same formula
          return batchNormRunningStatsNative(
            this.getBuffer('running_mean'),
            this.getBuffer('running_var'),
            mean.reshape([this.numFeatures]),
            biasedVar.reshape([this.numFeatures]),
            this.momentum,
            n / (n - 1),
          );
        }
        const m: tf.Tensor | number = this.momentum ?? tf.reciprocal(tf.cast(count, 'float32'));
        const blend = (running: tf.Tensor, batch: tf.Tensor) => tf.add(tf.mul(tf.sub(1, m), running), tf.mul(m, batch.reshape([this.numFeatures])));
        return [blend(this.getBuffer('running_mean'), mean), blend(this.getBuffer('running_var'), tf.mul(biasedVar, n / (n - 1)))];
      });
      this.registerBuffer('running_mean', runningMean);
      this.registerBuffer('running_var', runningVar);
    });
  }

  extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, track_running_stats=${this.trackRunningStats}`;
  }
}

/** `BatchNorm1d(numFeatures)`: inputs (N, C) or (N, C, L), statistics per channel C. */
export class BatchNorm1d extends BatchNormNd {
  protected readonly ranks = [2, 3];
  protected readonly layout = '(N, C) or (N, C, L)';
}

/** `BatchNorm2d(numFeatures)`: inputs (N, C, H, W), statistics per channel C. */
export class BatchNorm2d extends BatchNormNd {
  protected readonly ranks = [4];
  protected readonly layout = '(N, C, H, W)';
}
