/**
 * Lesson lint: do the cells a learner reads stay short? Counts, per lesson, the
 * visible code cells (every code cell not tagged `check`) and the check cells
 * (tagged `check`, source hidden), and fails a lesson that breaks a rule:
 *
 * - the median visible code cell has at most 8 non-blank lines, none more than 20;
 * - no visible line reaches 100 characters;
 * - at most 2 `expect*` calls in visible cells (the ones that teach);
 * - no visible cell manages memory (`dispose`, `tidy`, `keep`, scopes): the library does;
 * - every check cell is tagged `check` and has `jupyter.source_hidden: true`.
 *
 * `hyperlab lessons lint` (npm run lint:lessons) prints the table and exits 1 on a failure.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Cell, text as sourceText } from './ipynb';

export const LESSON_RULES = { medianLines: 8, maxLines: 20, maxLineChars: 99, maxVisibleExpects: 2 };

const EXPECT = /\bexpect[A-Z]\w*\s*\(/g;
const MEMORY = /\b(dispose|tidy|keep|startScope|endScope|disposeVariables)\s*\(|\.dispose\b/g;

export interface LessonLint {
  file: string;
  visibleCells: number;
  checkCells: number;
  medianLines: number;
  maxLines: number;
  longLines: number;
  visibleExpects: number;
  checkExpects: number;
  memoryCalls: number;
  problems: string[];
}

const isCheck = (c: Cell) => Array.isArray(c.metadata?.tags) && (c.metadata.tags as unknown[]).includes('check');
const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The counts and rule violations of one notebook file. */
export function lintLesson(file: string): LessonLint {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Cell[] };
  const code = nb.cells.filter((c) => c.cell_type === 'code');
  const visible = code.filter((c) => !isCheck(c));
  const checks = code.filter(isCheck);
  const problems: string[] = [];
  const lines = visible.map(
    (c) =>
      sourceText(c.source)
        .split('\n')
        .filter((l) => l.trim() !== '').length,
  );
  let longLines = 0;
  let visibleExpects = 0;
  let memoryCalls = 0;
  visible.forEach((c, i) => {
    const src = sourceText(c.source);
    const where = `visible code cell ${i + 1}`;
    if (lines[i] > LESSON_RULES.maxLines) problems.push(`${where} has ${lines[i]} lines (at most ${LESSON_RULES.maxLines})`);
    const long = src.split('\n').flatMap((l, j) => (l.length > LESSON_RULES.maxLineChars ? [j + 1] : []));
    longLines += long.length;
    if (long.length > 0) problems.push(`${where}: line${long.length > 1 ? 's' : ''} ${long.join(', ')} reach${long.length > 1 ? '' : 'es'} 100 characters`);
    visibleExpects += count(src, EXPECT);
    const mem = count(src, MEMORY);
    memoryCalls += mem;
    if (mem > 0) problems.push(`${where} manages memory (dispose/tidy/keep): leave that to the library`);
  });
  checks.forEach((c, i) => {
    const hidden = (c.metadata?.jupyter as { source_hidden?: boolean } | undefined)?.source_hidden === true;
    if (!hidden) problems.push(`check cell ${i + 1} is not hidden (metadata jupyter.source_hidden: true)`);
  });
  const med = median(lines);
  if (med > LESSON_RULES.medianLines) problems.push(`the median visible code cell has ${med} lines (at most ${LESSON_RULES.medianLines})`);
  if (visibleExpects > LESSON_RULES.maxVisibleExpects) {
    problems.push(`${visibleExpects} expect calls in visible cells (at most ${LESSON_RULES.maxVisibleExpects}; move the rest to check cells)`);
  }
  return {
    file,
    visibleCells: visible.length,
    checkCells: checks.length,
    medianLines: med,
    maxLines: Math.max(0, ...lines),
    longLines,
    visibleExpects,
    checkExpects: checks.reduce((n, c) => n + count(sourceText(c.source), EXPECT), 0),
    memoryCalls,
    problems,
  };
}

/** Lint every lesson notebook in `dir`; prints a table, returns false when any lesson breaks a rule. */
export function lintLessons(dir: string, log: (s: string) => void = console.log): boolean {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb'))
    .sort();
  const rows = files.map((f) => lintLesson(path.join(dir, f)));
  log('lesson                              visible median max long expects(visible/check) memory');
  for (const r of rows) {
    const name = path.basename(r.file).padEnd(36);
    log(
      `${name}${String(r.visibleCells).padStart(7)}${String(r.medianLines).padStart(7)}${String(r.maxLines).padStart(4)}` +
        `${String(r.longLines).padStart(5)}${`${r.visibleExpects}/${r.checkExpects}`.padStart(24)}${String(r.memoryCalls).padStart(7)}`,
    );
  }
  const total = rows.reduce((n, r) => n + r.visibleExpects + r.checkExpects, 0);
  log(`expect calls in all: ${total}`);
  let ok = true;
  for (const r of rows) {
    for (const p of r.problems) {
      log(`${path.basename(r.file)}: ${p}`);
      ok = false;
    }
  }
  return ok;
}
