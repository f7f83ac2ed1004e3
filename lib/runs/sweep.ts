/**
 * Hyperparameter sweeps over the fields of a run file.
 *
 *     const result = await sweep({
 *       base: 'runfiles/xanes_mlp.yaml',
 *       method: 'grid',                                   // or 'random' with n and seed
 *       params: { 'hyperparams.lr': [1e-3, 1e-2], 'hyperparams.batch_size': [16, 32] },
 *       workers: 2,                                       // processes; or runTrial for in-process
 *     });
 *     console.log(result.toString());                     // the results table
 *     result.writeCsv();                                  // <dir>/results.csv (also written as trials finish)
 *
 * - Fields are dotted paths into the run file (`model.params.hidden_size`; a number
 *   indexes a list). Values: a list, or for random sweeps a range
 *   `{ min, max, log?, integer? }` (log: uniform in log space).
 * - grid: every combination, the last field changing fastest. random: n trials, each
 *   field drawn independently from a Generator seeded with `seed` (default 0), so the
 *   same seed gives the same trials.
 * - Each trial's run file is the base YAML (comments kept) with the values replaced,
 *   relative data paths made absolute, and hyperlab.name / hyperlab.runs_dir set so its
 *   run directory is <dir>/trial-NNN. Every trial file is validated with lib/config
 *   before anything runs: a field that does not exist fails at once, naming the field
 *   and the closest valid key; a bad value names the trial.
 * - Trials run one after another in this process through `runTrial(runFile)`, or in up
 *   to `workers` child processes (child_process.fork of `workerScript`, by default
 *   ./sweep_worker.js, which runs the full trainer; see sweep_worker.ts for the
 *   protocol). A failing trial is recorded with its error and the others go on.
 * - Running the same sweep again in the same folder reuses the trial names, so runs
 *   that checkpoint resume; a different sweep in a folder that holds one is refused.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isSeq, parseDocument, Document } from 'yaml';
import { Generator } from '../engine/random';
import { parseRunFile, RunFileError } from '../config/validate';
import { toRunSpec } from '../config/runspec';
import { writeTable, ColumnInput } from '../data/table';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import { RunTrial, runFileTrial, TrialMessage, TrialRun, TrialProgress, TrialErrorKind } from './sweep_worker';

export type { RunTrial } from './sweep_worker';

export type SweepValue = number | string | boolean | null;

/** A range for random sweeps: uniform in [min, max], in log space with log, rounded with integer. */
export interface SweepRange {
  min: number;
  max: number;
  log?: boolean;
  integer?: boolean;
}

export type SweepParams = Record<string, SweepValue[] | SweepRange>;

export interface SweepOptions {
  /** The base run file (YAML). */
  base: string;
  /** 'grid' (default): every combination; 'random': n draws. */
  method?: 'grid' | 'random';
  params: SweepParams;
  /** Number of random trials. */
  n?: number;
  /** Seed of the random draws (default 0). */
  seed?: number;
  /** Where trial files, logs, runs and results go (default runs/sweep-<base name>). */
  dir?: string;
  /** Run each trial in this process, one after another. */
  runTrial?: RunTrial;
  /** Run trials in this many child processes at once. */
  workers?: number;
  /** The script each worker process runs (default: ./sweep_worker.js, the full trainer). */
  workerScript?: string;
  /** Kill a worker trial after this many seconds (default: no limit). */
  timeoutS?: number;
  /** Called as each trial ends (a notebook can print or plot it). */
  onTrialEnd?: (row: SweepRow, result: SweepResult) => void;
}

export interface SweepTrial {
  trial: number;
  /** Trial name: its run file is trials/<name>.yaml and its run directory <dir>/<name>. */
  name: string;
  values: Record<string, SweepValue>;
  runFile: string;
  runDir: string;
  /** The trial's run file text. */
  text: string;
}

export interface SweepRow {
  trial: number;
  values: Record<string, SweepValue>;
  metrics: Record<string, number>;
  status: 'pending' | 'running' | 'ok' | 'failed';
  error: string | null;
  seconds: number;
  runFile: string;
  runDir: string;
}

