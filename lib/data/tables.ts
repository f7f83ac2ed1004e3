/**
 * The small UCI tables that scikit-learn ships (iris, wine, breast cancer, digits, diabetes), read
 * from hyperlab's datasets/tables/ into plain typed arrays.
 *
 *     const iris = loadIris();            // x: 150 x 4 (row-major Float32Array), y: Int32Array of 0..2
 *     const { x, y } = tableToTensors(iris);   // tf tensors, when you want them (dispose them)
 *
 * No tensors are made unless asked for, so loading leaks nothing. The files are byte-for-byte the
 * copies in scikit-learn 1.2.1 (see datasets/README.md for sources and formats):
 * - iris.csv, wine_data.csv, breast_cancer.csv: a header `n_samples,n_features,<class names...>`,
 *   then per row the features and the integer class.
 * - digits.csv.gz: no header; 64 pixel values (8x8 image, 0..16) then the digit 0..9.
 * - diabetes_data_raw.csv.gz (10 raw features) and diabetes_target.csv.gz (disease progression):
 *   space separated, no header. The features are the raw values (sklearn's `scaled=False`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { tf } from '../engine/tf';
import { datasetsDir } from './paths';

export type TableTask = 'classification' | 'binary' | 'regression';

export interface DataTable {
  /** Short name: iris, wine, breast_cancer, digits, diabetes. */
  name: string;
  /** Features, row-major: sample i, feature j is x[i * nFeatures + j]. */
  x: Float32Array;
  /** Targets: class indices (Int32Array) for classification and binary, values (Float32Array) for regression. */
  y: Int32Array | Float32Array;
  nSamples: number;
  nFeatures: number;
  featureNames?: string[];
  classNames?: string[];
  task: TableTask;
  /** Height and width when each row is an image (digits: [8, 8]). */
  imageShape?: [number, number];
  /** The files read. */
  files: string[];
}

export interface TableOptions {
  /** Folder holding the table files; defaults to <package>/datasets/tables. */
  dir?: string;
}

// Feature names as scikit-learn 1.2.1 gives them (the CSV files do not carry them).
const IRIS_FEATURES = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];
const WINE_FEATURES = [
  'alcohol',
  'malic_acid',
  'ash',
  'alcalinity_of_ash',
  'magnesium',
  'total_phenols',
  'flavanoids',
  'nonflavanoid_phenols',
  'proanthocyanins',
  'color_intensity',
  'hue',
  'od280/od315_of_diluted_wines',
  'proline',
];
const CANCER_MEASURES = ['radius', 'texture', 'perimeter', 'area', 'smoothness', 'compactness', 'concavity', 'concave points', 'symmetry', 'fractal dimension'];
const CANCER_FEATURES = [...CANCER_MEASURES.map((f) => `mean ${f}`), ...CANCER_MEASURES.map((f) => `${f} error`), ...CANCER_MEASURES.map((f) => `worst ${f}`)];
const DIABETES_FEATURES = ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'];
const DIGITS_FEATURES = Array.from({ length: 64 }, (_, i) => `pixel_${Math.floor(i / 8)}_${i % 8}`);

function tableFile(name: string, opts: TableOptions): string {
  const dir = opts.dir ?? path.join(datasetsDir(), 'tables');
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    throw new Error(
      `table file ${file} is missing: expected scikit-learn's ${name} there ` + `(hyperlab ships it in datasets/tables/, see datasets/README.md)`,
    );
  }
  return file;
}

/** The text of a file, gunzipped when its name ends in .gz. */
function readText(file: string): string {
  const bytes = fs.readFileSync(file);
  if (!file.endsWith('.gz')) return bytes.toString('utf8');
  try {
    return zlib.gunzipSync(bytes).toString('utf8');
  } catch (e) {
    throw new Error(`${file}: not a readable gzip file (${(e as Error).message}); restore it from datasets/`);
  }
}

