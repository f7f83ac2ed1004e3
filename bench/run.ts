/**
 * `npm run bench`: median ms per training step (forward + backward + optimizer)
 * of every workload in bench/workloads.ts, for hyperlab on each backend it can
 * run here and for PyTorch (bench/torch_bench.py, OPENBLAS_NUM_THREADS=1) in the
 * same run. Prints a table with the ratio hyperlab / PyTorch and the peak
 * memory (process RSS) of each, and writes bench/results.json.
 *
 *     npm run bench                        # everything (a few minutes)
 *     npm run bench -- --quick             # fewer steps, for a smoke test
 *     npm run bench -- --only a_b64,b --backends wasm+openblas,wasm --no-torch
 *     npm run bench -- --backends wasm+openblas,wasm+openblas-mt   # OpenBLAS on 1 thread and on all cores
 *     npm run bench -- --repeat 3          # alternate PyTorch and hyperlab 3 times, keep each one's best median
 *     npm run bench -- --backends webgpu,wasm+openblas --torch-device cuda --out bench/results.json   # a GPU machine (bench/gpu.sh)
 *
 * The workload `run_small` is not one training step: it times whole epochs of `hyperlab train` on the
 * default run file (bench/run_small.ts) and compares the per-epoch overhead (everything outside the
 * training and validation steps) with a whole PyTorch epoch that does XANESNET's per-epoch work.
 *
 * Every (workload, backend) pair runs in its own process, so peak RSS is that
 * run's own and no state leaks between runs. Besides wall-clock medians it
 * records the median CPU time per step of each process, which other work on a
 * shared machine disturbs much less. Not part of `npm test`.
 * Environment: HYPERLAB_BENCH_PYTHON (default /usr/bin/python3, Debian's python3-torch).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as hl from '../lib';
import { tf } from '../lib';
import { WORKLOADS } from './workloads';

interface Timing {
  /** Median wall-clock ms per step (the headline figure). */
  ms: number;
  mean_ms: number;
  min_ms: number;
  /** Median CPU ms per step (all threads of the process). */
  cpu_ms: number;
  steps: number;
  peak_rss_mb: number;
}

interface HyperlabRun extends Timing {
  backend: string;
  /** The GPU adapter, on webgpu. */
  adapter?: string;
  native: string;
  /** Tensors left over per step (should be 0). */
  leaked_tensors_per_step: number;
  final_loss: number;
}

interface TorchRun extends Timing {
  torch: string;
  /** cpu, or the CUDA device's name. */
  device?: string;
  python: string;
  threads: number;
}

/** hyperlab configurations: a name for the table, the tfjs backend and the environment. */
type BenchBackend = 'cpu' | 'wasm' | 'webgpu';

const CONFIGS: { name: string; backend: BenchBackend; env: Record<string, string>; byDefault: boolean }[] = [
  { name: 'wasm+openblas', backend: 'wasm', env: { OPENBLAS_NUM_THREADS: '1' }, byDefault: true },
  { name: 'wasm', backend: 'wasm', env: { HYPERLAB_NATIVE: '0' }, byDefault: true },
  { name: 'cpu', backend: 'cpu', env: { HYPERLAB_NATIVE: '0' }, byDefault: true },
  // OpenBLAS on every core (not comparable with the 1-thread PyTorch figures): --backends wasm+openblas-mt
  { name: 'wasm+openblas-mt', backend: 'wasm', env: { OPENBLAS_NUM_THREADS: String(os.cpus().length) }, byDefault: false },
  // a GPU through WebGPU (Dawn: Vulkan on Linux); HYPERLAB_WEBGPU_SOFTWARE=1 allows the software adapter (tests only)
  { name: 'webgpu', backend: 'webgpu', env: {}, byDefault: false },
];

interface Budget {
  minSteps: number;
  minSeconds: number;
  maxSeconds: number;
}

/**
 * Per-step wall-clock and CPU times in ms: warm up, then at least minSteps steps
 * and minSeconds, stopping at maxSeconds (after 3 steps). CPU time (this process,
 * all threads) is much less disturbed than wall time when other work shares the cores.
 */
