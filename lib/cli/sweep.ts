/**
 * `hyperlab sweep RUN.yaml --param FIELD=V1,V2 ... [--random N] [--workers N]`:
 * a grid (or random) search over run-file fields, each trial a full run, and a
 * results table (results.csv in the sweep folder, or --parquet).
 *
 *     hyperlab sweep runfiles/xanes_mlp.yaml --param hyperparams.lr=1e-3,1e-2 \
 *       --param hyperparams.batch_size=16,32 --workers 2
 *     hyperlab sweep runfiles/xanes_mlp.yaml --random 8 --range hyperparams.lr=1e-5:1e-2:log
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { sweep, SweepParams, SweepValue } from '../runs/sweep';

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
    .action(
      async (runfile: string, o: { param: string[]; range: string[]; random?: string; seed: string; workers: string; dir?: string; parquet?: boolean }) => {
        const params: SweepParams = Object.fromEntries([...o.param.map(parseParam), ...o.range.map(parseRange)]);
        if (Object.keys(params).length === 0) throw new Error('sweep: give at least one --param FIELD=V1,V2 (or --range with --random)');
        const dir = o.dir ?? path.join('sweeps', path.basename(runfile).replace(/\.ya?ml$/, ''));
        const result = await sweep({
          base: runfile,
          method: o.random ? 'random' : 'grid',
          n: o.random ? Number(o.random) : undefined,
          seed: Number(o.seed),
          params,
          dir,
          workers: Number(o.workers),
        });
        console.log(result.toString());
        result.writeCsv();
        if (o.parquet) result.writeParquet();
        console.log(`results: ${path.join(dir, 'results.csv')}${o.parquet ? ` and ${path.join(dir, 'results.parquet')}` : ''}`);
      },
    );
}
