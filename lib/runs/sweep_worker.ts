/**
 * One sweep trial in its own process: the worker side of `sweep({ workers: N })` and of a
 * queue worker's trials (`hyperlab worker --queue`, ./sweep_queue_worker.ts).
 *
 * The sweep forks this script (or one given as `workerScript`) with the trial's run
 * file as its argument. The script runs the trial and sends back
 *     { metrics: { name: number, ... } }     or     { error: "message" }
 * over the IPC channel as JSON, then exits. Without an IPC channel (run by hand:
 * `node sweep_worker.js trial-000.yaml`) it prints the same JSON on stdout.
 *
 * A worker script of your own is three lines:
 *
 *     import { serveTrial } from 'hyperlab/dist/lib/runs/sweep_worker';
 *     serveTrial(async (runFile) => ({ final_loss: await train(runFile) }));
 *
 * Run directly, this file runs the trial with the full trainer (`runFromFile` in
 * ./run.ts, the code path of `hyperlab train`), and its messages say more:
 *     { progress: { epoch, epochs, loss } }           after every epoch
 *     { metrics, run: { runDir, resumedFrom, history } }   at the end
 *     { error, kind: 'non_finite' | 'config' | 'interrupted' }   a failure with a known cause
 * A NaN or infinite loss is a failed trial (its message says the epoch). The environment
 * variable HYPERLAB_CHECKPOINT_INTERVAL_S sets the seconds between checkpoints (default 10).
 * When the parent goes away (killed with -9), the IPC channel closes and this process
 * exits at the next batch: a trial never trains on without its worker.
 */
import * as os from 'node:os';

/** Runs one trial from its run file and resolves to its metrics (numbers by name). */
export type RunTrial = (runFile: string) => Promise<Record<string, number>>;

/** What a trial of the full trainer reports besides its metrics. */
export interface TrialRun {
  runDir: string;
  host: string;
  /** The epoch it resumed from (a checkpoint left by an earlier attempt), or null. */
  resumedFrom: number | null;
  /** The per-epoch history (loss, val_loss, ... by epoch). */
  history: Record<string, (number | null)[]>;
}

/** After each epoch: where the trial is. */
export interface TrialProgress {
  epoch: number;
  epochs: number;
  loss: number | null;
}

/**
 * Failures with a known cause: non_finite and config give the same result however often they
 * are retried; interrupted is a trial stopped by Ctrl-C (SIGINT) at its checkpoint, to be resumed.
 */
export type TrialErrorKind = 'non_finite' | 'config' | 'interrupted';

/** What a worker sends back. */
export type TrialMessage = { metrics: Record<string, number | null>; run?: TrialRun } | { error: string; kind?: TrialErrorKind } | { progress: TrialProgress };

/** An error with a kind: the trial would fail the same way on any retry. */
export class TrialError extends Error {
  constructor(
    message: string,
    readonly kind: TrialErrorKind,
  ) {
    super(message);
  }
}

/**
 * Metrics of a run from its per-epoch history: `final_<name>` (the last finite value)
 * for every logged number, `best_<name>` for losses (lowest) and accuracy-like metrics
 * (highest), and `epochs_run`.
 */
export function metricsFromHistory(history: Record<string, number[]>): Record<string, number> {
  const out: Record<string, number> = { epochs_run: history.epoch?.length ?? 0 };
  for (const [name, values] of Object.entries(history)) {
    if (name === 'epoch' || !Array.isArray(values)) continue;
    const finite = values.filter((v) => Number.isFinite(v));
    out[`final_${name}`] = finite.length ? finite[finite.length - 1] : NaN;
    const bare = name.replace(/^val_/, '');
    if (name === 'lr') continue;
    if (/(^|_)(acc|accuracy|auc|f1|precision|recall|r2)$/.test(bare)) out[`best_${name}`] = finite.length ? Math.max(...finite) : NaN;
    else if (/loss|^(mse|mae|rmse)$/.test(bare)) out[`best_${name}`] = finite.length ? Math.min(...finite) : NaN;
  }
  return out;
}

interface RunLike {
  runDir: string;
  resumedFrom: number | null;
  history: Record<string, number[]>;
  stopped: { kind: string; message: string } | null;
  dispose?: () => void;
}
type RunFromFile = (file: string, opts?: Record<string, unknown>) => Promise<RunLike>;

/** The trainer and the run-file error class, loaded when first used (the sweep does not depend on the trainer at import time). */
function trainer(): { runFromFile: RunFromFile; RunFileError: new (...a: never[]) => Error } {
  return { runFromFile: (require('./run') as { runFromFile: RunFromFile }).runFromFile, RunFileError: require('../config/validate').RunFileError };
}

