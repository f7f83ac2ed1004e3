/**
 * `hyperlab sweep RUN.yaml --param FIELD=V1,V2 ... [--random N] [--workers N]`:
 * a grid (or random) search over run-file fields, each trial a full run, and a
 * results table (results.csv in the sweep folder, or --parquet).
 *
 *     hyperlab sweep runfiles/xanes_mlp.yaml --param hyperparams.lr=1e-3,1e-2 \
 *       --param hyperparams.batch_size=16,32 --workers 2
 *     hyperlab sweep runfiles/xanes_mlp.yaml --random 8 --range hyperparams.lr=1e-5:1e-2:log
 *
 * With --queue redis://HOST:PORT/DB the trials go to a BullMQ queue instead (lib/runs/sweep_queue.ts):
 * this command submits them and follows them with a progress bar, `hyperlab worker --queue ...`
 * (./worker.ts) trains them on any number of machines, and the same sweep command with --results
 * waits until every trial has ended and writes the table.
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { MultiBar, Presets } from 'cli-progress';
import { sweep, SweepParams, SweepResult, SweepValue } from '../runs/sweep';
import type { queuedResult as QueuedResultFn, QueuedSweep, TrialJobProgress } from '../runs/sweep_queue';

/** The queue code (BullMQ, ioredis), loaded only by --queue: other commands start without it. */
const queueLib = () => import('../runs/sweep_queue');

function parseValue(v: string): SweepValue {
  if (v === 'null') return null;
  if (v === 'true' || v === 'false') return v === 'true';
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) ? n : v;
}

/** FIELD=V1,V2,... -> [FIELD, values] */
export function parseParam(spec: string): [string, SweepValue[]] {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) {
    throw new Error(`--param '${spec}': write FIELD=VALUE1,VALUE2 (e.g. hyperparams.lr=1e-3,1e-2)`);
  }
  return [
    spec.slice(0, eq),
    spec
      .slice(eq + 1)
      .split(',')
      .map(parseValue),
  ];
}

/** FIELD=MIN:MAX[:log][:int] -> [FIELD, range] */
export function parseRange(spec: string): [string, { min: number; max: number; log: boolean; integer: boolean }] {
  const eq = spec.indexOf('=');
  const parts = eq > 0 ? spec.slice(eq + 1).split(':') : [];
  const min = Number(parts[0]);
  const max = Number(parts[1]);
  if (eq <= 0 || !Number.isFinite(min) || !Number.isFinite(max) || !(max > min)) {
    throw new Error(`--range '${spec}': write FIELD=MIN:MAX, optionally :log and/or :int (e.g. hyperparams.lr=1e-5:1e-2:log)`);
  }
  return [spec.slice(0, eq), { min, max, log: parts.includes('log'), integer: parts.includes('int') }];
}

const collect = (v: string, prev: string[]) => [...prev, v];

type Row = Awaited<ReturnType<typeof QueuedResultFn>>['rows'][number];

/** A line per running trial: its name, epoch and where it trains. */
function runningLine(r: Row, name: string): string {
  const p = r.progress as TrialJobProgress | null;
  return p ? `${name} epoch ${p.epoch}/${p.epochs ?? '?'} on ${p.host}` : name;
}

/** Follow a queued sweep: a progress bar of ended trials on a terminal, else a line whenever the counts change. */
async function follow(s: QueuedSweep): Promise<SweepResult> {
  const tty = Boolean(process.stderr.isTTY);
  const bars = tty
    ? new MultiBar(
        {
          format: 'trials [{bar}] {value}/{total} ended  ok {ok}  failed {failed}  running {running}',
          hideCursor: true,
          clearOnComplete: false,
          stream: process.stderr,
        },
        Presets.shades_classic,
      )
    : null;
  const bar = bars?.create(s.trials.length, 0, { ok: 0, failed: 0, running: '-' });
  let last = '';
  const onUpdate = (rows: Row[]) => {
    const count = (st: string) => rows.filter((r) => r.status === st).length;
    const running = rows.filter((r) => r.status === 'running').map((r) => runningLine(r, s.trials[r.trial].name));
    const ok = count('ok');
    const failed = count('failed');
    if (bar) bar.update(ok + failed, { ok, failed, running: running.length ? running.join(', ') : '-' });
    else {
      const line = `trials: ${ok + failed}/${rows.length} ended, ${ok} ok, ${failed} failed, ${running.length} running`;
      if (line !== last) console.log(line);
      last = line;
    }
  };
  try {
    return await (await queueLib()).followSweep(s, { onUpdate });
  } finally {
    bars?.stop();
  }
}

