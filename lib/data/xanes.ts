/**
 * XANESNET's data: .xyz structures, FDMNES spectra, and a dataset that pairs them.
 *
 *     const ds = loadXanesDataset('datasets/xanes-fe/xyz_train', 'datasets/xanes-fe/xanes_train',
 *                                 { type: 'wacsf', params: { r_min: 1, r_max: 6, n_g2: 16, n_g4: 32 } });
 *     ds.nSamples, ds.nFeatures, ds.nEnergies;   // 100, 49, 226
 *
 * Formats (as XANESNET's src/inout.py reads and writes them):
 * - .xyz: line 1 the atom count; line 2 a comment, optionally `k = v | k = v` (supplying the
 *   charge q and spin S); then one line per atom: `symbol_or_Z x y z` (Å). The absorbing atom
 *   must be atom 0.
 * - spectrum .txt (FDMNES): 2 header lines, then `energy intensity` per line.
 * Samples are the sorted intersection of the file stems of the two folders (XANESNET's ids).
 * Spectra are used raw (no scaling), as in XANESNET 2023.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../engine/tf';
import { makeDescriptor, DescriptorConfig, StructureDescriptor } from './descriptors/index';
import { atomicNumber } from './elements';
import { datasetPath } from './paths';
import { pyExp, pyFixed } from './pyformat';
import type { Structure } from './structure';

export type { Structure } from './structure';

export interface XyzOptions {
  /** A name for error messages (a file path). */
  source?: string;
  /**
   * 'float64' (default) keeps the coordinates as written; 'float32' rounds them to float32 first,
   * which is what XANESNET's reader does (`np.array(..., dtype="float32")`), for bit-faithful
   * reproductions of its descriptors (they differ at about 1e-6 relative).
   */
  coordinates?: 'float64' | 'float32';
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The `k = v | k = v` pairs of an .xyz comment line; {} when the line is not of that form. */
function parseInfo(comment: string): Record<string, number | string> {
  const info: Record<string, number | string> = {};
  if (!comment.includes('=')) return info;
  for (const pair of comment.split('|')) {
    const kv = pair.split('=');
    if (kv.length !== 2 || kv[0].trim() === '') return {};
    const v = kv[1].trim();
    info[kv[0].trim()] = NUMBER.test(v) ? Number(v) : v;
  }
  return info;
}

/** A structure from the text of an .xyz file. */
export function parseXyz(text: string, opts: XyzOptions = {}): Structure {
  const src = opts.source ?? '<xyz text>';
  const lines = text.split(/\r?\n/);
  const count = (lines[0] ?? '').trim();
  if (!/^\d+$/.test(count)) throw new Error(`${src}, line 1: expected the number of atoms, found "${lines[0] ?? ''}"`);
  const nAtoms = Number(count);
  if (nAtoms < 1) throw new Error(`${src}, line 1: a structure needs at least one atom (the absorber), found 0`);
  if (lines.length < 2) throw new Error(`${src}: the comment line (line 2) is missing`);
  const comment = lines[1].replace(/\s+$/, '');
  const numbers: number[] = [];
  const positions = new Float64Array(3 * nAtoms);
  for (let i = 0; i < nAtoms; i++) {
    const lineNo = i + 3;
    const line = lines[i + 2];
    if (line === undefined || line.trim() === '') {
      throw new Error(
        `${src}: line 1 says ${nAtoms} atoms but only ${i} coordinate lines follow (line ${lineNo} is ${line === undefined ? 'missing' : 'blank'})`,
      );
    }
    const tok = line.trim().split(/\s+/);
    if (tok.length < 4) throw new Error(`${src}, line ${lineNo}: expected "symbol_or_Z x y z", found "${line.trim()}"`);
    const z = atomicNumber(tok[0]);
    if (z === undefined) {
      throw new Error(`${src}, line ${lineNo}: "${tok[0]}" is neither an element symbol nor an atomic number 1..118`);
    }
    numbers.push(z);
    for (let d = 0; d < 3; d++) {
      const t = tok[1 + d];
      if (!NUMBER.test(t)) throw new Error(`${src}, line ${lineNo}: coordinate ${'xyz'[d]} "${t}" is not a number`);
      positions[3 * i + d] = opts.coordinates === 'float32' ? Math.fround(Number(t)) : Number(t);
    }
  }
  return { nAtoms, numbers, positions, comment, info: parseInfo(comment), source: opts.source };
}

