/**
 * The samples `hyperlab predict` runs a XANESNET model on: model inputs, and targets
 * where they can be found.
 *
 * - structure -> spectrum runs (train_xyz): inputs are .xyz files, featurised with the
 *   run's descriptor; targets are spectra `<id>.txt` in the paired folder.
 * - spectrum -> structure runs (train_xanes): inputs are spectra on the run's energy grid;
 *   targets are the descriptors of the structures `<id>.xyz` in the paired folder.
 *
 * Where the samples come from:
 *   'validation'   the run's validation split (split.json) from the folders it trained on
 *   'test'         the embedded Fe K-edge test complexes (datasets/xanes-fe/*_test)
 *   a folder       every input file in it; targets from `targets`, else from the sibling
 *                  folder whose name swaps "xyz" and "xanes" (xyz_test <-> xanes_test)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { XanesDataSpec } from '../config';
import { makeDescriptor, StructureDescriptor } from '../data/descriptors/index';
import { readSpectrum, readXyz, xanesFeDirs } from '../data/xanes';
import { RunDir, runSplit } from './run_dir';

export type Direction = 'structure->spectrum' | 'spectrum->structure';

export interface PredictInputs {
  ids: string[];
  /** Model inputs before scaling, row-major [ids.length, nIn]. */
  x: Float32Array;
  nIn: number;
  /** Targets [ids.length, nOut]; rows without a target file are NaN. Null when no sample has one. */
  targets: Float32Array | null;
  /** How many samples have a target. */
  nTargets: number;
  /** What the samples are ('validation split of <run>', 'embedded test set', the folder). */
  source: string;
  /** A short name for output folders: 'validation', 'test' or the input folder's name. */
  label: string;
  inputDir: string;
  targetDir: string | null;
}

export interface InputOptions {
  /** 'validation' (default), 'test', or a folder of inputs. */
  data?: string;
  /** A folder of targets (default: the paired folder, when it exists). */
  targets?: string | null;
}

export function directionOf(mode: string): Direction {
  return mode === 'train_xanes' ? 'spectrum->structure' : 'structure->spectrum';
}

const listStems = (dir: string, ext: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(ext) && !f.startsWith('.'))
    .map((f) => f.slice(0, -ext.length))
    .sort();

/** The folder paired with `dir`: its name with "xyz" and "xanes" swapped, if that folder exists. */
export function pairedFolder(dir: string): string | null {
  const base = path.basename(dir);
  const swapped = base.includes('xanes') ? base.replace('xanes', 'xyz') : base.includes('xyz') ? base.replace('xyz', 'xanes') : null;
  if (!swapped) return null;
  const other = path.join(path.dirname(dir), swapped);
  return fs.existsSync(other) && fs.statSync(other).isDirectory() ? other : null;
}

function sameGrid(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 1e-6 * Math.max(1, Math.abs(b[i]))) return false;
  return true;
}

function gridText(e: ArrayLike<number>): string {
  return `${e.length} points, ${e[0]} to ${e[e.length - 1]} eV`;
}

/** One spectrum's intensities, checked to lie on the run's grid. */
function spectrumOnGrid(file: string, grid: Float64Array): Float64Array {
  const s = readSpectrum(file);
  if (!sameGrid(s.energies, grid)) {
    throw new Error(
      `${file}: its energy grid (${gridText(s.energies)}) is not the run's (${gridText(grid)}); the model only reads spectra on the grid it was trained on: re-sample the spectrum first`,
    );
  }
  return s.intensities;
}

function descriptorOf(desc: StructureDescriptor, file: string, coordinates: 'float64' | 'float32' = 'float64'): Float64Array {
  const f = desc.transform(readXyz(file, { coordinates }));
  if (f.length !== desc.length) throw new Error(`descriptor ${desc.type} gave ${f.length} features for ${file}, expected ${desc.length}`);
  return Float64Array.from(f);
}