/** A trial's row of the results table before it has run. */
export function pendingRow(t: SweepTrial): SweepRow {
  return { trial: t.trial, values: t.values, metrics: {}, status: 'pending', error: null, seconds: 0, runFile: t.runFile, runDir: t.runDir };
}

// ---- the plan: trials and their run files ----------------------------------------------------

/** Run-file fields holding paths relative to the file (see lib/config/runspec.ts). */
const PATH_FIELDS = [
  'x_path',
  'y_path',
  'xyz_path',
  'xanes_path',
  'data_params.datafile',
  'train_params.log_dir',
  'loadguess_params.model_dir',
  'freeze_params.model_path',
  'hyperlab.runs_dir',
];

function isRange(v: unknown): v is SweepRange {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'min' in v && 'max' in v;
}

function checkParams(o: SweepOptions): { method: 'grid' | 'random'; paths: string[] } {
  const method = o.method ?? 'grid';
  if (method !== 'grid' && method !== 'random') throw new Error(`sweep: method must be 'grid' or 'random', got '${method}'`);
  const paths = Object.keys(o.params ?? {});
  if (paths.length === 0) throw new Error("sweep: params is empty; give at least one field, e.g. { 'hyperparams.lr': [1e-3, 1e-2] }");
  for (const p of paths) {
    if (!/^[^.\s]+(\.[^.\s]+)*$/.test(p)) throw new Error(`sweep: '${p}' is not a dotted field path like 'hyperparams.lr'`);
    const v = o.params[p];
    if (Array.isArray(v)) {
      if (v.length === 0) throw new Error(`sweep: '${p}' has an empty list of values`);
    } else if (isRange(v)) {
      if (method === 'grid') throw new Error(`sweep: '${p}' is a range; a grid needs a list of values (ranges are for method: 'random')`);
      if (!(Number.isFinite(v.min) && Number.isFinite(v.max) && v.min <= v.max))
        throw new Error(`sweep: the range of '${p}' needs finite min <= max, got ${JSON.stringify(v)}`);
      if (v.log && !(v.min > 0)) throw new Error(`sweep: the log range of '${p}' needs min > 0, got ${v.min}`);
    } else {
      throw new Error(`sweep: '${p}' must be a list of values or a range { min, max, log? }, got ${JSON.stringify(v)}`);
    }
  }
  if (method === 'random' && !(Number.isInteger(o.n) && (o.n as number) > 0))
    throw new Error(`sweep: a random sweep needs n, the number of trials (a positive whole number), got ${o.n}`);
  return { method, paths };
}

/** Every combination, the last path changing fastest. */
function gridValues(params: SweepParams, paths: string[]): Record<string, SweepValue>[] {
  let combos: Record<string, SweepValue>[] = [{}];
  for (const p of paths) {
    const values = params[p] as SweepValue[];
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [p]: v })));
  }
  return combos;
}

/** n independent draws, fields in order, from a generator seeded with `seed`. */
function randomValues(params: SweepParams, paths: string[], n: number, seed: number): Record<string, SweepValue>[] {
  const g = new Generator(seed);
  return Array.from({ length: n }, () => {
    const out: Record<string, SweepValue> = {};
    for (const p of paths) {
      const spec = params[p];
      if (Array.isArray(spec)) out[p] = spec[Math.floor(g.random() * spec.length)];
      else {
        const u = g.random();
        let v = spec.log ? Math.exp(Math.log(spec.min) + u * (Math.log(spec.max) - Math.log(spec.min))) : spec.min + u * (spec.max - spec.min);
        if (spec.integer) v = Math.min(Math.max(Math.round(v), Math.ceil(spec.min)), Math.floor(spec.max));
        out[p] = v;
      }
    }
    return out;
  });
}

/** Path segments for yaml's setIn: a number where it indexes a list. */
function segments(doc: Document, dotted: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const s of dotted.split('.')) {
    const parent = out.length ? doc.getIn(out, true) : doc.contents;
    out.push(/^\d+$/.test(s) && isSeq(parent) ? Number(s) : s);
  }
  return out;
}

