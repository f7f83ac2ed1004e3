/**
 * `run_small`: the per-epoch overhead of a run, i.e. everything in an epoch of
 * `hyperlab train` outside the training and validation steps (data batching,
 * metrics, progress, CSV and TensorBoard logs, checkpoints), against the whole
 * epoch of a PyTorch loop that does what the original XANESNET does per epoch
 * (train, validate, log two scalars, print a line; bench/torch_bench.py
 * run_small). The run is the default run file, runfiles/xanes_mlp.yaml
 * (mlp 49-256-128-226, batch 16, on the embedded Fe data), for EPOCHS epochs.
 * Issue 10's goal: hyperlab's overhead <= 50% of PyTorch's whole epoch.
 *
 *     node dist/bench/run_small.js [epochs]      # one JSON line: per-epoch medians in ms
 *
 * bench/run.ts runs this as the workload `run_small` (the ratio printed is
 * overhead / PyTorch epoch); the child process times itself with a callback
 * that wraps the task's trainStep and evalStep.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as hl from '../lib';
import { Callback } from '../lib/train/callback';
import { runFromText } from '../lib/runs/run';
import type { Trainer } from '../lib/train/trainer';

/** Per epoch: the whole epoch, and the time inside trainStep and evalStep. */
class EpochTimer extends Callback {
  epochs: { total: number; train: number; val: number; trainSteps: number; valSteps: number }[] = [];
  private start = 0;
  private train = 0;
  private val = 0;
  private trainSteps = 0;
  private valSteps = 0;

  onTrainBegin(): void {
    const task = this.trainer.task as unknown as Record<string, (...a: unknown[]) => unknown>;
    const wrap = (name: 'trainStep' | 'evalStep') => {
      const inner = task[name].bind(task);
      task[name] = (...args: unknown[]) => {
        const t0 = performance.now();
        try {
          return inner(...args);
        } finally {
          const dt = performance.now() - t0;
          if (name === 'trainStep') {
            this.train += dt;
            this.trainSteps++;
          } else {
            this.val += dt;
            this.valSteps++;
          }
        }
      };
    };
    wrap('trainStep');
    wrap('evalStep');
    // each other callback's epoch-end time, by class name
    for (const cb of (this.trainer as Trainer).callbacks) {
      if (cb === this) continue;
      const name = cb.constructor.name;
      for (const hook of ['onEpochBegin', 'onBatchEnd', 'onEpochEnd'] as const) {
        const inner = cb[hook].bind(cb) as (...a: unknown[]) => unknown;
        (cb as unknown as Record<string, unknown>)[hook] = async (...args: unknown[]) => {
          const t0 = performance.now();
          try {
            return await inner(...args);
          } finally {
            this.callbackMs[name] = (this.callbackMs[name] ?? 0) + performance.now() - t0;
          }
        };
      }
    }
  }

  /** Total ms in each callback's per-epoch hooks (all epochs). */
  callbackMs: Record<string, number> = {};

  onEpochBegin(): void {
    this.close();
    this.start = performance.now();
    this.train = this.val = this.trainSteps = this.valSteps = 0;
  }

  onTrainEnd(): void {
    this.close();
  }

  /** The epoch that began at `start` ends now (its onEpochEnd callbacks, this one's last, have run). */
  private close(): void {
    if (this.start === 0) return;
    this.epochs.push({ total: performance.now() - this.start, train: this.train, val: this.val, trainSteps: this.trainSteps, valSteps: this.valSteps });
    this.start = 0;
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main(): Promise<void> {
  const epochs = Number(process.argv[2] ?? 12);
  const file = path.join(__dirname, '..', '..', 'runfiles', 'xanes_mlp.yaml');
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-run-small-'));
  // the default run file as a learner runs it, for `epochs` epochs, in a fresh runs folder
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/^epochs: \d+/m, `epochs: ${epochs}`)
    .replace(/^hyperlab:\n/m, `hyperlab:\n  runs_dir: ${JSON.stringify(runsDir)}\n`);
  const timer = new EpochTimer();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const run = await runFromText(text, file, { callbacks: [timer], verbose: false });
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  run.dispose();
  fs.rmSync(runsDir, { recursive: true, force: true });
  const e = timer.epochs.slice(1); // the first epoch warms up (compiling, first files)
  const overhead = e.map((x) => x.total - x.train - x.val);
  console.log(
    JSON.stringify({
      workload: 'run_small',
      epochs: timer.epochs.length,
      train_batches: e[0]?.trainSteps,
      val_batches: e[0]?.valSteps,
      epoch_ms: median(e.map((x) => x.total)),
      train_ms: median(e.map((x) => x.train)),
      val_ms: median(e.map((x) => x.val)),
      overhead_ms: median(overhead),
      ms: median(overhead), // the headline figure bench/run.ts compares
      callbacks_ms_per_epoch: Object.fromEntries(Object.entries(timer.callbackMs).map(([k, v]) => [k, +(v / timer.epochs.length).toFixed(3)])),
      run_wall_ms: wall,
      run_cpu_ms: (cpu.user + cpu.system) / 1000,
      backend: hl.device().backend,
      native: hl.device().native,
      peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
