/**
 * CSV and Parquet tables, through nodejs-polars.
 *
 *     const t = readTable('spectra.csv');        // {columns, nRows, data: {energy: Float32Array, ...}}
 *     const x = tableMatrix(t, ['f0', 'f1']);    // {data: Float32Array, shape: [nRows, 2]}
 *     writeTable('pred.parquet', {id: ids, y0: pred0}, {overwrite: true});
 *     const df = readDataFrame('big.parquet');   // the polars DataFrame itself
 *
 * Numeric and boolean columns come back as Float32Array (missing values as NaN),
 * other columns as string[]. The format follows the extension (.csv, .parquet).
 *
 * polars is loaded on first use. If its native package cannot load (e.g. no
 * prebuilt binary for this platform or Node version), CSV falls back to a small
 * reader/writer in this file; Parquet then needs polars and says so.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Polars from 'nodejs-polars';

export interface Table {
  columns: string[];
  nRows: number;
  data: Record<string, Float32Array | string[]>;
}

export type ColumnInput = Float32Array | Float64Array | Int32Array | number[] | string[];

let polars: typeof Polars | null | undefined;
let polarsError = '';

/** nodejs-polars, or null (with the reason in polarsError) when it cannot load. */
function loadPolars(): typeof Polars | null {
  if (polars === undefined) {
    try {
      polars = require('nodejs-polars') as typeof Polars;
    } catch (e) {
      polars = null;
      polarsError = (e as Error).message.split('\n')[0];
    }
  }
  return polars;
}

type Format = 'csv' | 'parquet';

function formatOf(file: string, where: string): Format {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  throw new Error(`${where}: cannot tell the format of '${file}' from its extension; use .csv or .parquet`);
}

function needPolars(what: string): typeof Polars {
  const pl = loadPolars();
  if (!pl) {
    throw new Error(
      `${what} needs nodejs-polars, which did not load (${polarsError}). Install it with \`npm install nodejs-polars\` (on Linux x64 also nodejs-polars-linux-x64-gnu), or use CSV.`,
    );
  }
  return pl;
}

function checkReadable(file: string, where: string): string {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new Error(`${where}: file not found: ${abs}. Check the path (relative paths start at ${process.cwd()}).`);
  return abs;
}

/** The polars DataFrame of a CSV or Parquet file. */
export function readDataFrame(file: string): Polars.DataFrame {
  const abs = checkReadable(file, 'readDataFrame');
  const pl = needPolars(`reading ${abs} as a DataFrame`);
  try {
    return formatOf(abs, 'readDataFrame') === 'csv' ? pl.readCSV(abs) : pl.readParquet(abs);
  } catch (e) {
    throw new Error(`readDataFrame: polars could not read ${abs}: ${(e as Error).message}`);
  }
}

/** Read a CSV or Parquet file; `columns` picks (and orders) a subset. */
export function readTable(file: string, options: { columns?: string[] } = {}): Table {
  const abs = checkReadable(file, 'readTable');
  const format = formatOf(abs, 'readTable');
  let table: Table;
  if (loadPolars()) {
    const df = readDataFrame(abs);
    const data: Table['data'] = {};
    for (const name of df.columns) {
      const s = df.getColumn(name);
      const values = s.toArray() as unknown[];
      const numeric = s.isNumeric() || s.dtype.variant === 'Bool';
      data[name] = numeric
        ? Float32Array.from(values, (v) => (v === null || v === undefined ? NaN : Number(v)))
        : values.map((v) => (v === null || v === undefined ? '' : String(v)));
    }
    table = { columns: df.columns, nRows: df.height, data };
  } else if (format === 'csv') {
    table = parseCsv(fs.readFileSync(abs, 'utf8'), abs);
  } else {
    needPolars(`reading the Parquet file ${abs}`);
    throw new Error('unreachable');
  }
  if (!options.columns) return table;
  const missing = options.columns.filter((c) => !(c in table.data));
  if (missing.length)
    throw new Error(`readTable: ${abs} has no column ${missing.map((c) => `'${c}'`).join(', ')}; its columns are ${table.columns.join(', ')}`);
  return { columns: options.columns.slice(), nRows: table.nRows, data: Object.fromEntries(options.columns.map((c) => [c, table.data[c]])) };
}

/** Numeric columns of a table side by side: {data, shape: [nRows, names.length]} (row-major), e.g. for StandardScaler. */
export function tableMatrix(table: Table, names: string[]): { data: Float32Array; shape: [number, number] } {
  const cols = names.map((n) => {
    const c = table.data[n];
    if (!c) throw new Error(`tableMatrix: no column '${n}'; the table has ${table.columns.join(', ')}`);
    if (!(c instanceof Float32Array)) throw new Error(`tableMatrix: column '${n}' is text, not numbers`);
    return c;
  });
  const out = new Float32Array(table.nRows * names.length);
  for (let i = 0; i < table.nRows; i++) for (let j = 0; j < cols.length; j++) out[i * cols.length + j] = cols[j][i];
  return { data: out, shape: [table.nRows, names.length] };
}