/** The base document with `values` set, data paths absolute and the run directory pinned. */
function trialText(base: Document, baseFile: string, values: Record<string, SweepValue>, dir: string, name: string): string {
  const doc = base.clone();
  for (const [p, v] of Object.entries(values)) {
    try {
      doc.setIn(segments(doc, p), v);
    } catch (e) {
      throw new Error(`sweep: cannot set '${p}' in ${baseFile}: ${(e as Error).message}; a field path must lead through mappings to a value`);
    }
  }
  for (const p of PATH_FIELDS) {
    const keys = p.split('.');
    const v = doc.getIn(keys);
    if (typeof v === 'string' && !v.startsWith('hyperlab:') && !path.isAbsolute(v)) doc.setIn(keys, path.resolve(path.dirname(baseFile), v));
  }
  doc.setIn(['hyperlab', 'name'], name);
  doc.setIn(['hyperlab', 'runs_dir'], dir);
  return doc.toString();
}

function problemsOf(e: unknown): string[] {
  return e instanceof RunFileError ? e.problems : [(e as Error).message];
}

const show = (v: SweepValue) => (typeof v === 'string' ? `'${v}'` : String(v));

/** The trials of a sweep, each run file written and validated; nothing runs. */
/** The 1-based line of the key at `keys` (e.g. ['hyperparams']) in a parsed YAML document, or null. */
function keyLine(doc: Document, text: string, keys: string[]): number | null {
  const holder = keys.length > 1 ? doc.getIn(keys.slice(0, -1), true) : doc.contents;
  const items = (holder as { items?: { key?: { value?: unknown; range?: [number, number] } }[] } | null)?.items ?? [];
  const pair = items.find((it) => it.key?.value === keys[keys.length - 1]);
  return pair?.key?.range ? text.slice(0, pair.key.range[0]).split('\n').length : null;
}

export function planSweep(o: SweepOptions): { dir: string; trials: SweepTrial[]; paths: string[]; method: 'grid' | 'random' } {
  const { method, paths } = checkParams(o);
  const baseFile = path.resolve(o.base);
  if (!fs.existsSync(baseFile)) throw new Error(`sweep: the base run file ${baseFile} does not exist`);
  const baseText = fs.readFileSync(baseFile, 'utf8');
  parseRunFile(baseText, baseFile); // the base itself must be valid
  const base = parseDocument(baseText);
  const dir = path.resolve(o.dir ?? path.join('runs', `sweep-${path.basename(baseFile).replace(/\.ya?ml$/i, '')}`));
  const trialsDir = path.join(dir, 'trials');

  // Each field on its own first, so a wrong path is reported as that, once.
  const valuesList = method === 'grid' ? gridValues(o.params, paths) : randomValues(o.params, paths, o.n as number, o.seed ?? 0);
  for (const p of paths) {
    const first = { [p]: valuesList[0][p] };
    try {
      const text = trialText(base, baseFile, first, dir, 'check');
      parseRunFile(text, baseFile);
    } catch (e) {
      // Line numbers in these messages count lines of the trial file (the base with the field
      // added), so they are replaced by the line of the field's block in the base file.
      const parent = p.split('.').slice(0, -1);
      const blockLine = parent.length ? keyLine(base, baseText, parent) : null;
      const where = blockLine !== null ? `(the '${parent.join('.')}' block, line ${blockLine} of ${path.basename(baseFile)})` : '';
      const problems = problemsOf(e).map((m) => m.replace(/\(line \d+\)/g, where).replace(/ {2,}/g, ' '));
      throw new Error(`sweep: --param field '${p}' cannot be set in ${baseFile}: ${problems.join('; ')}`);
    }
  }

  const width = Math.max(3, String(valuesList.length - 1).length);
  const problems: string[] = [];
  const trials = valuesList.map((values, trial) => {
    const name = `trial-${String(trial).padStart(width, '0')}`;
    const runFile = path.join(trialsDir, `${name}.yaml`);
    const text = trialText(base, baseFile, values, dir, name);
    let runDir = path.join(dir, name);
    try {
      const spec = toRunSpec(parseRunFile(text, runFile));
      runDir = path.join(spec.runsDir, spec.name);
    } catch (e) {
      const set = Object.entries(values)
        .map(([k, v]) => `${k}=${show(v)}`)
        .join(', ');
      problems.push(`trial ${trial} (${set}): ${problemsOf(e).join('; ')}`);
    }
    return { trial, name, values, runFile, runDir, text };
  });
  if (problems.length) {
    const more = problems.length > 10 ? `\n  ... and ${problems.length - 10} more` : '';
    throw new Error(`sweep: ${problems.length} trial run file(s) are invalid; nothing was run:\n  ${problems.slice(0, 10).join('\n  ')}${more}`);
  }
  return { dir, trials, paths, method };
}

