/**
 * ModelCheckpoint: after every epoch, the whole training state goes to
 * `<dir>/last` (weights as safetensors in PyTorch layout, optimizers, schedules,
 * epoch, step, random state, callbacks, history: see checkpoint.ts); when the
 * monitored value improves, the same goes to `<dir>/best`. Nothing is written
 * after a non-finite loss, so the last good checkpoint survives a divergence.
 */
import * as path from 'node:path';
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

  private save(sub: string): void {
    const t = this.trainer;
    saveCheckpoint(path.join(this.dir, sub), {
      model: t.model,
      epoch: t.epoch,
      step: t.globalStep,
      bestMetric: this.best,
      extra: { trainer: t.getState(), monitor: this.monitor },
    });
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    if (Object.entries(logs).some(([k, v]) => k !== 'lr' && !Number.isFinite(v))) return;
    if (this.trainer.stopReason?.startsWith('non-finite')) return;
    // Without validation data, val_loss falls back to the training loss; with validation
    // every n epochs, the epochs in between do not compete for `best`.
    const value = logs[this.monitor] ?? (this.monitor === 'val_loss' && !this.trainer.hasValidation ? logs.loss : undefined);
    const better = value !== undefined && this.improved(value);
    if (better) this.best = value;
    this.save('last');
    if (better) this.save('best');
    const every = this.options.keepEvery ?? 0;
    if (every > 0 && (epoch + 1) % every === 0) this.save(`epoch${epoch + 1}`);
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
  if (!state) throw new Error(`resume: ${dir} holds weights but no trainer state (it was not written by ModelCheckpoint); load it with restoreCheckpoint instead`);
  trainer.setState(state);
  return { epoch: trainer.epoch };
}