/** A structure from an .xyz file. */
export function readXyz(file: string, opts: Omit<XyzOptions, 'source'> = {}): Structure {
  return parseXyz(readFile(file, 'structure (.xyz)'), { ...opts, source: file });
}

/** An X-ray absorption spectrum: intensity against energy (eV). */
export interface Spectrum {
  energies: Float64Array;
  intensities: Float64Array;
}

/** A spectrum from the text of an FDMNES file: 2 header lines, then `energy intensity` rows. */
export function parseSpectrum(text: string, source = '<spectrum text>'): Spectrum {
  const lines = text.split(/\r?\n/);
  if (lines.length < 3) throw new Error(`${source}: expected 2 header lines then \`energy intensity\` rows (FDMNES format), found ${lines.length} line(s)`);
  const e: number[] = [];
  const m: number[] = [];
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const tok = line.split(/\s+/);
    if (tok.length < 2 || !NUMBER.test(tok[0]) || !NUMBER.test(tok[1])) {
      throw new Error(`${source}, line ${i + 1}: expected two numbers \`energy intensity\`, found "${line}"`);
    }
    e.push(Number(tok[0]));
    m.push(Number(tok[1]));
  }
  if (e.length === 0) throw new Error(`${source}: no \`energy intensity\` rows after the 2 header lines`);
  return { energies: Float64Array.from(e), intensities: Float64Array.from(m) };
}

/** A spectrum from an FDMNES .txt file. */
export function readSpectrum(file: string): Spectrum {
  return parseSpectrum(readFile(file, 'spectrum (.txt)'), file);
}

/**
 * A spectrum as FDMNES text, byte-identical to XANESNET's save_xanes:
 * `{"FDMNES":>10}` / `{"energy":>10}{"<xanes>":>12}`, then rows `{e:>10.2f}{m:>15.7E}`.
 */
export function formatSpectrum(s: Spectrum): string {
  if (s.energies.length !== s.intensities.length) {
    throw new Error(`formatSpectrum: ${s.energies.length} energies but ${s.intensities.length} intensities`);
  }
  const rows = ['FDMNES'.padStart(10), 'energy'.padStart(10) + '<xanes>'.padStart(12)];
  for (let i = 0; i < s.energies.length; i++) rows.push(pyFixed(s.energies[i], 2).padStart(10) + pyExp(s.intensities[i], 7).padStart(15));
  return rows.join('\n') + '\n';
}

/** Write a spectrum in FDMNES format (see formatSpectrum); creates the folder if needed. */
export function writeSpectrum(file: string, s: Spectrum): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, formatSpectrum(s));
}

function readFile(file: string, what: string): string {
  if (!fs.existsSync(file)) throw new Error(`${what} file ${file} does not exist`);
  return fs.readFileSync(file, 'utf8');
}

/** Structures paired with spectra, featurised: XANESNET's X (descriptors) and Y (spectra). */
export interface XanesDataset {
  /** Sample ids (shared file stems), sorted. */
  ids: string[];
  /** Descriptors, row-major nSamples x nFeatures (float64, as computed). */
  x: Float64Array;
  /** Spectra, row-major nSamples x nEnergies (raw intensities). */
  y: Float64Array;
  /** The energy grid (eV) all spectra share. */
  energies: Float64Array;
  nSamples: number;
  nFeatures: number;
  nEnergies: number;
  descriptor: StructureDescriptor;
  /** Files present in only one of the two folders (left out). */
  unmatched: { xyz: string[]; xanes: string[] };
}

export interface XanesDatasetOptions {
  /** See XyzOptions.coordinates; 'float32' reproduces XANESNET's reader exactly. */
  coordinates?: 'float64' | 'float32';
}