/** Where the inputs and targets live and which ids to take. */
function locate(
  run: RunDir,
  opts: InputOptions,
  dir: Direction,
): { ids: string[] | null; xyzDir: string | null; xanesDir: string | null; source: string; label: string } {
  const d = run.spec.data as XanesDataSpec;
  const data = opts.data ?? 'validation';
  if (data === 'validation') {
    const split = runSplit(run);
    if (!split)
      throw new Error(
        `run ${run.spec.name}: ${path.join(run.dir, 'split.json')} is missing, so its validation split is unknown: give --data test or --data FOLDER`,
      );
    // Augmented samples (data_augment) were made in memory during training: they have no files.
    const ids = split.validation.filter((id) => !/^augmented_\d+$/.test(id));
    const left = split.validation.length - ids.length;
    const source = `the validation split of ${run.spec.name}${left ? ` (without its ${left} augmented sample(s), which exist only in training)` : ''}`;
    return { ids, xyzDir: d.xyzPath, xanesDir: d.xanesPath, source, label: 'validation' };
  }
  if (data === 'test') {
    const { xyzDir, xanesDir } = xanesFeDirs('test');
    return { ids: null, xyzDir, xanesDir, source: 'the embedded Fe K-edge test set (datasets/xanes-fe)', label: 'test' };
  }
  const folder = path.resolve(data);
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
    throw new Error(
      `--data ${data}: no folder ${folder}; give 'validation', 'test' or a folder of ${dir === 'structure->spectrum' ? '.xyz structures' : '.txt spectra'}`,
    );
  }
  const targets = opts.targets === undefined || opts.targets === null ? pairedFolder(folder) : path.resolve(opts.targets);
  if (targets && (!fs.existsSync(targets) || !fs.statSync(targets).isDirectory())) throw new Error(`--targets ${opts.targets}: no folder ${targets}`);
  const forward = dir === 'structure->spectrum';
  return { ids: null, xyzDir: forward ? folder : targets, xanesDir: forward ? targets : folder, source: folder, label: path.basename(folder) };
}

/** Featurise the samples to predict (see the top of this file). `grid` is the run's energy grid. */
export function loadPredictInputs(run: RunDir, dir: Direction, grid: Float64Array, opts: InputOptions = {}): PredictInputs {
  const d = run.spec.data as XanesDataSpec;
  const forward = dir === 'structure->spectrum';
  const where = locate(run, opts, dir);
  const inputDir = (forward ? where.xyzDir : where.xanesDir)!;
  const targetDir = forward ? where.xanesDir : where.xyzDir;
  const inExt = forward ? '.xyz' : '.txt';
  const outExt = forward ? '.txt' : '.xyz';
  if (!fs.existsSync(inputDir)) throw new Error(`the input folder ${inputDir} does not exist (${where.source})`);
  let ids = where.ids ?? listStems(inputDir, inExt);
  if (ids.length === 0) {
    const other = listStems(inputDir, outExt).length;
    throw new Error(
      `${inputDir} holds no ${inExt} file to predict from` +
        (other
          ? `; it holds ${outExt} files: run ${run.spec.name} predicts ${forward ? 'spectra from structures' : 'structures from spectra'}, so give the folder of ${inExt} files`
          : ''),
    );
  }
  const missing = ids.filter((id) => !fs.existsSync(path.join(inputDir, id + inExt)));
  if (missing.length)
    throw new Error(
      `${inputDir} lacks ${missing
        .slice(0, 5)
        .map((m) => m + inExt)
        .join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''} (${where.source})`,
    );
  ids = ids.slice();

  const desc = makeDescriptor(d.descriptor);
  // Coordinates read as the run read them (runs written before the option have none: float64).
  const coords = d.coordinates ?? 'float64';
  const nIn = forward ? desc.length : grid.length;
  const nOut = forward ? grid.length : desc.length;
  const x = new Float32Array(ids.length * nIn);
  const hasTargetDir = targetDir !== null && fs.existsSync(targetDir);
  const targets = hasTargetDir ? new Float32Array(ids.length * nOut).fill(NaN) : null;
  let nTargets = 0;
  ids.forEach((id, i) => {
    const input = path.join(inputDir, id + inExt);
    x.set(forward ? descriptorOf(desc, input, coords) : spectrumOnGrid(input, grid), i * nIn);
    if (!targets) return;
    const t = path.join(targetDir!, id + outExt);
    if (!fs.existsSync(t)) return;
    targets.set(forward ? spectrumOnGrid(t, grid) : descriptorOf(desc, t, coords), i * nOut);
    nTargets++;
  });
  return {
    ids,
    x,
    nIn,
    targets: nTargets > 0 ? targets : null,
    nTargets,
    source: where.source,
    label: where.label,
    inputDir,
    targetDir: nTargets > 0 ? targetDir : null,
  };
}
