/**
 * ModelCheckpoint: after every epoch, the whole training state goes to
 * `<dir>/last` (weights as safetensors in PyTorch layout, optimizers, schedules,
 * epoch, step, random state, callbacks, history: see checkpoint.ts); when the
 * monitored value improves, the same goes to `<dir>/best`. Nothing is written
 * after a non-finite loss, so the last good checkpoint survives a divergence.
 *
 * The per-epoch history is not rewritten into every checkpoint.json (at 6000 epochs that
 * was 1.4 MB a save): it is appended, one JSON line per epoch, to `<dir>/history.jsonl`,
 * and each checkpoint records how many of its lines are its own ({historyFile, epochs}).
 * Checkpoints written before that, with the whole history inline, still resume.
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
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../engine/tf';
import type { Generator } from '../engine/random';
import type { Module, StateDict } from '../nn/module';
import { Logs } from '../train/callback';
import { loadCheckpoint, restoreCheckpoint, saveCheckpoint } from '../io/checkpoint';
import { MonitorCallback, MonitorMode } from './monitor';
import type { Trainer, TrainerState } from '../train/trainer';

export interface ModelCheckpointOptions {
  /** Monitored for `best` (default val_loss, or loss when there is no validation). */
  monitor?: string;
  mode?: MonitorMode;
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

export class ModelCheckpoint extends MonitorCallback {
  constructor(
    readonly dir: string,
    readonly options: ModelCheckpointOptions = {},
  ) {
    super(options.monitor ?? 'val_loss', options.mode ?? 'auto');
  }

  /** The best monitored value written to `best`, or null before the first. */
  private get bestOrNull(): number | null {
    return Number.isFinite(this.best) ? this.best : null;
  }

  /** Rows of history.jsonl known to be this run's (null: not synced yet in this process). */
  private historyRows: number | null = null;

  /**
   * Bring history.jsonl to the trainer's history: the first sync in a process rewrites it
   * (a resume from best, or a crash between append and save, can leave extra lines);
   * later ones append only the new epochs.
   */
  private syncHistory(): number {
    const h = this.trainer.history;
    const n = h.epoch.length;
    const file = path.join(this.dir, HISTORY_FILE);
    const row = (i: number) => JSON.stringify(Object.fromEntries(Object.keys(h).map((k) => [k, encodeNumber(h[k][i])]))) + '\n';
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      if (this.historyRows === null) fs.writeFileSync(file, Array.from({ length: n }, (_, i) => row(i)).join(''));
      else if (n > this.historyRows) fs.appendFileSync(file, Array.from({ length: n - this.historyRows }, (_, i) => row(this.historyRows! + i)).join(''));
    } catch (err) {
      this.historyRows = null; // rewrite it whole next time
      throw new Error(`could not write ${file}: ${(err as Error).message} (free disk space or fix the folder's permissions, then rerun to resume)`, {
        cause: err,
      });
    }
    this.historyRows = n;
    return n;
  }

  private pendingLast: Snapshot | null = null;
  private pendingBest: Snapshot | null = null;
  private lastWrite = 0;

  /** The state now, for writing now or later (weights cloned: shared data, no copy). */
  private snapshot(): Snapshot {
    const t = this.trainer;
    const weights = Object.fromEntries(Object.entries(t.model.stateDict()).map(([k, v]) => [k, tf.clone(v)]));
    return { epoch: t.epoch, step: t.globalStep, bestMetric: this.bestOrNull, weights, trainer: t.snapshotState() as Snapshot['trainer'], uses: 0 };
  }

  private release(s: Snapshot | null): void {
    if (s && --s.uses <= 0) {
      tf.dispose(Object.values(s.weights));
      s.trainer.dispose();
    }
  }

  private write(sub: string, s: Snapshot): void {
    const state = s.trainer.state();
    // The history goes to history.jsonl (appended); the checkpoint names how many of its lines are its own.
    const epochs = (state.history as { epoch: unknown[] }).epoch.length;
    this.syncHistory();
    (state as unknown as { history: HistoryRef }).history = { historyFile: HISTORY_FILE, epochs };
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
    if (this.trainer.stopped?.kind === 'non_finite') return;
    // Without validation data, val_loss falls back to the training loss; with validation
    // every n epochs, the epochs in between do not compete for `best`.
    const value = logs[this.monitor] ?? (this.monitor === 'val_loss' && !this.trainer.hasValidation ? logs.loss : undefined);
    const better = value !== undefined && this.monitorOf.update(value);
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
    return { best: this.bestOrNull };
  }

  setState(s: any): void {
    this.best = s?.best ?? this.monitorOf.worst;
  }
}

/**
 * What `dir` holds: nothing ('absent': no folder, or an empty one), a complete checkpoint
 * ('ok'), or a damaged one (truncated or garbage files, a missing checkpoint.json or data
 * file: 'damaged', with loadCheckpoint's message naming the file).
 */
export function checkpointState(dir: string): { state: 'absent' | 'ok' } | { state: 'damaged'; reason: string } {
  if (!fs.existsSync(dir) || (fs.statSync(dir).isDirectory() && fs.readdirSync(dir).length === 0)) return { state: 'absent' };
  try {
    loadCheckpoint(dir).dispose();
    return { state: 'ok' };
  } catch (err) {
    return { state: 'damaged', reason: (err as Error).message };
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

/** The history file beside the checkpoints (one JSON object per epoch). */
export const HISTORY_FILE = 'history.jsonl';

/** What a checkpoint holds instead of the history: the first `epochs` lines of `historyFile`. */
interface HistoryRef {
  historyFile: string;
  epochs: number;
}

const encodeNumber = (v: number) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
const decodeNumber = (v: unknown) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : (v as number));

/** The first `ref.epochs` epochs of the history file in the checkpoints folder above `dir`. */
function readHistory(dir: string, ref: HistoryRef): Record<string, (number | string)[]> {
  const file = path.join(path.dirname(dir), ref.historyFile);
  const lines = fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
    : [];
  if (lines.length < ref.epochs) {
    throw new Error(
      `resume: ${dir} needs the first ${ref.epochs} epochs of ${file}, which holds ${lines.length}; the history file is damaged or missing: resume with --resume-from best or start over with --restart`,
    );
  }
  const rows = lines.slice(0, ref.epochs).map((l, i) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      throw new Error(`resume: line ${i + 1} of ${file} is not JSON; the history file is damaged: resume with --resume-from best or start over with --restart`);
    }
  });
  const keys = [...new Set(['epoch', ...rows.flatMap((r) => Object.keys(r))])];
  // In the checkpoint's own encoding (non-finite numbers as strings), as Trainer.setState reads it.
  return Object.fromEntries(keys.map((k) => [k, rows.map((r) => encodeNumber(decodeNumber(r[k] ?? 'NaN')))]));
}

/** Put a trainer (model, optimizers, schedules, callbacks, random state) back to a saved checkpoint. */
export function resumeTrainer(trainer: Trainer, dir: string): { epoch: number } {
  const { extra } = restoreCheckpoint(dir, { model: trainer.model });
  const state = extra.trainer as TrainerState | undefined;
  if (!state)
    throw new Error(`resume: ${dir} holds weights but no trainer state (it was not written by ModelCheckpoint); load it with restoreCheckpoint instead`);
  const ref = state.history as unknown as Partial<HistoryRef>;
  if (ref && typeof ref.historyFile === 'string') (state as { history: unknown }).history = readHistory(dir, ref as HistoryRef);
  trainer.setState(state);
  return { epoch: trainer.epoch };
}
