/**
 * Exporting a run: `hyperlab export RUN_DIR --what ... --format ... --out DIR` and `exportRun()`.
 *
 *     metrics      metrics.csv as  <out>/metrics.csv | metrics.parquet | metrics.h5 (one dataset a column)
 *     predictions  predictRun's output as a wide table <out>/predictions.csv | .parquet
 *                  (id, pred_<energy or index>..., target_<...>...) or <out>/predictions.h5 with the
 *                  datasets ids (strings), predictions [n, m], targets [n, m] (NaN rows: no target),
 *                  energies [m] (spectra), reconstructions (autoencoders), run details as attributes
 *     weights      the checkpoint's model weights, <out>/model.safetensors (PyTorch names and layouts)
 *
 * Nothing is replaced without `overwrite`: every target file is checked before the first is written,
 * and each file is written under a temporary name and moved into place.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ColumnInput, formatCsv, writeTable } from '../data/table';
import { loadH5wasm, writeH5, H5WriteDataset } from '../data/hdf5';
import { writeFileAtomic } from '../io/atomic';
import { CHECKPOINT_FILE } from '../io/checkpoint';
import { predictRun, PredictOptions, PredictResult } from '../runs/predict';
import { CheckpointName, checkpointDir, openRunDir } from '../runs/run_dir';
import { readMetrics } from './report';

export type ExportWhat = 'metrics' | 'predictions' | 'weights' | 'all';
export type ExportFormat = 'csv' | 'parquet' | 'h5';
export const EXPORT_WHATS: ExportWhat[] = ['metrics', 'predictions', 'weights', 'all'];
export const EXPORT_FORMATS: ExportFormat[] = ['csv', 'parquet', 'h5'];

export interface ExportOptions {
  what?: ExportWhat;
  format?: ExportFormat;
  /** The folder to write into (created if needed). */
  out: string;
  overwrite?: boolean;
  /** Which checkpoint, for weights and predictions (default best). */
  checkpoint?: CheckpointName;
  /** What to predict for `predictions` (see predictRun: 'validation', 'test' or a folder) and its targets. */
  data?: string;
  targets?: string | null;
  verbose?: boolean;
}

export interface ExportResult {
  files: string[];
  /** For weights: Python that loads them into a PyTorch model. */
  pytorchSnippet: string | null;
  predictions: PredictResult | null;
}

function refuseExisting(files: string[], overwrite: boolean): void {
  if (overwrite) return;
  const there = files.filter((f) => fs.existsSync(f));
  if (there.length) throw new Error(`${there.join(', ')} already exist(s); nothing was written. Pass --overwrite to replace, or choose another --out`);
}

// ---- metrics -----------------------------------------------------------------------------------

async function exportMetrics(runDir: string, file: string, format: ExportFormat): Promise<void> {
  const h = readMetrics(runDir);
  if (!h) throw new Error(`${path.join(runDir, 'metrics.csv')} is missing: the run has not finished an epoch, so there are no metrics to export`);
  if (format === 'h5') {
    const sets: Record<string, H5WriteDataset> = {};
    for (const [k, v] of Object.entries(h)) sets[k] = { data: k === 'epoch' ? Int32Array.from(v) : Float64Array.from(v), shape: [v.length] };
    await writeH5(file, sets, { overwrite: true });
  } else {
    writeColumns(file, Object.fromEntries(Object.entries(h).map(([k, v]) => [k, k === 'epoch' ? Int32Array.from(v) : Float64Array.from(v)])));
  }
}

/**
 * A table to CSV or Parquet, replacing `file` atomically. CSV is formatted here (every value
 * written exactly, and fast for wide tables); Parquet goes through polars (lib/data/table.ts).
 */
function writeColumns(file: string, columns: Record<string, ColumnInput>): void {
  if (file.endsWith('.csv')) writeFileAtomic(file, formatCsv(columns));
  else writeTable(file, columns, { overwrite: true });
}

// ---- predictions -------------------------------------------------------------------------------

/** Column names for the outputs: the energy (2 decimals, as FDMNES files print it) or the index. */
export function outputNames(r: PredictResult): string[] {
  const m = r.shape[1];
  if (r.direction === 'cube->probability') return ['probability'];
  if (r.direction === 'structure->spectrum' && r.energies && r.energies.length === m) {
    const names = Array.from(r.energies, (e) => e.toFixed(2));
    if (new Set(names).size === m) return names;
  }
  return Array.from({ length: m }, (_, j) => String(j));
}

/** id, pred_<name>..., target_<name>... as table columns. */
export function predictionColumns(r: PredictResult): Record<string, ColumnInput> {
  const [n, m] = r.shape;
  const names = outputNames(r);
  const column = (src: Float32Array, j: number) => Float32Array.from({ length: n }, (_, i) => src[i * m + j]);
  const cols: Record<string, ColumnInput> = { id: r.ids };
  names.forEach((name, j) => (cols[`pred_${name}`] = column(r.predictions, j)));
  if (r.targets) names.forEach((name, j) => (cols[`target_${name}`] = column(r.targets!, j)));
  return cols;
}