function measure(step: () => number, b: Budget, warmup = 3): { wall: number[]; cpu: number[] } {
  for (let i = 0; i < warmup; i++) step();
  const wall: number[] = [];
  const cpu: number[] = [];
  const start = performance.now();
  for (;;) {
    const elapsed = (performance.now() - start) / 1000;
    if (wall.length >= b.minSteps && elapsed >= b.minSeconds) break;
    if (elapsed >= b.maxSeconds && wall.length >= 3) break;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    step();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall, cpu };
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function stats({ wall, cpu }: { wall: number[]; cpu: number[] }): Omit<Timing, 'peak_rss_mb'> {
  return {
    ms: median(wall),
    mean_ms: wall.reduce((s, t) => s + t, 0) / wall.length,
    min_ms: Math.min(...wall),
    cpu_ms: median(cpu),
    steps: wall.length,
  };
}

/** Child process: time one workload on one backend and print a JSON line. */
async function child(id: string, backend: BenchBackend, budget: Budget): Promise<void> {
  const w = WORKLOADS.find((x) => x.id === id);
  if (!w?.setup) throw new Error(`bench: workload '${id}' has no hyperlab setup`);
  const report = await hl.useBackend(backend);
  const trainer = w.setup();
  trainer.step(); // first step creates optimizer state
  const tensorsBefore = tf.memory().numTensors;
  const times = measure(() => trainer.step(), budget);
  const leaked = (tf.memory().numTensors - tensorsBefore) / (times.wall.length + 3);
  const finalLoss = trainer.step();
  trainer.dispose();
  const run: HyperlabRun = {
    backend,
    ...(report.adapter ? { adapter: hl.adapterSummary(report.adapter) } : {}),
    native: hl.device().native,
    ...stats(times),
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    leaked_tensors_per_step: leaked,
    final_loss: finalLoss,
  };
  console.log(JSON.stringify(run));
}

/** Run a command that prints one JSON line last; returns it parsed or the reason it failed. */
function runJson<T>(cmd: string, args: string[], env: Record<string, string>): T | { error: string } {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 1_800_000, maxBuffer: 16 << 20 });
  if (r.error) return { error: r.error.message };
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) {
    const why = (r.stderr || r.stdout).trim().split('\n').filter(Boolean).slice(-3).join(' | ');
    return { error: `exit ${r.status ?? r.signal}: ${why}` };
  }
  return JSON.parse(last) as T;
}

interface RunSmallResult {
  ms: number;
  epoch_ms: number;
  train_ms: number;
  val_ms: number;
  overhead_ms: number;
  train_batches: number;
  val_batches: number;
  callbacks_ms_per_epoch: Record<string, number>;
  peak_rss_mb: number;
}

/**
 * run_small: hyperlab's per-epoch overhead in `hyperlab train` (bench/run_small.ts, on wasm with
 * the native kernels) against a whole epoch of PyTorch doing XANESNET's per-epoch work on the same
 * numbers of batches (torch_bench.py run_small), alternating `repeat` times, the best median of each.
 */
