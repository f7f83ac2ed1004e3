/**
 * Writing predictions the way XANESNET does (outputs/predictions_NNN/ in the original):
 *
 *     <out>/<id>.txt              a predicted spectrum in FDMNES format on the run's grid,
 *                                 or a predicted descriptor, one value per line
 *     <out>/predict-<id>.txt      the same, for autoencoders (ae_mlp, ae_cnn, aegan_mlp)...
 *     <out>/recon-<id>.txt        ...with their reconstruction of the input
 *     <out>/<id>.std.txt          ensembles and Monte Carlo dropout: the std of the predictions
 *                                 combined in <id>.txt (its mean), in the same format
 *     <out>/predictions.csv       cube models: id, probability (GR), label
 *     <out>/predictions.json      what was predicted with what (written last: a manifest)
 *
 * Files are written atomically. A folder that already holds a previous `hyperlab predict`
 * output (its predictions.json) has those files replaced; any other file in the way is
 * left alone and the write refused, unless `overwrite` is set.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatSpectrum } from '../data/xanes';
import { formatCsv } from '../data/table';
import { pyExp } from '../data/pyformat';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';

export const MANIFEST = 'predictions.json';
const FORMAT = 'hyperlab-predictions';

/** What predictions.json holds. */
export interface PredictionManifest {
  format: typeof FORMAT;
  version: 1;
  createdAt: string;
  run: string;
  runDir: string;
  checkpoint: { which: string; epoch: number | null };
  model: string;
  direction: string;
  source: string;
  ids: string[];
  files: string[];
  mse: number | null;
  mseRecon: number | null;
  nTargets: number;
  /** An ensemble or Monte Carlo dropout prediction: how it was combined (lib/runs/predict.ts); files <id>.std.txt hold the std. */
  combined?: { kind: string; models: string[]; passes: number; combine: string; count: number } | null;
  /** False while the files are being written (an interrupted write leaves it false). */
  complete?: boolean;
  /** A few samples for plots (hyperlab report): x is the energy grid or the feature index. */
  preview: { x: number[]; xLabel: string; samples: { id: string; prediction: number[]; target: number[] | null }[] };
}

/** One row of a row-major matrix. */
export const row = (m: Float32Array, i: number, n: number): Float32Array => m.subarray(i * n, (i + 1) * n);

/** A spectrum (energies given) in FDMNES format, else one value per line (XANESNET's descriptor output). */
export function formatPrediction(values: ArrayLike<number>, energies: Float64Array | null): string {
  if (energies) return formatSpectrum({ energies, intensities: Float64Array.from(values as ArrayLike<number>) });
  return Array.from(values as ArrayLike<number>, (v) => pyExp(v, 7)).join('\n') + '\n';
}

/** The previous manifest in `dir`, or null (none, or a file that is not ours). */
export function readManifest(dir: string): PredictionManifest | null {
  try {
    const j = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8'));
    return j?.format === FORMAT && Array.isArray(j.files) ? (j as PredictionManifest) : null;
  } catch {
    return null;
  }
}

/** Refuse to replace files `hyperlab predict` did not write (unless overwrite). */
function checkClashes(dir: string, files: string[], overwrite: boolean): PredictionManifest | null {
  const previous = readManifest(dir);
  if (overwrite) return previous;
  const ours = new Set(previous ? [...previous.files, MANIFEST] : []);
  const clashes = [...files, MANIFEST].filter((f) => fs.existsSync(path.join(dir, f)) && !ours.has(f));
  if (clashes.length) {
    const shown = clashes.slice(0, 5).join(', ') + (clashes.length > 5 ? ` and ${clashes.length - 5} more` : '');
    throw new Error(
      `${dir} already holds ${shown}, not written by hyperlab predict; nothing was written. Choose another --out, or pass --overwrite to replace them`,
    );
  }
  return previous;
}

/** Write `contents` (file name -> text) and then the manifest into `dir`; returns the paths written. */
export function writePredictionFiles(
  dir: string,
  contents: Map<string, string>,
  manifest: Omit<PredictionManifest, 'files' | 'format' | 'version'>,
  overwrite = false,
): string[] {
  const names = [...contents.keys()];
  const previous = checkClashes(dir, names, overwrite);
  fs.mkdirSync(dir, { recursive: true });
  // Claim the files first, so a write interrupted half-way can be redone without --overwrite.
  const claimed = [...new Set([...(previous?.files ?? []), ...names])];
  writeJsonAtomic(path.join(dir, MANIFEST), { format: FORMAT, version: 1, ...manifest, complete: false, files: claimed });
  for (const [name, text] of contents) writeFileAtomic(path.join(dir, name), text);
  writeJsonAtomic(path.join(dir, MANIFEST), { format: FORMAT, version: 1, ...manifest, complete: true, files: names });
  // Files of the previous prediction that this one did not rewrite are stale: they were ours.
  const keep = new Set(names);
  for (const f of previous?.files ?? []) if (!keep.has(f) && !f.includes('/') && !f.includes('\\')) fs.rmSync(path.join(dir, f), { force: true });
  return [...names.map((n) => path.join(dir, n)), path.join(dir, MANIFEST)];
}

/** The CSV of cube predictions: id, probability, label. */
export function cubeCsv(ids: string[], probs: Float32Array, labels: Float32Array | null): string {
  const cols: Record<string, string[] | Float32Array> = { id: ids, probability: probs };
  if (labels) cols.label = labels;
  return formatCsv(cols);
}