/**
 * A run file through the full trainer, as `hyperlab train` runs it (resuming from its
 * checkpoint when the run exists): its metrics and run. A NaN or infinite loss throws a
 * TrialError (kind non_finite), an invalid run file one of kind config.
 */
export async function runFileTrialReport(
  runFile: string,
  opts: { callbacks?: unknown[]; checkpointInterval?: number } = {},
): Promise<{ metrics: Record<string, number>; run: TrialRun }> {
  const { runFromFile, RunFileError } = trainer();
  let result: RunLike;
  try {
    result = await runFromFile(runFile, { progress: false, ...opts });
  } catch (e) {
    if (e instanceof RunFileError) throw new TrialError(e.message, 'config');
    throw e;
  }
  try {
    if (result.stopped?.kind === 'non_finite') throw new TrialError(result.stopped.message, 'non_finite');
    if (result.stopped?.kind === 'interrupted') throw new TrialError(`${result.stopped.message}; the checkpoint is written, a rerun resumes`, 'interrupted');
    const history = Object.fromEntries(Object.entries(result.history).map(([k, v]) => [k, v.map((x) => (Number.isFinite(x) ? x : null))]));
    return {
      metrics: metricsFromHistory(result.history),
      run: { runDir: result.runDir, host: os.hostname(), resumedFrom: result.resumedFrom, history },
    };
  } finally {
    result.dispose?.();
  }
}

/** The default trial: the run file through the full trainer (a NaN or infinite loss fails the trial). */
export const runFileTrial: RunTrial = async (runFile) => (await runFileTrialReport(runFile)).metrics;

/** Send a message to the parent (or print it as JSON without one); resolves once sent. */
function send(msg: TrialMessage): Promise<void> {
  return new Promise<void>((resolve) => {
    if (process.send && process.connected) process.send(msg, undefined, {}, () => resolve());
    else {
      if (!process.send) process.stdout.write(`${JSON.stringify(msg)}\n`);
      resolve();
    }
  });
}

/** Run the trial named by process.argv[2] with `run`, report its metrics or error, and exit. */
export function serveTrial(run: (runFile: string) => Promise<Record<string, number> | { metrics: Record<string, number>; run: TrialRun }>): void {
  const runFile = process.argv[2];
  // A trial never trains on without its parent (a worker killed with -9): exit at the next batch.
  if (process.send) process.on('disconnect', () => process.exit(137));
  const main = async () => {
    if (!runFile) throw new Error('sweep worker: no run file given; the sweep starts this script as `node worker.js RUN.yaml`');
    const out = await run(runFile);
    if (typeof out !== 'object' || out === null) throw new Error(`sweep worker: the trial returned ${typeof out}, not an object of metrics`);
    return out;
  };
  main().then(
    async (out) => {
      const report = 'run' in out && 'metrics' in out && typeof out.metrics === 'object' ? (out as { metrics: Record<string, number>; run: TrialRun }) : null;
      await send(report ?? { metrics: out as Record<string, number> });
      process.exit(0);
    },
    async (e: unknown) => {
      await send({ error: e instanceof Error ? e.message : String(e), ...(e instanceof TrialError ? { kind: e.kind } : {}) });
      process.exit(1);
    },
  );
}

/** Seconds between checkpoints from HYPERLAB_CHECKPOINT_INTERVAL_S (set by `hyperlab worker --checkpoint-interval`), or undefined. */
export function checkpointIntervalFromEnv(env = process.env): number | undefined {
  const v = env.HYPERLAB_CHECKPOINT_INTERVAL_S;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!(Number.isFinite(n) && n >= 0)) throw new Error(`HYPERLAB_CHECKPOINT_INTERVAL_S is '${v}': give seconds between checkpoints, a number >= 0`);
  return n;
}

/** This file run as a script: the full trainer, with a progress message after each epoch. */
function serveRunFile(): void {
  const { Callback } = require('../train/callback') as typeof import('../train/callback');
  class SendProgress extends Callback {
    onEpochEnd(epoch: number, logs: Record<string, number>): void {
      void send({ progress: { epoch: epoch + 1, epochs: this.trainer.targetEpochs, loss: Number.isFinite(logs.loss) ? logs.loss : null } });
    }
  }
  serveTrial((runFile) => runFileTrialReport(runFile, { callbacks: [new SendProgress()], checkpointInterval: checkpointIntervalFromEnv() }));
}

if (require.main === module) serveRunFile();