/** predictions.h5 through h5wasm (writeH5 takes numbers only; the ids are strings). */
async function writePredictionsH5(file: string, r: PredictResult): Promise<void> {
  const h5 = await loadH5wasm();
  const tmp = `${file}.partial-${process.pid}`;
  const f = new h5.File(tmp, 'w');
  let ok = false;
  try {
    const [n, m] = r.shape;
    f.create_dataset({ name: 'ids', data: r.ids, shape: [n] });
    f.create_dataset({ name: 'predictions', data: r.predictions, shape: [n, m] });
    if (r.targets) f.create_dataset({ name: 'targets', data: r.targets, shape: [n, m] });
    if (r.energies && r.energies.length === m && r.direction === 'structure->spectrum') f.create_dataset({ name: 'energies', data: r.energies, shape: [m] });
    if (r.energies && r.direction === 'spectrum->structure') f.create_dataset({ name: 'input_energies', data: r.energies, shape: [r.energies.length] });
    if (r.reconstructions) f.create_dataset({ name: 'reconstructions', data: r.reconstructions, shape: [n, r.reconstructions.length / Math.max(n, 1)] });
    const attrs: Record<string, string | number> = { run: r.run, checkpoint: r.checkpoint.which, direction: r.direction, source: r.source };
    if (r.checkpoint.epoch !== null) attrs.epoch = r.checkpoint.epoch;
    if (r.mse !== null) attrs.mse = r.mse;
    for (const [k, v] of Object.entries(attrs)) f.create_attribute(k, v);
    ok = true;
  } finally {
    f.close();
    if (!ok) fs.rmSync(tmp, { force: true });
  }
  fs.renameSync(tmp, file);
}

// ---- weights -----------------------------------------------------------------------------------

/** Names and shapes of the tensors in a safetensors file (from its JSON header only). */
export function safetensorsKeys(bytes: Uint8Array): [string, number[]][] {
  const len = Number(Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE(0));
  const header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, len).toString('utf8'));
  return Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .map(([k, v]) => [k, (v as { shape: number[] }).shape]);
}

function exportWeights(runDir: string, file: string, which: CheckpointName): string {
  const run = openRunDir(runDir);
  const ck = checkpointDir(run, which); // checks sizes and SHA-256 of the files
  const json = JSON.parse(fs.readFileSync(path.join(ck, CHECKPOINT_FILE), 'utf8'));
  const bytes = fs.readFileSync(path.join(ck, json.files.model.file));
  writeFileAtomic(file, bytes);
  const keys = safetensorsKeys(bytes);
  const shown = keys.slice(0, 6).map(([k, s]) => `#   ${k} [${s.join(', ')}]`);
  if (keys.length > 6) shown.push(`#   ... ${keys.length - 6} more`);
  return [
    `# PyTorch: the weights of ${run.spec.name} (${run.spec.model.type}, checkpoint ${which}, epoch ${json.epoch ?? '?'})`,
    `# pip install safetensors; build the same architecture (settings in ${path.join(run.dir, 'config.json')})`,
    'from safetensors.torch import load_file',
    `state = load_file(${JSON.stringify(file)})`,
    `model.load_state_dict(state)  # keys and shapes:`,
    ...shown,
  ].join('\n');
}

// ---- all together ------------------------------------------------------------------------------

/** Export metrics, predictions and/or weights of a run (see the top of this file). */
export async function exportRun(runDir: string, opts: ExportOptions): Promise<ExportResult> {
  const what = opts.what ?? 'all';
  const format = opts.format ?? 'csv';
  if (!EXPORT_WHATS.includes(what)) throw new Error(`--what must be one of ${EXPORT_WHATS.join(', ')}, got '${what}'`);
  if (!EXPORT_FORMATS.includes(format)) throw new Error(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got '${format}'`);
  if (!opts.out) throw new Error('export needs an output folder (--out DIR)');
  const run = openRunDir(runDir);
  const out = path.resolve(opts.out);
  const parts = what === 'all' ? (['metrics', 'predictions', 'weights'] as const) : ([what] as const);
  const target = (name: string) => path.join(out, name);
  const files = parts.map((p) => (p === 'weights' ? target('model.safetensors') : target(`${p}.${format}`)));
  refuseExisting(files, opts.overwrite ?? false);
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new Error(`--out ${out} is a file; give a folder`);
  fs.mkdirSync(out, { recursive: true });

  const result: ExportResult = { files: [], pytorchSnippet: null, predictions: null };
  const say = (m: string) => opts.verbose && console.log(m);
  for (const [i, part] of parts.entries()) {
    const file = files[i];
    if (part === 'metrics') {
      await exportMetrics(run.dir, file, format);
    } else if (part === 'weights') {
      result.pytorchSnippet = exportWeights(run.dir, file, opts.checkpoint ?? 'best');
    } else {
      const p: PredictOptions = { data: opts.data, targets: opts.targets, checkpoint: opts.checkpoint, verbose: opts.verbose };
      const r = await predictRun(run.dir, p);
      result.predictions = r;
      if (format === 'h5') await writePredictionsH5(file, r);
      else writeColumns(file, predictionColumns(r));
    }
    result.files.push(file);
    say(`wrote ${file}`);
  }
  return result;
}