// ---- the results table -------------------------------------------------------------------------

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export class SweepResult {
  constructor(
    readonly dir: string,
    /** The swept fields, in order. */
    readonly paths: string[],
    readonly rows: SweepRow[],
  ) {}

  /** Metric names in the order they first appear. */
  metricNames(): string[] {
    const names: string[] = [];
    for (const r of this.rows) for (const k of Object.keys(r.metrics)) if (!names.includes(k)) names.push(k);
    return names;
  }

  /** The table as columns: trial, the swept fields, the metrics, status, seconds, run_dir, error. */
  columns(): Record<string, number[] | string[]> {
    const cols: Record<string, number[] | string[]> = { trial: this.rows.map((r) => r.trial) };
    for (const p of this.paths) {
      const vs = this.rows.map((r) => r.values[p]);
      cols[p] = vs.every((v) => typeof v === 'number') ? (vs as number[]) : vs.map((v) => (v === null || v === undefined ? '' : String(v)));
    }
    const fixed = ['status', 'seconds', 'run_dir', 'error'];
    for (const m of this.metricNames()) {
      const name = m in cols || fixed.includes(m) ? `metric.${m}` : m; // a metric named like a swept field keeps both
      cols[name] = this.rows.map((r) => r.metrics[m] ?? NaN);
    }
    cols.status = this.rows.map((r) => r.status);
    cols.seconds = this.rows.map((r) => Math.round(r.seconds * 1000) / 1000);
    cols.run_dir = this.rows.map((r) => r.runDir);
    cols.error = this.rows.map((r) => r.error ?? '');
    return cols;
  }

  /** CSV text (missing numbers are empty fields). */
  toCSV(): string {
    const cols = this.columns();
    const names = Object.keys(cols);
    const cell = (v: number | string) => (typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : csvField(v));
    const lines = [names.map(csvField).join(',')];
    for (let i = 0; i < this.rows.length; i++) lines.push(names.map((n) => cell(cols[n][i])).join(','));
    return `${lines.join('\n')}\n`;
  }

  /** Write the CSV (default <dir>/results.csv, replaced atomically); returns the path. */
  writeCsv(file = path.join(this.dir, 'results.csv')): string {
    writeFileAtomic(file, this.toCSV());
    return file;
  }

  /** Write the table as Parquet (through lib/data/table.ts, needs nodejs-polars); returns the path. */
  writeParquet(file = path.join(this.dir, 'results.parquet')): string {
    writeTable(file, this.columns() as Record<string, ColumnInput>, { overwrite: true });
    return file;
  }

  /** The finished trial with the lowest (mode 'min', the default) or highest value of `metric`. */
  best(metric: string, mode: 'min' | 'max' = 'min'): SweepRow | null {
    const ok = this.rows.filter((r) => r.status === 'ok' && Number.isFinite(r.metrics[metric]));
    if (ok.length === 0) return null;
    return ok.reduce((a, b) => ((mode === 'min' ? b.metrics[metric] < a.metrics[metric] : b.metrics[metric] > a.metrics[metric]) ? b : a));
  }

  /** The table as aligned text (errors shortened), for a notebook or a terminal. */
  toString(): string {
    const cols = this.columns();
    delete cols.run_dir;
    const names = Object.keys(cols);
    const fmt = (v: number | string) =>
      typeof v === 'number'
        ? !Number.isFinite(v)
          ? '-'
          : Number.isInteger(v) || (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5)
            ? String(Number(v.toPrecision(6)))
            : v.toExponential(3)
        : v.length > 60
          ? `${v.slice(0, 57)}...`
          : v;
    const body = this.rows.map((_, i) => names.map((n) => fmt(cols[n][i])));
    const widths = names.map((n, j) => Math.max(n.length, ...body.map((r) => r[j].length)));
    const line = (cells: string[]) =>
      cells
        .map((c, j) => c.padEnd(widths[j]))
        .join('  ')
        .trimEnd();
    return [line(names), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
  }
}

// ---- running ---------------------------------------------------------------------------------------

function cleanMetrics(m: Record<string, unknown>, where: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === null)
      out[k] = NaN; // NaN travels through JSON as null
    else if (typeof v === 'number') out[k] = v;
    else throw new Error(`${where}: metric '${k}' is ${JSON.stringify(v)}, not a number; a trial must return { name: number, ... }`);
  }
  return out;
}

