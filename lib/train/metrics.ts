/**
 * Metrics accumulated over an epoch, batch by batch.
 *
 * - regression: mse, mae (means over every element);
 * - binary: accuracy, precision, recall, f1, tpr, fpr from the confusion counts
 *   (predictions are logits by default: positive when sigmoid(logit) >= 0.5, i.e.
 *   logit >= 0, as the RACCOON seed does; ratios use eps 1e-9 like the seed);
 * - multiclass: accuracy of the arg-max.
 */
import { tf } from '../engine/tf';

export type MetricTask = 'regression' | 'binary' | 'multiclass';

export const METRICS: Record<MetricTask, string[]> = {
  regression: ['mse', 'mae'],
  binary: ['accuracy', 'precision', 'recall', 'f1', 'tpr', 'fpr'],
  multiclass: ['accuracy'],
};

const EPS = 1e-9;

export class MetricAccumulator {
  private sq = 0;
  private abs = 0;
  private n = 0;
  private tp = 0;
  private tn = 0;
  private fp = 0;
  private fn = 0;
  private correct = 0;

  constructor(
    readonly task: MetricTask,
    readonly options: { fromLogits?: boolean } = {},
  ) {
    if (!(task in METRICS)) throw new Error(`MetricAccumulator: unknown task '${task}'; use one of: ${Object.keys(METRICS).join(', ')}`);
  }

  reset(): void {
    this.sq = this.abs = this.n = this.tp = this.tn = this.fp = this.fn = this.correct = 0;
  }

  /** Add one batch of predictions and targets (not disposed here). */
  update(pred: tf.Tensor, target: tf.Tensor): void {
    const p = pred.dataSync();
    const t = target.dataSync();
    if (this.task === 'multiclass') {
      const classes = pred.shape[pred.rank - 1];
      const rows = p.length / classes;
      for (let r = 0; r < rows; r++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (p[r * classes + c] > p[r * classes + best]) best = c;
        const truth = t.length === rows ? t[r] : argmaxRow(t, r, classes);
        if (best === truth) this.correct++;
      }
      this.n += rows;
      return;
    }
    if (p.length !== t.length) {
      throw new Error(`metrics (${this.task}): predictions have ${p.length} values [${pred.shape}], targets ${t.length} [${target.shape}]`);
    }
    if (this.task === 'regression') {
      for (let i = 0; i < p.length; i++) {
        const d = p[i] - t[i];
        this.sq += d * d;
        this.abs += Math.abs(d);
      }
      this.n += p.length;
      return;
    }
    const threshold = this.options.fromLogits === false ? 0.5 : 0;
    for (let i = 0; i < p.length; i++) {
      const positive = p[i] >= threshold;
      const truth = t[i] >= 0.5;
      if (positive && truth) this.tp++;
      else if (positive) this.fp++;
      else if (truth) this.fn++;
      else this.tn++;
    }
    this.n += p.length;
  }

  /** The metrics of everything added since reset(). */
  result(): Record<string, number> {
    if (this.n === 0) return {};
    switch (this.task) {
      case 'regression':
        return { mse: this.sq / this.n, mae: this.abs / this.n };
      case 'multiclass':
        return { accuracy: this.correct / this.n };
      case 'binary': {
        const { tp, tn, fp, fn } = this;
        const precision = tp / (tp + fp + EPS);
        const recall = tp / (tp + fn + EPS);
        return {
          accuracy: (tp + tn) / (tp + tn + fp + fn),
          precision,
          recall,
          f1: (2 * precision * recall) / (precision + recall + EPS),
          tpr: recall,
          fpr: fp / (fp + tn + EPS),
        };
      }
    }
  }
}

function argmaxRow(t: ArrayLike<number>, r: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (t[r * classes + c] > t[r * classes + best]) best = c;
  return best;
}