/** File stems of the `ext` files of a folder (hidden files skipped). */
function stems(dir: string, ext: string, what: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${what} folder ${dir} does not exist`);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(ext) && !f.startsWith('.') && fs.statSync(path.join(dir, f)).isFile())
    .map((f) => f.slice(0, -ext.length));
}

function listSome(names: string[], ext: string): string {
  if (names.length === 0) return 'none';
  const shown = names
    .slice(0, 8)
    .map((n) => n + ext)
    .join(', ');
  return names.length > 8 ? `${shown} (and ${names.length - 8} more)` : shown;
}

/**
 * Pair `<id>.xyz` in xyzDir with `<id>.txt` in xanesDir over the sorted common ids, featurise each
 * structure with the descriptor and read each spectrum. All spectra must share one energy grid.
 */
export function loadXanesDataset(
  xyzDir: string,
  xanesDir: string,
  descriptor: StructureDescriptor | DescriptorConfig,
  opts: XanesDatasetOptions = {},
): XanesDataset {
  const d = makeDescriptor(descriptor);
  const xyz = stems(xyzDir, '.xyz', 'structure (.xyz)');
  const txt = stems(xanesDir, '.txt', 'spectrum (.txt)');
  const txtSet = new Set(txt);
  const xyzSet = new Set(xyz);
  // Python's sorted(): by code point, which for these names is JavaScript's default order too.
  const ids = xyz.filter((s) => txtSet.has(s)).sort();
  const unmatched = { xyz: xyz.filter((s) => !txtSet.has(s)).sort(), xanes: txt.filter((s) => !xyzSet.has(s)).sort() };
  if (ids.length === 0) {
    throw new Error(
      `no sample has both ${path.join(xyzDir, '<id>.xyz')} and ${path.join(xanesDir, '<id>.txt')}: ` +
        `.xyz without a spectrum: ${listSome(unmatched.xyz, '.xyz')}; .txt without a structure: ${listSome(unmatched.xanes, '.txt')}. ` +
        `A structure and its spectrum must share the file stem`,
    );
  }
  const nFeatures = d.length;
  const x = new Float64Array(ids.length * nFeatures);
  let energies: Float64Array | undefined;
  let firstSpectrum = '';
  let y = new Float64Array(0);
  ids.forEach((id, i) => {
    const s = readXyz(path.join(xyzDir, `${id}.xyz`), { coordinates: opts.coordinates });
    const f = d.transform(s);
    if (f.length !== nFeatures) throw new Error(`descriptor ${d.type} gave ${f.length} features for ${s.source}, expected ${nFeatures}`);
    x.set(f, i * nFeatures);
    const file = path.join(xanesDir, `${id}.txt`);
    const sp = readSpectrum(file);
    if (energies === undefined) {
      energies = sp.energies;
      firstSpectrum = file;
      y = new Float64Array(ids.length * energies.length);
    } else if (!sameGrid(energies, sp.energies)) {
      throw new Error(
        `${file}: its energy grid (${describeGrid(sp.energies)}) differs from ${firstSpectrum}'s (${describeGrid(energies)}); ` +
          `all spectra of a dataset must share one grid: re-sample them first`,
      );
    }
    y.set(sp.intensities, i * energies.length);
  });
  return {
    ids,
    x,
    y,
    energies: energies!,
    nSamples: ids.length,
    nFeatures,
    nEnergies: energies!.length,
    descriptor: d,
    unmatched,
  };
}

function sameGrid(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function describeGrid(e: Float64Array): string {
  return `${e.length} points, ${e[0]} to ${e[e.length - 1]} eV`;
}

/** The folders of the bundled Fe K-edge dataset (100 training, 10 test complexes). */
export function xanesFeDirs(split: 'train' | 'test'): { xyzDir: string; xanesDir: string } {
  if (split !== 'train' && split !== 'test') throw new Error(`xanes-fe split must be 'train' or 'test', got '${split}'`);
  return { xyzDir: datasetPath('xanes-fe', `xyz_${split}`), xanesDir: datasetPath('xanes-fe', `xanes_${split}`) };
}

/** The bundled Fe K-edge data, featurised with `descriptor`. */
export function loadXanesFe(split: 'train' | 'test', descriptor: StructureDescriptor | DescriptorConfig, opts: XanesDatasetOptions = {}): XanesDataset {
  const { xyzDir, xanesDir } = xanesFeDirs(split);
  return loadXanesDataset(xyzDir, xanesDir, descriptor, opts);
}

/** x [nSamples, nFeatures] and y [nSamples, nEnergies] as float32 tensors; the caller disposes them. */
export function xanesToTensors(ds: XanesDataset): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return {
    x: tf.tensor2d(Float32Array.from(ds.x), [ds.nSamples, ds.nFeatures], 'float32'),
    y: tf.tensor2d(Float32Array.from(ds.y), [ds.nSamples, ds.nEnergies], 'float32'),
  };
}
