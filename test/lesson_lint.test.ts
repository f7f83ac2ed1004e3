/**
 * The lesson lint (lib/notebook/lesson_lint.ts, `hyperlab lessons lint`): one
 * synthetic notebook that passes every rule, and one that breaks each rule.
 * (The real lessons/ are linted by CI through npm run lint:lessons.)
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeNotebook, writeNotebook } from '../lib/notebook/ipynb';
import { LESSON_RULES, lintLesson, lintLessons } from '../lib/notebook/lesson_lint';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-lint-'));

type CellSpec = string | { md: string } | { check: string; hidden?: boolean };

/** A notebook in its own folder (lintLessons reads a whole folder). */
function lesson(name: string, cells: CellSpec[]): string {
  const dir = fs.mkdtempSync(path.join(tmp, `${name}-`));
  const nb = makeNotebook(cells.map((c) => (typeof c === 'object' && 'check' in c ? c.check : c)));
  cells.forEach((c, i) => {
    if (typeof c === 'object' && 'check' in c) {
      nb.cells[i].metadata = { tags: ['check'], ...(c.hidden === false ? {} : { jupyter: { source_hidden: true } }) };
    }
  });
  const file = path.join(dir, `${name}.ipynb`);
  writeNotebook(file, nb);
  return file;
}

const lines = (n: number) => Array.from({ length: n }, (_, i) => `const v${i} = ${i};`).join('\n');

/** A lesson that keeps every rule: short cells, 2 visible expects, checks hidden. */
const good: CellSpec[] = [
  { md: '# Tensors' },
  "import * as hl from 'hyperlab';\nconst { tf } = hl;",
  'const x = tf.tensor([1, 2, 3]);\n\n\nconst y = x.mul(2);\nhl.expectClose("y", y, [2, 4, 6]);',
  lines(8),
  lines(20),
  'hl.expectTrue("y grows", true);',
  { check: `${'hl.expectClose("a", 1, 1);\n'.repeat(30)}// a long check line ${'x'.repeat(120)}\ny.dispose();` },
];

test('a lesson that keeps every rule passes, with its counts', () => {
  const r = lintLesson(lesson('good', good));
  assert.deepEqual(r.problems, []);
  assert.equal(r.visibleCells, 5);
  assert.equal(r.checkCells, 1);
  assert.equal(r.medianLines, 3, 'blank lines are not counted');
  assert.equal(r.maxLines, 20);
  assert.equal(r.visibleExpects, 2);
  assert.equal(r.checkExpects, 30, 'checks may hold any number of expects, long lines and dispose');
  assert.equal(r.memoryCalls, 0);
  const log: string[] = [];
  assert.equal(
    lintLessons(path.dirname(r.file), (s) => log.push(s)),
    true,
  );
  assert.match(log.join('\n'), /good\.ipynb\s+5\s+3\s+20\s+0\s+2\/30\s+0/);
});

const broken: [string, CellSpec[], RegExp][] = [
  ['median', [lines(9), lines(9), lines(2)], new RegExp(`median visible code cell has 9 lines \\(at most ${LESSON_RULES.medianLines}\\)`)],
  ['longest', [lines(21), 'a', 'b'], /visible code cell 1 has 21 lines \(at most 20\)/],
  ['line_length', ['const ok = 1;', `const s = '${'x'.repeat(100)}';`], /visible code cell 2: line 1 reaches 100 characters/],
  ['expects', ['hl.expectClose("a", 1, 1);', 'hl.expectClose("b", 1, 1);\nhl.expectTrue("c", true);'], /3 expect calls in visible cells \(at most 2/],
  ['dispose', ['const t = tf.ones([2]);\nt.dispose();'], /visible code cell 1 manages memory/],
  ['tidy', ['const t = tf.tidy(() => tf.ones([2]));'], /visible code cell 1 manages memory/],
  ['keep', ['const t = tf.keep(tf.ones([2]));'], /visible code cell 1 manages memory/],
  ['shown_check', ['const a = 1;', { check: 'hl.expectClose("a", a, 1);', hidden: false }], /check cell 1 is not hidden/],
];

for (const [name, cells, problem] of broken) {
  test(`a lesson that breaks the ${name} rule fails, saying which cell and what to do`, () => {
    const r = lintLesson(lesson(name, cells));
    assert.equal(r.problems.length, 1, r.problems.join('\n'));
    assert.match(r.problems[0], problem);
    const log: string[] = [];
    assert.equal(
      lintLessons(path.dirname(r.file), (s) => log.push(s)),
      false,
    );
    assert.match(log.join('\n'), new RegExp(`${name}\\.ipynb: `));
  });
}

test("the course's own lessons (lessons/) keep every rule: short visible cells, checks hidden, no memory bookkeeping", () => {
  const log: string[] = [];
  const ok = lintLessons(path.join(__dirname, '..', '..', 'lessons'), (s) => log.push(s));
  assert.ok(ok, log.join('\n'));
  assert.match(log.join('\n'), /10_cnns\.ipynb/, 'every lesson was read');
});
