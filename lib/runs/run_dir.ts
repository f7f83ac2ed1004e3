/**
 * Reading a finished (or running) run directory back: what `hyperlab predict`, `report`
 * and `export` start from. The layout is the one lib/runs/run.ts writes:
 *
 *     config.json         the resolved RunSpec (preferred: its paths are absolute)
 *     run.yaml            the run file as given (used when config.json is missing)
 *     checkpoints/best    checkpoints/last
 *     scaler.json         split.json         metrics.csv
 *
 * A k-fold, bootstrap or ensemble run keeps one such directory per sub-run (fold_<k>, boot_<i>,
 * ens_<i>) below its own; a sub-run takes its settings from the parent's config.json.
 *
 *     const run = openRunDir('runs/xanes_mlp-mlp-1a2b3c4d');
 *     run.spec.model.type;                       // 'mlp'
 *     const ck = checkpointDir(run, 'best');     // checked: holds a complete checkpoint
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadRunSpec, RunSpec, XanesDataSpec } from '../config';
import { StandardScaler } from '../data/scaling';
import { readSpectrum } from '../data/xanes';
import { CHECKPOINT_FILE, loadCheckpoint } from '../io/checkpoint';

export interface RunDir {
  /** The run directory, absolute. */
  dir: string;
  spec: RunSpec;
}

export type CheckpointName = 'best' | 'last';

/** The sub-runs of a k-fold, bootstrap or ensemble run directory (fold_0, boot_1, ...), sorted. */
export function subRuns(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => /^(fold|boot|ens)_\d+$/.test(n) && fs.statSync(path.join(dir, n)).isDirectory())
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** The run directory's settings, from config.json (or run.yaml); errors say what is missing and what to do. */
export function openRunDir(dir: string): RunDir {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs)) {
    throw new Error(`run directory ${abs} does not exist: give the folder \`hyperlab train\` printed as "run directory: ..." (runs/<name> by default)`);
  }
  if (!fs.statSync(abs).isDirectory()) throw new Error(`${abs} is a file, not a run directory: give the folder that holds config.json and checkpoints/`);
  // A sub-run of a k-fold, bootstrap or ensemble run has the parent's settings.
  const own = ['config.json', 'run.yaml'].some((f) => fs.existsSync(path.join(abs, f)));
  const parent = path.dirname(abs);
  const home = !own && /^(fold|boot|ens)_\d+$/.test(path.basename(abs)) && fs.existsSync(path.join(parent, 'config.json')) ? parent : abs;
  const configFile = path.join(home, 'config.json');
  const yamlFile = path.join(home, 'run.yaml');
  let spec: RunSpec;
  if (fs.existsSync(configFile)) {
    let json: any;
    try {
      json = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    } catch (err) {
      throw new Error(`${configFile} is not valid JSON (${(err as Error).message}): the run's resolved settings are damaged; train again from the run file`, {
        cause: err,
      });
    }
    for (const key of ['name', 'mode', 'model', 'data', 'train'] as const) {
      if (json?.[key] === undefined) throw new Error(`${configFile} has no "${key}": it is not a hyperlab run configuration (hyperlab train writes one)`);
    }
    spec = { ...json, raw: json.raw ?? {} } as RunSpec;
  } else if (fs.existsSync(yamlFile)) {
    // Paths in run.yaml are relative to the original file, which may have lived elsewhere.
    spec = loadRunSpec(yamlFile);
  } else {
    throw new Error(`${abs} is not a run directory: it holds neither config.json nor run.yaml (hyperlab train writes both into every run directory)`);
  }
  if (home !== abs) spec = { ...spec, name: `${spec.name}/${path.basename(abs)}` };
  return { dir: abs, spec };
}