/**
 * Write columns (all the same length) to a CSV or Parquet file. Float32Array
 * columns are stored as float32, Float64Array and number[] as float64,
 * Int32Array as int32, string[] as text. The file is written under a temporary
 * name and then moved into place; an existing file is replaced only with
 * {overwrite: true}.
 */
export function writeTable(file: string, columns: Record<string, ColumnInput>, options: { overwrite?: boolean } = {}): void {
  const abs = path.resolve(file);
  const format = formatOf(abs, 'writeTable');
  const names = Object.keys(columns);
  if (names.length === 0) throw new Error('writeTable: no columns to write');
  const n = columns[names[0]].length;
  for (const name of names) {
    if (columns[name].length !== n)
      throw new Error(`writeTable: column '${name}' has ${columns[name].length} rows, '${names[0]}' has ${n}; all columns need the same length`);
  }
  if (fs.existsSync(abs) && !options.overwrite) throw new Error(`writeTable: ${abs} already exists; pass {overwrite: true} to replace it`);
  if (!fs.existsSync(path.dirname(abs))) throw new Error(`writeTable: the folder ${path.dirname(abs)} does not exist; create it first`);
  const tmp = `${abs}.partial-${process.pid}${path.extname(abs)}`;
  try {
    const pl = loadPolars();
    if (pl) {
      const df = pl.DataFrame(names.map((name) => pl.Series(name, columns[name] as any)));
      if (format === 'csv') df.writeCSV(tmp);
      else df.writeParquet(tmp);
    } else if (format === 'csv') {
      fs.writeFileSync(tmp, formatCsv(columns));
    } else {
      needPolars(`writing the Parquet file ${abs}`);
    }
    fs.renameSync(tmp, abs);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

// ------------------------------------------------- the CSV fallback (no polars)

/** Split CSV text into rows of fields (RFC 4180: quotes, doubled quotes, newlines in quotes). */
/** The rows of CSV text, each with the 1-based line it starts on (blank lines skipped; quoted newlines kept). */
function csvRows(text: string): { fields: string[]; line: number }[] {
  const rows: { fields: string[]; line: number }[] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') {
        i++;
        line++;
      }
      row.push(field);
      rows.push({ fields: row, line: start });
      row = [];
      field = '';
      start = line;
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push({ fields: row, line: start });
  }
  return rows.filter((r) => !(r.fields.length === 1 && r.fields[0] === ''));
}

const BOOL = /^(true|false)$/i;

/**
 * A table from CSV text with a header row; columns whose values all parse as numbers (or
 * are empty) become Float32Array, and so do columns of true/false (1/0), as polars reads them.
 */
export function parseCsv(text: string, where = 'CSV'): Table {
  const rows = csvRows(text);
  if (rows.length === 0) throw new Error(`${where}: the file is empty; a CSV table needs a header row`);
  const [{ fields: header }, ...body] = rows;
  for (const r of body) {
    if (r.fields.length !== header.length) {
      throw new Error(`${where}: line ${r.line} has ${r.fields.length} fields, the header has ${header.length}; check the commas and quotes on that line`);
    }
  }
  const data: Table['data'] = {};
  header.forEach((name, j) => {
    const raw = body.map((r) => r.fields[j]);
    const isBool = raw.some((v) => v.trim() !== '') && raw.every((v) => v.trim() === '' || BOOL.test(v.trim()));
    const isNum = raw.every((v) => v.trim() === '' || !Number.isNaN(Number(v)) || /^[+-]?(nan|inf|infinity)$/i.test(v.trim()));
    data[name] = isBool
      ? Float32Array.from(raw, (v) => (v.trim() === '' ? NaN : v.trim().toLowerCase() === 'true' ? 1 : 0))
      : isNum
        ? Float32Array.from(raw, (v) => {
            const t = v.trim().toLowerCase();
            if (t === '' || t === 'nan') return NaN;
            if (/^[+]?inf(inity)?$/.test(t)) return Infinity;
            if (/^-inf(inity)?$/.test(t)) return -Infinity;
            return Number(t);
          })
        : raw;
  });
  return { columns: header, nRows: body.length, data };
}

/** CSV text of columns (header row first); text fields with commas, quotes or newlines are quoted. */
export function formatCsv(columns: Record<string, ColumnInput>): string {
  const names = Object.keys(columns);
  const n = names.length ? columns[names[0]].length : 0;
  const cell = (v: string | number) => {
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [names.map(cell).join(',')];
  for (let i = 0; i < n; i++) lines.push(names.map((c) => cell(columns[c][i])).join(','));
  return lines.join('\n') + '\n';
}
