/**
 * Early stopping with Keras 3's exact semantics (keras/src/callbacks/early_stopping.py):
 *
 * - an epoch improves iff `current - minDelta' < best` (min mode, minDelta' = -|minDelta|,
 *   i.e. current < best - |minDelta|) or `current + |minDelta| > best` (max mode);
 * - every monitored epoch does wait += 1; an improvement sets best and, if it also
 *   beats `baseline` (when given), resets wait = 0 (an improving epoch never stops);
 * - training stops when a non-improving epoch finds wait >= patience and epoch > 0;
 * - with restoreBestWeights, the best weights are put back when training ends, even
 *   if no early stop fired (the first monitored epoch's weights count as best at first).
 * - mode 'auto' is 'max' for accuracy-like names (acc, accuracy, auc, f1, precision,
 *   recall, tpr), 'min' for names with 'loss' (and mse, mae, fpr); otherwise an error
 *   (the monitor, its direction and the improvement rule are monitor.ts's, shared with
 *   ModelCheckpoint and the report).
 */
import { tf } from '../engine/tf';
import { Logs } from '../train/callback';
import { MonitorCallback, MonitorMode } from './monitor';

export { inferMode } from './monitor';

export interface EarlyStoppingOptions {
  monitor?: string;
  minDelta?: number;
  patience?: number;
  mode?: MonitorMode;
  baseline?: number | null;
  restoreBestWeights?: boolean;
  startFromEpoch?: number;
  verbose?: boolean;
}

export class EarlyStopping extends MonitorCallback {
  readonly patience: number;
  readonly baseline: number | null;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  readonly verbose: boolean;
  wait = 0;
  bestEpoch = 0;
  stoppedEpoch = 0;
  private bestWeights: Record<string, tf.Tensor> | null = null;
  private warned = false;

  constructor(o: EarlyStoppingOptions = {}) {
    super(o.monitor ?? 'val_loss', o.mode ?? 'auto', o.minDelta ?? 0);
    this.patience = o.patience ?? 0;
    this.baseline = o.baseline ?? null;
    this.restoreBestWeights = o.restoreBestWeights ?? false;
    this.startFromEpoch = o.startFromEpoch ?? 0;
    this.verbose = o.verbose ?? false;
  }

  onTrainBegin(): void {
    // Keras resets on every fit; a resumed run restores the state afterwards (setState).
    if (this.trainer.epoch === 0) {
      this.wait = 0;
      this.stoppedEpoch = 0;
      this.monitorOf.reset();
      this.bestEpoch = 0;
      this.clearWeights();
    }
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const current = logs[this.monitor];
    if (current === undefined || Number.isNaN(current)) {
      // Validation every n epochs leaves val_ values out of the other epochs: not a problem.
      const between = this.monitor.startsWith('val_') && this.trainer.hasValidation;
      if (!this.warned && current === undefined && !between) {
        console.warn(`EarlyStopping: '${this.monitor}' is not among the logged values (${Object.keys(logs).join(', ')}); early stopping is idle`);
        this.warned = true;
      }
      return;
    }
    if (epoch < this.startFromEpoch) return;
    if (this.restoreBestWeights && this.bestWeights === null) this.saveWeights();
    this.wait += 1;
    if (this.isImprovement(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.saveWeights();
      // Only restart wait if we beat both the baseline and our previous best (Keras 3);
      // an improving epoch never stops training.
      if (this.baseline === null || this.isImprovement(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.trainer.stop(
        'early_stopping',
        `early stopping: ${this.monitor} did not improve for ${this.wait} epochs (best ${this.best} at epoch ${this.bestEpoch + 1}, counting from 1)`,
      );
    }
  }

  onTrainEnd(): void {
    if (this.stoppedEpoch > 0 && this.verbose) console.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.restoreBestWeights && this.bestWeights !== null) {
      if (this.verbose) console.log(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
      this.trainer.model.loadStateDict(this.bestWeights);
    }
    this.clearWeights(); // the copy is not needed once training ends
  }

  /** Free the copy of the best weights (training does this when it ends). */
  dispose(): void {
    this.clearWeights();
  }

  private saveWeights(): void {
    this.clearWeights();
    this.bestWeights = Object.fromEntries(Object.entries(this.trainer.model.stateDict()).map(([k, v]) => [k, tf.keep(v.clone())]));
  }

  private clearWeights(): void {
    if (this.bestWeights) tf.dispose(Object.values(this.bestWeights));
    this.bestWeights = null;
  }

  getState(): unknown {
    const weights = this.bestWeights
      ? Object.fromEntries(
          Object.entries(this.bestWeights).map(([k, t]) => [
            k,
            { shape: t.shape, dtype: t.dtype, data: Buffer.from(new Float32Array(t.dataSync()).buffer).toString('base64') },
          ]),
        )
      : null;
    return { wait: this.wait, best: String(this.best), bestEpoch: this.bestEpoch, stoppedEpoch: this.stoppedEpoch, weights };
  }

  setState(s: any): void {
    this.wait = s.wait;
    this.best = Number(s.best);
    this.bestEpoch = s.bestEpoch;
    this.stoppedEpoch = s.stoppedEpoch;
    this.clearWeights();
    if (s.weights) {
      this.bestWeights = Object.fromEntries(
        Object.entries<any>(s.weights).map(([k, w]) => {
          const buf = Buffer.from(w.data, 'base64');
          const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
          return [k, tf.tidy(() => tf.tensor(data, w.shape, 'float32').cast(w.dtype))];
        }),
      );
    }
  }
}