/** Non-blank lines with their 1-based line numbers. */
function lines(text: string): { line: number; text: string }[] {
  return text
    .split(/\r?\n/)
    .map((t, i) => ({ line: i + 1, text: t.trim() }))
    .filter((l) => l.text !== '');
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseNumber(token: string, where: string): number {
  if (!NUMBER.test(token)) throw new Error(`${where}: "${token}" is not a number`);
  return Number(token);
}

function parseClass(token: string, nClasses: number, where: string): number {
  const v = parseNumber(token, where);
  if (!Number.isInteger(v) || v < 0 || v >= nClasses) {
    throw new Error(`${where}: the class label "${token}" should be an integer from 0 to ${nClasses - 1}`);
  }
  return v;
}

/**
 * Rows of `nFeatures` numbers then one integer class label 0..nClasses-1, split on `sep`.
 * Returns row-major features and the labels.
 */
function parseLabelledRows(
  rows: { line: number; text: string }[],
  nFeatures: number,
  nClasses: number,
  file: string,
  sep: RegExp,
): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(rows.length * nFeatures);
  const y = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    const where = `${file}, line ${r.line}`;
    const tokens = r.text.split(sep).map((t) => t.trim());
    if (tokens.length !== nFeatures + 1) {
      throw new Error(`${where}: expected ${nFeatures + 1} values (${nFeatures} features then the class), found ${tokens.length}`);
    }
    for (let j = 0; j < nFeatures; j++) x[i * nFeatures + j] = parseNumber(tokens[j], `${where}, column ${j + 1}`);
    y[i] = parseClass(tokens[nFeatures], nClasses, `${where}, column ${nFeatures + 1}`);
  });
  return { x, y };
}

/**
 * scikit-learn's headered CSV (its `load_csv_data`): line 1 is `n_samples,n_features,<class names>`,
 * then n_samples rows of n_features values and the class index.
 */
function loadHeaderedCsv(name: string, fileName: string, featureNames: string[], task: TableTask, opts: TableOptions): DataTable {
  const file = tableFile(fileName, opts);
  const rows = lines(readText(file));
  if (rows.length === 0) throw new Error(`${file} is empty: expected a header \`n_samples,n_features,<class names>\` and data rows`);
  const header = rows[0].text.split(',').map((t) => t.trim());
  const nSamples = Number(header[0]);
  const nFeatures = Number(header[1]);
  const classNames = header.slice(2);
  if (!Number.isInteger(nSamples) || !Number.isInteger(nFeatures) || nSamples <= 0 || nFeatures <= 0 || classNames.length === 0) {
    throw new Error(`${file}, line ${rows[0].line}: expected the header \`n_samples,n_features,<class names...>\`, found "${rows[0].text}"`);
  }
  const data = rows.slice(1);
  if (data.length !== nSamples) {
    throw new Error(`${file}: the header promises ${nSamples} rows, the file has ${data.length}; the file is truncated or edited`);
  }
  const { x, y } = parseLabelledRows(data, nFeatures, classNames.length, file, /,/);
  if (featureNames.length !== nFeatures) {
    throw new Error(`${file}: expected ${featureNames.length} features (${name}), the header says ${nFeatures}`);
  }
  return { name, x, y, nSamples, nFeatures, featureNames, classNames, task, files: [file] };
}

/** Iris: 150 flowers, 4 measurements (cm), 3 species. */
export function loadIris(opts: TableOptions = {}): DataTable {
  return loadHeaderedCsv('iris', 'iris.csv', IRIS_FEATURES, 'classification', opts);
}

/** Wine: 178 wines, 13 chemical measurements, 3 cultivars. */
export function loadWine(opts: TableOptions = {}): DataTable {
  return loadHeaderedCsv('wine', 'wine_data.csv', WINE_FEATURES, 'classification', opts);
}