/** The checkpoint directory `checkpoints/<which>`, checked to hold a complete checkpoint. */
export function checkpointDir(run: RunDir, which: CheckpointName = 'best'): string {
  if (which !== 'best' && which !== 'last') throw new Error(`checkpoint must be 'best' or 'last', got '${which}'`);
  const dir = path.join(run.dir, 'checkpoints', which);
  const subs = subRuns(run.dir);
  if (!fs.existsSync(path.join(run.dir, 'checkpoints')) && subs.length) {
    throw new Error(
      `run ${run.spec.name} trained ${subs.length} models, one per sub-run (${subs.slice(0, 3).join(', ')}${subs.length > 3 ? ', ...' : ''}), ` +
        `and has no checkpoint of its own: give a sub-run directory, e.g. ${path.join(run.dir, subs[0])}`,
    );
  }
  try {
    loadCheckpoint(dir).dispose();
  } catch (err) {
    const other = which === 'best' ? 'last' : 'best';
    const hint = fs.existsSync(path.join(run.dir, 'checkpoints', other, CHECKPOINT_FILE)) ? `, or use --checkpoint ${other}` : '';
    // An absent checkpoint means no finished epoch; anything else there is damage, said as such.
    const absent = !fs.existsSync(dir) || fs.readdirSync(dir).length === 0;
    throw new Error(
      absent
        ? `run ${run.spec.name}: no checkpoint in ${dir}. The run has not finished an epoch yet: train it (hyperlab train RUN.yaml)${hint}`
        : `run ${run.spec.name}: the checkpoint in ${dir} is damaged (${(err as Error).message})${hint}; ` +
            'to train on, `hyperlab train RUN.yaml --resume-from best` or start over with `--restart`',
      { cause: err },
    );
  }
  return dir;
}

/** The epoch and best value a checkpoint records, read from checkpoint.json alone (no weights); null when absent. */
export function checkpointInfo(run: RunDir, which: CheckpointName): { epoch: number | null; bestMetric: number | null; createdAt: string } | null {
  const file = path.join(run.dir, 'checkpoints', which, CHECKPOINT_FILE);
  try {
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    return { epoch: j.epoch ?? null, bestMetric: typeof j.bestMetric === 'number' ? j.bestMetric : null, createdAt: j.createdAt ?? '' };
  } catch {
    return null;
  }
}

/** The input scaler the run fitted on its training split, or null when the run does not standardise. */
export function runScaler(run: RunDir): StandardScaler | null {
  const d = run.spec.data as XanesDataSpec;
  if (run.spec.data.kind !== 'xanes' || !d.standardScaler) return null;
  const file = path.join(run.dir, 'scaler.json');
  if (!fs.existsSync(file)) {
    throw new Error(`run ${run.spec.name} standardises its inputs (standardscaler: true) but ${file} is missing: train the run again to write it`);
  }
  try {
    return StandardScaler.fromJSON(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** The sample ids the run trained and validated on (split.json), or null when it has none. */
export function runSplit(run: RunDir): { train: string[]; validation: string[] } | null {
  const file = path.join(run.dir, 'split.json');
  if (!fs.existsSync(file)) return null;
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(j.train) || !Array.isArray(j.validation)) {
    throw new Error(`${file} should hold {"train": [ids], "validation": [ids]}; it is damaged: train the run again to rewrite it`);
  }
  return { train: j.train.map(String), validation: j.validation.map(String) };
}

/**
 * The energy grid (eV) of the run's spectra: the first spectrum of its spectra folder
 * (XANESNET's data share one grid), or of `fallbackDir` when the run's folder is gone.
 */
export function runEnergyGrid(run: RunDir, fallbackDir?: string | null): Float64Array {
  const d = run.spec.data as XanesDataSpec;
  for (const dir of [d.xanesPath, fallbackDir]) {
    if (!dir || !fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) continue;
    const first = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.txt') && !f.startsWith('.'))
      .sort()[0];
    if (first) return readSpectrum(path.join(dir, first)).energies;
  }
  throw new Error(
    `run ${run.spec.name}: cannot find its energy grid: the spectra folder it trained on (${d.xanesPath}) is missing or holds no .txt spectrum. ` +
      'Put the training spectra back there, or give --targets with spectra on the same grid',
  );
}