async function runInProcess(trial: SweepTrial, run: RunTrial): Promise<Record<string, number>> {
  const metrics = await run(trial.runFile);
  if (typeof metrics !== 'object' || metrics === null) throw new Error(`runTrial returned ${typeof metrics}, not an object of metrics`);
  return cleanMetrics(metrics, 'runTrial');
}

export interface ForkTrialOptions {
  /** Kill the trial after this many seconds. */
  timeoutS?: number;
  /** Extra environment variables for the trial's process. */
  env?: Record<string, string>;
  /** Called once the process is started (its pid). */
  onStart?: (pid: number) => void;
  /** Called with each progress message (the full trainer sends one per epoch). */
  onProgress?: (p: TrialProgress) => void;
  /** Start the process in its own process group: a terminal's Ctrl-C reaches only the parent, which decides. */
  detached?: boolean;
}

/** A failed trial: its message, and `kind` when the trial reported a failure no retry can mend (a NaN loss, a bad run file). */
export class TrialFailure extends Error {
  constructor(
    message: string,
    readonly kind: TrialErrorKind | null,
  ) {
    super(message);
  }
}

/**
 * Fork the worker script for one trial (output to logFile); resolve to its metrics (and its run,
 * from the full trainer), reject with a TrialFailure: its error, a crash, a timeout.
 */
export function forkTrial(
  runFile: string,
  script: string,
  logFile: string,
  o: ForkTrialOptions = {},
): Promise<{ metrics: Record<string, number>; run?: TrialRun }> {
  return new Promise((resolve, reject) => {
    const log = fs.openSync(logFile, 'a');
    const child = fork(script, [runFile], { stdio: ['ignore', log, log, 'ipc'], env: { ...process.env, ...o.env }, detached: o.detached });
    if (child.pid !== undefined) o.onStart?.(child.pid);
    let message: TrialMessage | null = null;
    let timedOut = false;
    const timer = o.timeoutS ? setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), o.timeoutS * 1000) : null;
    child.on('message', (m: TrialMessage) => {
      if ('progress' in m) o.onProgress?.(m.progress);
      else message = m;
    });
    const finish = (err: Error | null, code: number | null, signal: string | null) => {
      if (timer) clearTimeout(timer);
      fs.closeSync(log);
      const tail = () => {
        const text = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join(' | ');
        return text ? ` (last output: ${text})` : '';
      };
      const msg = message as TrialMessage | null;
      if (err) reject(new TrialFailure(`could not start the worker ${script}: ${err.message}`, null));
      else if (timedOut) reject(new TrialFailure(`timed out after ${o.timeoutS} s; the worker was killed`, null));
      else if (msg && 'error' in msg) reject(new TrialFailure(msg.error, msg.kind ?? null));
      else if (msg && 'metrics' in msg && code === 0) {
        try {
          resolve({ metrics: cleanMetrics(msg.metrics, 'worker'), run: msg.run });
        } catch (e) {
          reject(new TrialFailure((e as Error).message, null));
        }
      } else reject(new TrialFailure(`the worker exited with ${signal ? `signal ${signal}` : `code ${code}`} without reporting metrics${tail()}`, null));
    };
    let done = false;
    child.on('error', (e) => !done && ((done = true), finish(e, null, null)));
    child.on('exit', (code, signal) => !done && ((done = true), finish(null, code, signal)));
  });
}