/** The sweep on a queue: submit (unless --results) and follow until every trial has ended; returns the table. */
async function queueSweep(o: {
  base: string;
  params: SweepParams;
  method: 'grid' | 'random';
  n?: number;
  seed: number;
  dir: string;
  queue: string;
  queueName?: string;
  attempts: number;
  results?: boolean;
  follow: boolean;
}): Promise<SweepResult | null> {
  const { openQueuedSweep, submitTrials, queuedResult, saveUploads } = await queueLib();
  const s = await openQueuedSweep({
    base: o.base,
    method: o.method,
    n: o.n,
    seed: o.seed,
    params: o.params,
    dir: o.dir,
    queue: o.queue,
    queueName: o.queueName,
  });
  try {
    if (o.results) {
      const { missing } = await queuedResult(s);
      if (missing === s.trials.length) {
        throw new Error(
          `sweep --results: none of the ${s.trials.length} trials is on the queue ${o.queueName ?? 'hyperlab-trials'} at ${o.queue}; submit them first (the same command without --results)`,
        );
      }
      console.log(`${s.trials.length} trials (${missing} not on the queue); waiting until every one has ended`);
    } else {
      const { added, existing } = await submitTrials(s, { attempts: o.attempts });
      console.log(
        `submitted ${added} trials to ${o.queue}${existing ? ` (${existing} already there, left as they are)` : ''}; start workers with \`hyperlab worker --queue ${o.queue}\``,
      );
      if (!o.follow) return null;
    }
    await follow(s);
    const up = await saveUploads(s);
    if (up.written.length) console.log(`wrote ${up.written.length} uploaded run directories into ${s.dir}`);
    if (up.skipped.length) console.log(`left on the workers (over their --upload-limit): ${up.skipped.join(', ')}`);
    return (await queuedResult(s)).result;
  } finally {
    await s.close();
  }
}

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('grid or random search over run-file fields; every trial is a full run; prints and saves a results table')
    .argument('<runfile>', 'the base run file')
    .option('--param <field=v1,v2>', 'values of a field (repeatable)', collect, [])
    .option('--range <field=min:max[:log][:int]>', 'a range for --random (repeatable)', collect, [])
    .option('--random <n>', 'n random trials instead of the full grid')
    .option('--seed <n>', 'seed of the random draws', '0')
    .option('--workers <n>', 'trials in parallel, each in its own process', '1')
    .option('--dir <folder>', 'where the trials and results go (default: sweeps/<run file name>)')
    .option('--parquet', 'also write results.parquet')
    .option('--queue <redis-url>', 'put the trials on a BullMQ queue in Redis (redis://HOST:PORT/DB) for `hyperlab worker`s on any machine')
    .option('--queue-name <name>', 'the queue in Redis', 'hyperlab-trials')
    .option('--attempts <n>', 'with --queue: tries per trial before it is marked failed (a NaN loss or a bad run file fails at once)', '3')
    .option('--results', 'with --queue: submit nothing; wait until every trial has ended, then write the results table')
    .option('--no-follow', 'with --queue: submit and return at once')
    .action(
      async (
        runfile: string,
        o: {
          param: string[];
          range: string[];
          random?: string;
          seed: string;
          workers: string;
          dir?: string;
          parquet?: boolean;
          queue?: string;
          queueName: string;
          attempts: string;
          results?: boolean;
          follow: boolean;
        },
      ) => {
        const params: SweepParams = Object.fromEntries([...o.param.map(parseParam), ...o.range.map(parseRange)]);
        if (Object.keys(params).length === 0) throw new Error('sweep: give at least one --param FIELD=V1,V2 (or --range with --random)');
        if (!o.queue && o.results) throw new Error('sweep: --results reads the trials of a queued sweep: give --queue redis://HOST:PORT/DB too');
        const dir = o.dir ?? path.join('sweeps', path.basename(runfile).replace(/\.ya?ml$/, ''));
        const method = o.random ? 'random' : 'grid';
        const n = o.random ? Number(o.random) : undefined;
        let result: SweepResult | null;
        if (o.queue) {
          if (o.workers !== '1')
            throw new Error('sweep: --workers is the local process pool; with --queue, start `hyperlab worker --queue ...` processes instead');
          const attempts = Number(o.attempts);
          if (!(Number.isInteger(attempts) && attempts >= 1)) throw new Error(`sweep: --attempts takes a whole number >= 1, got '${o.attempts}'`);
          result = await queueSweep({
            base: runfile,
            params,
            method,
            n,
            seed: Number(o.seed),
            dir,
            queue: o.queue,
            queueName: o.queueName,
            attempts,
            results: o.results,
            follow: o.follow,
          });
          if (!result) return;
        } else {
          result = await sweep({ base: runfile, method, n, seed: Number(o.seed), params, dir, workers: Number(o.workers) });
        }
        console.log(result.toString());
        result.writeCsv();
        if (o.parquet) result.writeParquet();
        console.log(`results: ${path.join(dir, 'results.csv')}${o.parquet ? ` and ${path.join(dir, 'results.parquet')}` : ''}`);
      },
    );
}
