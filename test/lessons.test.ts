/**
 * Lessons are tests: every notebook in lessons/ and notebooks/ runs top to bottom
 * through the tslab kernel (as `hyperlab lessons run` does), and its own asserts
 * check the numbers it teaches. The executed copies and HTML pages go to a temp folder.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { text } from '../lib/notebook/ipynb';
import { findNotebooks, runNotebook } from '../lib/notebook/runner';

const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-lessons-'));

for (const file of findNotebooks([])) {
  const name = path.basename(file, '.ipynb');
  const kind = path.basename(path.dirname(file)) === 'notebooks' ? 'notebook' : 'lesson';
  test(`${kind} ${name}`, async () => {
    const r = await runNotebook(file, { outDir, html: true });
    if (name !== '00_hello') return;
    // The pipeline itself: a plotly figure in a text/html output, plotly.js sent once, the page has both.
    const htmlOutputs = r.executed.cells.flatMap((c) => c.outputs ?? []).flatMap((o) => ('data' in o && o.data['text/html'] ? [text(o.data['text/html'])] : []));
    assert.equal(htmlOutputs.filter((h) => h.includes('plotly.js (cartesian')).length, 1, 'plotly.js is sent exactly once');
    const figures = htmlOutputs.filter((h) => h.includes('class="hyperlab-plot"'));
    assert.equal(figures.length, 2, 'the ReLU chart and the live training curve');
    assert.match(figures[0], /"name":"relu\(x\)"/);
    assert.match(figures[1], /"title":\{"text":"Training"\}/);
    const page = fs.readFileSync(r.htmlFile!, 'utf8');
    assert.equal(page.split('plotly.js (cartesian').length - 1, 1, 'the page inlines plotly.js once');
  });
}

test('the runner finds notebooks/ beside lessons/: by default after the lessons, and by name', () => {
  const all = findNotebooks([]);
  const folders = all.map((f) => path.basename(path.dirname(f)));
  assert.ok(folders.includes('notebooks'), 'notebooks/ is run');
  assert.equal(folders.lastIndexOf('lessons') < folders.indexOf('notebooks'), true, 'lessons first, then notebooks');
  assert.equal(path.relative(path.dirname(path.dirname(findNotebooks(['sweep'])[0])), findNotebooks(['sweep'])[0]), path.join('notebooks', 'sweep.ipynb'));
});