/** One trial of the local pool in its own process (a fresh log file each time). */
async function runInWorker(trial: SweepTrial, script: string, logFile: string, timeoutS: number | undefined): Promise<Record<string, number>> {
  fs.rmSync(logFile, { force: true });
  const env = { HYPERLAB_SWEEP_TRIAL: String(trial.trial) };
  return (await forkTrial(trial.runFile, script, logFile, { timeoutS, env })).metrics;
}

/** The default worker script: dist/lib/runs/sweep_worker.js next to this file. */
export function defaultWorkerScript(): string {
  return path.join(__dirname, 'sweep_worker.js');
}

/**
 * The sweep's folder: sweep.json (the plan), trials/ (one run file per trial) and logs/. A folder
 * holding another sweep is refused: its runs would mix with these (trial names would resume other settings).
 */
export function writeSweepFolder(plan: ReturnType<typeof planSweep>, o: Pick<SweepOptions, 'base' | 'seed'>): void {
  const planFile = path.join(plan.dir, 'sweep.json');
  const record = { base: path.resolve(o.base), method: plan.method, seed: o.seed ?? 0, trials: plan.trials.map((t) => ({ name: t.name, values: t.values })) };
  if (fs.existsSync(planFile)) {
    const old = JSON.parse(fs.readFileSync(planFile, 'utf8'));
    if (JSON.stringify(old.trials) !== JSON.stringify(record.trials) || old.base !== record.base) {
      throw new Error(`sweep: ${plan.dir} holds a different sweep (see its sweep.json); give another dir or delete that folder`);
    }
  }
  fs.mkdirSync(path.join(plan.dir, 'trials'), { recursive: true });
  fs.mkdirSync(path.join(plan.dir, 'logs'), { recursive: true });
  writeJsonAtomic(planFile, record);
  for (const t of plan.trials) writeFileAtomic(t.runFile, t.text);
}

/** Plan the sweep (validating every trial), write the trial files, run the trials, return the table. */
export async function sweep(o: SweepOptions): Promise<SweepResult> {
  if (o.runTrial && o.workers !== undefined) {
    throw new Error('sweep: give runTrial (trials run in this process) or workers (trials run in child processes), not both');
  }
  const workers = o.workers;
  if (workers !== undefined && !(Number.isInteger(workers) && workers > 0)) throw new Error(`sweep: workers must be a positive whole number, got ${workers}`);
  const script = path.resolve(o.workerScript ?? defaultWorkerScript());
  if (workers !== undefined && !fs.existsSync(script))
    throw new Error(`sweep: the worker script ${script} does not exist (build with \`npx tsc -p .\`, or pass workerScript)`);
  const plan = planSweep(o);
  writeSweepFolder(plan, o);

  const rows: SweepRow[] = plan.trials.map(pendingRow);
  const result = new SweepResult(plan.dir, plan.paths, rows);
  const runOne = async (t: SweepTrial) => {
    const row = rows[t.trial];
    row.status = 'running';
    const start = Date.now();
    try {
      row.metrics =
        workers !== undefined
          ? await runInWorker(t, script, path.join(plan.dir, 'logs', `${t.name}.log`), o.timeoutS)
          : await runInProcess(t, o.runTrial ?? runFileTrial);
      row.status = 'ok';
    } catch (e) {
      row.status = 'failed';
      row.error = e instanceof Error ? e.message : String(e);
    }
    row.seconds = (Date.now() - start) / 1000;
    result.writeCsv();
    try {
      o.onTrialEnd?.(row, result);
    } catch (e) {
      console.warn(`sweep: onTrialEnd threw for trial ${t.trial} (${(e as Error).message}); the sweep goes on`);
    }
  };

  if (workers === undefined) {
    for (const t of plan.trials) await runOne(t);
  } else {
    // A pool: `workers` loops each take the next trial until none are left.
    let next = 0;
    const loop = async () => {
      while (next < plan.trials.length) await runOne(plan.trials[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(workers, plan.trials.length) }, loop));
  }
  return result;
}