function runSmall(opts: { repeat: number; quick: boolean; torch: boolean }, python: string, torchScript: string, rows: string[][]): Record<string, unknown> {
  const epochs = opts.quick ? 6 : 16;
  const runner = path.join(__dirname, 'run_small.js');
  let h: RunSmallResult | { error: string } | undefined;
  let t: (TorchRun & { epoch_ms: number }) | { error: string } | undefined;
  for (let r = 0; r < opts.repeat; r++) {
    const hr = runJson<RunSmallResult>(process.execPath, [runner, String(epochs)], { OPENBLAS_NUM_THREADS: '1' });
    if (!h || 'error' in h || ('ms' in hr && hr.ms < h.ms)) h = hr;
    const batches = 'ms' in hr ? hr : h && 'ms' in h ? h : null;
    if (!opts.torch || !batches) continue;
    const tr = runJson<TorchRun & { epoch_ms: number }>(
      python,
      [torchScript, 'run_small', '--epochs', String(epochs), '--train-batches', String(batches.train_batches), '--val-batches', String(batches.val_batches)],
      { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
    );
    if (!t || 'error' in t || ('ms' in tr && tr.ms < t.ms)) t = tr;
  }
  const hOk = h && 'ms' in h ? h : null;
  const tOk = t && 'ms' in t ? t : null;
  const ratio = hOk && tOk ? hOk.overhead_ms / tOk.epoch_ms : undefined;
  const row = [
    'run_small',
    'wasm+openblas',
    hOk ? fmt(hOk.overhead_ms) : 'failed',
    fmt(tOk?.epoch_ms, 3),
    ratio === undefined ? '-' : fmt(ratio, 2),
    '<= 0.5',
    ratio === undefined ? '' : ratio <= 0.5 ? 'yes' : 'no',
    '-',
    '-',
    '-',
    fmt(hOk?.peak_rss_mb, 0),
    fmt(tOk?.peak_rss_mb, 0),
  ];
  rows.push(row);
  console.log(row.join('  '));
  if (hOk) {
    console.log(
      `    hyperlab epoch ${fmt(hOk.epoch_ms)} ms = train ${fmt(hOk.train_ms)} + validation ${fmt(hOk.val_ms)} + overhead ${fmt(hOk.overhead_ms)}; ` +
        `callbacks per epoch: ${Object.entries(hOk.callbacks_ms_per_epoch)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join(', ')}`,
    );
  }
  if (h && 'error' in h) console.log(`    hyperlab: ${h.error}`);
  if (t && 'error' in t) console.log(`    PyTorch: ${t.error}`);
  return {
    workload: 'run_small',
    title: 'per-epoch overhead of `hyperlab train` (runfiles/xanes_mlp.yaml) / a whole XANESNET PyTorch epoch',
    target_ratio: 0.5,
    ratio,
    hyperlab: { 'wasm+openblas': h },
    torch: t,
  };
}

const fmt = (x: number | undefined, digits = 2): string => (x === undefined ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(digits));

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => '| ' + r.map((v, c) => (c < 2 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' | ') + ' |';
  return [line(rows[0]), '| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |', ...rows.slice(1).map(line)].join('\n');
}

function parseArgs(argv: string[]) {
  const opts = {
    quick: false,
    only: null as string[] | null,
    backends: CONFIGS.filter((c) => c.byDefault).map((c) => c.name),
    torch: true,
    repeat: 1,
    torchDevice: 'cpu',
    out: path.join(__dirname, '..', '..', 'bench', 'results.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--no-torch') opts.torch = false;
    else if (a === '--only') opts.only = argv[++i].split(',');
    else if (a === '--repeat') opts.repeat = Math.max(1, Number.parseInt(argv[++i], 10) || 1);
    else if (a === '--backends') opts.backends = argv[++i].split(',');
    else if (a === '--torch-device') opts.torchDevice = argv[++i];
    else if (a === '--out') opts.out = path.resolve(argv[++i]);
    else {
      throw new Error(
        `bench: unknown option '${a}'; use --quick, --only ids, --repeat n, --backends ${CONFIGS.map((c) => c.name).join(',')}, ` +
          '--no-torch, --torch-device cpu|cuda, --out file.json',
      );
    }
  }
  for (const b of opts.backends) {
    if (!CONFIGS.some((c) => c.name === b)) throw new Error(`bench: unknown backend '${b}'; use ${CONFIGS.map((c) => c.name).join(', ')}`);
  }
  for (const id of opts.only ?? []) {
    if (!WORKLOADS.some((w) => w.id === id)) throw new Error(`bench: unknown workload '${id}'; use ${WORKLOADS.map((w) => w.id).join(', ')}`);
  }
  return opts;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const budget: Budget = opts.quick ? { minSteps: 5, minSeconds: 0.5, maxSeconds: 3 } : { minSteps: 30, minSeconds: 3, maxSeconds: 12 };
  const native = hl.device().native; // importing hyperlab tried to load the addon
  const loadBefore = os.loadavg().map((x) => +x.toFixed(2));
  const configs = CONFIGS.filter((c) => opts.backends.includes(c.name));
  const python = process.env.HYPERLAB_BENCH_PYTHON ?? '/usr/bin/python3';
  const torchScript = path.join(__dirname, '..', '..', 'bench', 'torch_bench.py');
  const budgetArgs = [String(budget.minSteps), String(budget.minSeconds), String(budget.maxSeconds)];

  console.log(`hyperlab bench on ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), Node ${process.version}, tfjs ${tf.version_core}`);
  console.log(`native kernels: ${native}; load average ${loadBefore.join(' ')}\n`);

  const results: Record<string, unknown>[] = [];
  const rows: string[][] = [
    [
      'workload',
      'hyperlab backend',
      'hyperlab ms',
      'PyTorch ms',
      'ratio',
      'target',
      'met',
      'hyperlab CPU ms',
      'PyTorch CPU ms',
      'CPU ratio',
      'hyperlab peak RSS MB',
      'PyTorch peak RSS MB',
    ],
  ];
  /** The better (lower median) of two runs of the same thing; an error only if both failed. */
  const better = <T extends { ms: number }>(a: T | { error: string } | undefined, b: T | { error: string }): T | { error: string } =>
    !a || 'error' in a ? b : 'error' in b || a.ms <= b.ms ? a : b;
  /** results.json with what has run so far (written after every workload, so a run cut short keeps its figures). */
  const writeReport = (): void => {
    const firstTorch = results.map((r) => r.torch as TorchRun | undefined).find((t) => t && 'torch' in t);
    const adapter = results
      .flatMap((r) => Object.values((r.hyperlab as Record<string, HyperlabRun | { error: string }> | undefined) ?? {}))
      .map((h) => ('adapter' in h ? h.adapter : undefined))
      .find(Boolean);
    const report = {
      date: new Date().toISOString(),
      machine: {
        cpu: os.cpus()[0]?.model,
        cores: os.cpus().length,
        memory_gb: +(os.totalmem() / 2 ** 30).toFixed(1),
        platform: `${os.platform()} ${os.release()}`,
        load_average_before: loadBefore, // other work on the machine makes the figures noisy
        // the devices the figures come from: the CPU above, a GPU through WebGPU, PyTorch's device
        devices: { hyperlab_webgpu: adapter ?? null, torch: firstTorch?.device ?? opts.torchDevice },
      },
      versions: {
        node: process.version,
        tfjs: tf.version_core,
        hyperlab: require('../../package.json').version,
        torch: firstTorch?.torch,
        python: firstTorch?.python,
        native,
      },
      settings: {
        ...budget,
        repeat: opts.repeat,
        warmup_steps: 3,
        torch_env: 'OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1',
        statistic: 'median of per-step wall times (ms) and CPU times (cpu_ms); with repeat > 1 the run with the lower median',
      },
      results,
    };
    const out = opts.out;
    fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  };

  for (const w of WORKLOADS) {
    if (opts.only && !opts.only.includes(w.id)) continue;
    if (w.id === 'run_small') {
      results.push(runSmall(opts, python, torchScript, rows));
      writeReport();
      continue;
    }
    if (!w.setup) {
      console.log(`${w.title}: skipped, TODO: ${w.todo}`);
      results.push({ workload: w.id, title: w.title, todo: w.todo });
      continue;
    }
    let torch: TorchRun | { error: string } | undefined;
    const hyperlab: Record<string, HyperlabRun | { error: string }> = {};
    // --repeat n: alternate PyTorch and hyperlab runs n times and keep each one's best median,
    // so that a burst of other work on the machine does not decide the ratio
    for (let r = 0; r < opts.repeat; r++) {
      const t = opts.torch
        ? runJson<TorchRun>(
            python,
            [torchScript, w.id, '--min-steps', budgetArgs[0], '--min-seconds', budgetArgs[1], '--max-seconds', budgetArgs[2], '--device', opts.torchDevice],
            { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
          )
        : { error: 'not run (--no-torch)' };
      torch = better(torch, t);
      for (const c of configs) {
        const h: HyperlabRun | { error: string } =
          c.name.startsWith('wasm+openblas') && !native.startsWith('openblas')
            ? { error: `native kernels ${native}` }
            : runJson<HyperlabRun>(process.execPath, [__filename, '--child', w.id, c.backend, ...budgetArgs], c.env);
        hyperlab[c.name] = better(hyperlab[c.name], h);
      }
    }
    const torchOk = torch && 'ms' in torch ? torch : null;
    for (const c of configs) {
      const h = hyperlab[c.name];
      const ratio = torchOk && 'ms' in h ? h.ms / torchOk.ms : undefined;
      const target = c.name === 'wasm+openblas' && w.target !== undefined ? w.target : undefined;
      const row =
        'ms' in h
          ? [
              w.id,
              c.name,
              fmt(h.ms),
              fmt(torchOk?.ms, 3),
              ratio === undefined ? '-' : fmt(ratio, 1),
              target === undefined ? '' : `<= ${target}`,
              target === undefined || ratio === undefined ? '' : ratio <= target ? 'yes' : 'no',
              fmt(h.cpu_ms),
              fmt(torchOk?.cpu_ms, 3),
              torchOk?.cpu_ms ? fmt(h.cpu_ms / torchOk.cpu_ms, 1) : '-',
              fmt(h.peak_rss_mb, 0),
              fmt(torchOk?.peak_rss_mb, 0),
            ]
          : [w.id, c.name, 'failed', fmt(torchOk?.ms, 3), '-', '', '', '-', fmt(torchOk?.cpu_ms, 3), '-', '-', fmt(torchOk?.peak_rss_mb, 0)];
      rows.push(row);
      console.log(row.join('  '));
      if ('error' in h) console.log(`    ${h.error}`);
      else if (h.leaked_tensors_per_step > 0) console.log(`    warning: ${h.leaked_tensors_per_step.toFixed(1)} tensors leaked per step`);
    }
    if (!torchOk && torch && 'error' in torch) console.log(`    PyTorch: ${torch.error}`);
    results.push({ workload: w.id, title: w.title, target_ratio: w.target, hyperlab, torch });
    writeReport();
  }

  console.log(
    `\nmedian ms per training step (wall clock; CPU: this process's CPU time); ratio = hyperlab / PyTorch (1 thread); ` +
      `target: the issue's ratio for wasm+openblas${opts.repeat > 1 ? `; best of ${opts.repeat} alternating runs each` : ''}\n\n${table(rows)}`,
  );
  writeReport();
  console.log(`\nwrote ${path.relative(process.cwd(), opts.out)}`);
}

const argv = process.argv.slice(2);
const done = argv[0] === '--child' ? child(argv[1], argv[2] as BenchBackend, { minSteps: +argv[3], minSeconds: +argv[4], maxSeconds: +argv[5] }) : main();
done.catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
