/**
 * A tiny sweep worker for test/sweep.test.ts: real but tiny work, no trainer.
 * It reads its trial's run file with lib/config, runs `epochs` steps of gradient
 * descent on f(w) = (w - 3)² with the file's hyperparams.lr, holds its slot for
 * 300 ms and reports when its process started and ended (so overlapping workers can be counted).
 * hyperparams.lr > 1 throws (a reported error); batch_size 13 exits without a report (a crash).
 */
import { readRunFile } from '../lib/config/validate';
import { serveTrial } from '../lib/runs/sweep_worker';

// When this process started (before its imports): the span a pool slot is held.
const started = Date.now() - process.uptime() * 1000;

serveTrial(async (runFile) => {
  const { raw } = readRunFile(runFile);
  const lr: number = raw.hyperparams.lr;
  if (raw.hyperparams.batch_size === 13) process.exit(3);
  if (lr > 1) throw new Error(`lr ${lr} diverges on f(w) = (w - 3)^2`);
  let w = 0;
  for (let i = 0; i < raw.epochs; i++) w -= lr * 2 * (w - 3);
  console.log(`trial ${process.env.HYPERLAB_SWEEP_TRIAL}: w = ${w}`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { final_loss: (w - 3) ** 2, started, ended: Date.now(), pid: process.pid };
});
