/**
 * One sweep trial in its own process: the worker side of `sweep({ workers: N })`.
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
 * ./run.ts) and reports metricsFromHistory of the run's history.
 */

/** Runs one trial from its run file and resolves to its metrics (numbers by name). */
export type RunTrial = (runFile: string) => Promise<Record<string, number>>;

/** What a worker sends back. */
export type TrialMessage = { metrics: Record<string, number | null> } | { error: string };

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

/** The default trial: the run file through the full trainer (lib/runs/run.ts, loaded when first used). */
export const runFileTrial: RunTrial = async (runFile) => {
  // Loaded lazily so the sweep does not depend on the trainer at import time.
  const { runFromFile } = require('./run') as {
    runFromFile(file: string, opts?: { progress?: boolean; verbose?: boolean }): Promise<{ history: Record<string, number[]>; dispose?: () => void }>;
  };
  const result = await runFromFile(runFile, { progress: false });
  try {
    return metricsFromHistory(result.history);
  } finally {
    result.dispose?.();
  }
};

/** Run the trial named by process.argv[2] with `run`, report its metrics or error, and exit. */
export function serveTrial(run: RunTrial): void {
  const runFile = process.argv[2];
  const send = (msg: TrialMessage) =>
    new Promise<void>((resolve) => {
      if (process.send) process.send(msg, undefined, {}, () => resolve());
      else {
        process.stdout.write(`${JSON.stringify(msg)}\n`);
        resolve();
      }
    });
  const main = async () => {
    if (!runFile) throw new Error('sweep worker: no run file given; the sweep starts this script as `node worker.js RUN.yaml`');
    const metrics = await run(runFile);
    if (typeof metrics !== 'object' || metrics === null) throw new Error(`sweep worker: the trial returned ${typeof metrics}, not an object of metrics`);
    return metrics;
  };
  main().then(
    async (metrics) => {
      await send({ metrics });
      process.exit(0);
    },
    async (e: unknown) => {
      await send({ error: e instanceof Error ? e.message : String(e) });
      process.exit(1);
    },
  );
}

if (require.main === module) serveTrial(runFileTrial);