/** Breast cancer (Wisconsin diagnostic): 569 tumours, 30 features, 0 = malignant, 1 = benign. */
export function loadBreastCancer(opts: TableOptions = {}): DataTable {
  return loadHeaderedCsv('breast_cancer', 'breast_cancer.csv', CANCER_FEATURES, 'binary', opts);
}

/** Digits: 1797 handwritten digits as 8x8 images of integers 0..16 (64 features), labels 0..9. */
export function loadDigits(opts: TableOptions = {}): DataTable {
  const file = tableFile('digits.csv.gz', opts);
  const rows = lines(readText(file));
  if (rows.length === 0) throw new Error(`${file} is empty: expected rows of 64 pixel values then the digit`);
  const { x, y } = parseLabelledRows(rows, 64, 10, file, /,/);
  return {
    name: 'digits',
    x,
    y,
    nSamples: rows.length,
    nFeatures: 64,
    featureNames: DIGITS_FEATURES,
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    task: 'classification',
    imageShape: [8, 8],
    files: [file],
  };
}

/** Diabetes: 442 patients, 10 raw (unscaled) features; the target is disease progression after one year. */
export function loadDiabetes(opts: TableOptions = {}): DataTable {
  const dataFile = tableFile('diabetes_data_raw.csv.gz', opts);
  const targetFile = tableFile('diabetes_target.csv.gz', opts);
  const rows = lines(readText(dataFile));
  const targets = lines(readText(targetFile));
  if (rows.length === 0) throw new Error(`${dataFile} is empty: expected rows of 10 space-separated features`);
  if (rows.length !== targets.length) {
    throw new Error(`${dataFile} has ${rows.length} rows but ${targetFile} has ${targets.length}: they must pair up row by row`);
  }
  const nFeatures = 10;
  const x = new Float32Array(rows.length * nFeatures);
  const y = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    const where = `${dataFile}, line ${r.line}`;
    const tokens = r.text.split(/\s+/);
    if (tokens.length !== nFeatures) throw new Error(`${where}: expected ${nFeatures} space-separated features, found ${tokens.length}`);
    tokens.forEach((t, j) => (x[i * nFeatures + j] = parseNumber(t, `${where}, column ${j + 1}`)));
    const t = targets[i];
    const tt = t.text.split(/\s+/);
    if (tt.length !== 1) throw new Error(`${targetFile}, line ${t.line}: expected one target value, found ${tt.length}`);
    y[i] = parseNumber(tt[0], `${targetFile}, line ${t.line}`);
  });
  return {
    name: 'diabetes',
    x,
    y,
    nSamples: rows.length,
    nFeatures,
    featureNames: DIABETES_FEATURES,
    task: 'regression',
    files: [dataFile, targetFile],
  };
}

const LOADERS: Record<string, (opts?: TableOptions) => DataTable> = {
  iris: loadIris,
  wine: loadWine,
  breast_cancer: loadBreastCancer,
  digits: loadDigits,
  diabetes: loadDiabetes,
};

/** The names loadBuiltinTable accepts. */
export const BUILTIN_TABLES = Object.keys(LOADERS);

/** A table by name (for run files): iris, wine, breast_cancer, digits or diabetes. */
export function loadBuiltinTable(name: string, opts: TableOptions = {}): DataTable {
  const load = LOADERS[name];
  if (!load) throw new Error(`unknown table "${name}": choose one of ${BUILTIN_TABLES.join(', ')}`);
  return load(opts);
}

/**
 * The table as tensors: x of shape [nSamples, nFeatures] (float32) and y of shape [nSamples]
 * (int32 class indices, or float32 values for regression). The caller disposes them.
 */
export function tableToTensors(t: DataTable): { x: tf.Tensor2D; y: tf.Tensor1D } {
  const x = tf.tensor2d(t.x, [t.nSamples, t.nFeatures], 'float32');
  const y = tf.tensor1d(t.y, t.y instanceof Int32Array ? 'int32' : 'float32');
  return { x, y };
}
