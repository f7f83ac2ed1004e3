/**
 * Where a workload's training step spends its time, per tfjs kernel:
 *
 *     node dist/bench/profile.js c [wasm|cpu] [steps] [cpu-time]
 *
 * Wraps every kernel registered for the backend with a timer (the wrapping adds
 * ~0.1 µs per call), runs a few warm-up steps, then `steps` timed steps, and
 * prints the kernels by total time with their call counts, and the time spent
 * outside kernels (tfjs bookkeeping, tape, JavaScript). A development tool,
 * not part of `npm run bench`. With a fourth argument `cpu-time`, every time is
 * the process's CPU time (process.cpuUsage, ~1 µs a call) instead of the wall
 * clock: steadier than wall time when other processes share the cores.
 */
import * as hl from '../lib';
import { tf } from '../lib';
import { WORKLOADS } from './workloads';

async function main(): Promise<void> {
  const [id = 'c', backend = 'wasm', stepsArg = '10', clockArg = 'wall'] = process.argv.slice(2);
  const cpuClock = clockArg === 'cpu-time';
  const now = cpuClock
    ? () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      }
    : () => performance.now();
  const w = WORKLOADS.find((x) => x.id === id);
  if (!w?.setup) throw new Error(`profile: no workload '${id}'; use ${WORKLOADS.map((x) => x.id).join(', ')}`);
  await hl.useBackend(backend as 'cpu' | 'wasm');
  const trainer = w.setup();
  for (let i = 0; i < 3; i++) trainer.step();

  const totals = new Map<string, { ms: number; calls: number }>();
  let depth = 0;
  for (const config of tf.getKernelsForBackend(backend)) {
    const inner = config.kernelFunc;
    (config as { kernelFunc: tf.KernelFunc }).kernelFunc = ((args: Parameters<tf.KernelFunc>[0]) => {
      if (depth > 0) return inner(args); // a kernel calling another: counted in the outer one
      depth++;
      const t0 = now();
      try {
        return inner(args);
      } finally {
        depth--;
        const e = totals.get(config.kernelName) ?? { ms: 0, calls: 0 };
        e.ms += now() - t0;
        e.calls++;
        totals.set(config.kernelName, e);
      }
    }) as tf.KernelFunc;
  }
  const steps = +stepsArg;
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = now();
    trainer.step();
    times.push(now() - t0);
  }
  trainer.dispose();
  const total = times.reduce((s, t) => s + t, 0) / steps;
  const rows = [...totals.entries()].map(([k, v]) => ({ kernel: k, ms: v.ms / steps, calls: v.calls / steps })).sort((a, b) => b.ms - a.ms);
  const inKernels = rows.reduce((s, r) => s + r.ms, 0);
  const calls = rows.reduce((s, r) => s + r.calls, 0);
  console.log(
    `${w.title} on ${backend} (${hl.device().native}): ${total.toFixed(2)} ms${cpuClock ? ' CPU time' : ''} per step (min ${Math.min(...times).toFixed(2)})`,
  );
  console.log(`in kernels ${inKernels.toFixed(2)} ms in ${calls} calls; outside ${(total - inKernels).toFixed(2)} ms`);
  for (const r of rows) console.log(`${r.kernel.padEnd(24)} ${r.ms.toFixed(3).padStart(9)} ms ${String(r.calls).padStart(6)} calls`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
