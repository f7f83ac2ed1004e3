/**
 * ModelCheckpoint: after every epoch, the whole training state goes to
 * `<dir>/last` (weights as safetensors in PyTorch layout, optimizers, schedules,
 * epoch, step, random state, callbacks, history: see checkpoint.ts); when the
 * monitored value improves, the same goes to `<dir>/best`. Nothing is written
 * after a non-finite loss, so the last good checkpoint survives a divergence.
 *
 * With `interval: s` (seconds), `last` and `best` are written at most every s
 * seconds and when training ends (also after Ctrl-C, early stopping or a
 * non-finite loss). Between writes each finished epoch is kept in memory as a
 * snapshot (weights and optimizer tensors share their data, no copy, until the
 * next steps replace it), and a write saves the latest snapshot: the files are
 * the ones an every-epoch save of that epoch writes, so a resume still starts
 * from a finished epoch and continues with the numbers of an uninterrupted run.
 * A process killed outright resumes from the last written epoch, at most s
 * seconds of training behind. Each write is atomic, as always (checkpoint.ts).
 */
import * as path from 'node:path';
import { tf } from '../engine/tf';
import type { Generator } from '../engine/random';
import type { Module, StateDict } from '../nn/module';
import { Callback, Logs } from '../train/callback';
import { loadCheckpoint, restoreCheckpoint, saveCheckpoint } from '../io/checkpoint';
import { inferMode } from './early_stopping';
import type { Trainer, TrainerState } from '../train/trainer';

export interface ModelCheckpointOptions {
  /** Monitored for `best` (default val_loss, or loss when there is no validation). */
  monitor?: string;
  mode?: 'auto' | 'min' | 'max';
  /** Also keep a copy `epoch<N>` every this many epochs (0: never). */
  keepEvery?: number;
  /** Seconds between writes of `last` and `best` (default 0: after every epoch); see above. */
  interval?: number;
}

/** One finished epoch's state, held until it is written. */
interface Snapshot {
  epoch: number;
  step: number;
  bestMetric: number | null;
  weights: StateDict;
  trainer: { state(): TrainerState; dispose(): void };
  uses: number;
}

export class ModelCheckpoint extends Callback {
  best: number | null = null;
  readonly monitor: string;
  private readonly mode: 'auto' | 'min' | 'max';

  constructor(
    readonly dir: string,
    readonly options: ModelCheckpointOptions = {},
  ) {
    super();
    this.monitor = options.monitor ?? 'val_loss';
    this.mode = options.mode ?? 'auto';
  }

  private improved(v: number): boolean {
    const mode = this.mode === 'auto' ? inferMode(this.monitor) : this.mode;
    return this.best === null || (mode === 'min' ? v < this.best : v > this.best);
  }

  private pendingLast: Snapshot | null = null;
  private pendingBest: Snapshot | null = null;
  private lastWrite = 0;

  /** The state now, for writing now or later (weights cloned: shared data, no copy). */
  private snapshot(): Snapshot {
    const t = this.trainer;
    const weights = Object.fromEntries(Object.entries(t.model.stateDict()).map(([k, v]) => [k, tf.clone(v)]));
    return { epoch: t.epoch, step: t.globalStep, bestMetric: this.best, weights, trainer: t.snapshotState() as Snapshot['trainer'], uses: 0 };
  }

  private release(s: Snapshot | null): void {
    if (s && --s.uses <= 0) {
      tf.dispose(Object.values(s.weights));
      s.trainer.dispose();
    }
  }

  private write(sub: string, s: Snapshot): void {
    const state = s.trainer.state();
    saveCheckpoint(path.join(this.dir, sub), {
      model: { stateDict: () => s.weights } as unknown as Module, // the snapshot's weights, under the model's names
      epoch: s.epoch,
      step: s.step,
      bestMetric: s.bestMetric,
      generator: { getState: () => state.rng } as unknown as Generator, // the random state of that epoch
      extra: { trainer: state, monitor: this.monitor },
    });
  }

  /** Write what is pending (last, then best, as an every-epoch save does) and let the snapshots go. */
  private flush(): void {
    const [last, best] = [this.pendingLast, this.pendingBest];
    this.pendingLast = this.pendingBest = null;
    try {
      if (last) this.write('last', last);
      if (best) this.write('best', best);
    } finally {
      this.release(last);
      this.release(best);
      this.lastWrite = Date.now();
    }
  }

  onTrainBegin(): void {
    this.lastWrite = Date.now();
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    if (Object.entries(logs).some(([k, v]) => k !== 'lr' && !Number.isFinite(v))) return;
    if (this.trainer.stopReason?.startsWith('non-finite')) return;
    // Without validation data, val_loss falls back to the training loss; with validation
    // every n epochs, the epochs in between do not compete for `best`.
    const value = logs[this.monitor] ?? (this.monitor === 'val_loss' && !this.trainer.hasValidation ? logs.loss : undefined);
    const better = value !== undefined && this.improved(value);
    if (better) this.best = value;
    const snap = this.snapshot();
    this.release(this.pendingLast);
    this.pendingLast = snap;
    snap.uses++;
    if (better) {
      this.release(this.pendingBest);
      this.pendingBest = snap;
      snap.uses++;
    }
    const every = this.options.keepEvery ?? 0;
    if (every > 0 && (epoch + 1) % every === 0) this.write(`epoch${epoch + 1}`, snap);
    if (Date.now() - this.lastWrite >= (this.options.interval ?? 0) * 1000) this.flush();
  }

  /** Training ended (finished, stopped early, interrupted, diverged): write the last finished epoch. */
  onTrainEnd(): void {
    this.flush();
  }

  getState(): unknown {
    return { best: this.best };
  }

  setState(s: any): void {
    this.best = s?.best ?? null;
  }
}

/** Does `dir` hold a complete checkpoint? */
export function hasCheckpoint(dir: string): boolean {
  try {
    loadCheckpoint(dir).dispose();
    return true;
  } catch {
    return false;
  }
}

/** Put a trainer (model, optimizers, schedules, callbacks, random state) back to a saved checkpoint. */
export function resumeTrainer(trainer: Trainer, dir: string): { epoch: number } {
  const { extra } = restoreCheckpoint(dir, { model: trainer.model });
  const state = extra.trainer as TrainerState | undefined;
  if (!state)
    throw new Error(`resume: ${dir} holds weights but no trainer state (it was not written by ModelCheckpoint); load it with restoreCheckpoint instead`);
  trainer.setState(state);
  return { epoch: trainer.epoch };
}
