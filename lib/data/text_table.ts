/**
 * Rows of numbers as an aligned text table, each number through `fmt` (a few
 * significant digits, no float32 noise; whole numbers such as counts in full), for
 * `console.log` in a notebook:
 *
 *     console.log(fmtTable([{ mode: 'mlp', mse: 0.012345678 }, { mode: 'cnn', mse: 0.0201 }]));
 *     // mode  mse
 *     // mlp   0.01235
 *     // cnn   0.0201
 *
 * Columns are the keys of all rows in first-seen order; text is left-aligned, numbers right-aligned.
 */
import { fmt } from '../notebook/fmt';

export function fmtTable(rows: Record<string, unknown>[], digits = 4): string {
  if (!Array.isArray(rows)) throw new Error(`fmtTable: expected a list of rows (objects), got ${typeof rows}`);
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown): string => {
    if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : fmt(v, digits); // counts stay exact
    return v === undefined ? '' : typeof v === 'string' ? v : fmt(v as never, digits);
  };
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const numeric = columns.map((c) => rows.every((r) => r[c] === undefined || typeof r[c] === 'number'));
  const widths = columns.map((c, j) => Math.max(c.length, ...cells.map((row) => row[j].length)));
  const line = (values: string[]) =>
    values
      .map((v, j) => (numeric[j] ? v.padStart(widths[j]) : v.padEnd(widths[j])))
      .join('  ')
      .trimEnd();
  return [line(columns), ...cells.map(line)].join('\n');
}
