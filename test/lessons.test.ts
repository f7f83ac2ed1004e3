/**
 * Lessons are tests: every notebook in lessons/ and notebooks/ runs top to bottom
 * through the tslab kernel (as `hyperlab lessons run` does), and its own asserts
 * check the numbers it teaches. The executed copies and HTML pages go to a temp folder.
 *
 * Memory: notebooks never dispose (the library frees what a notebook can no
 * longer reach, lib/engine/autofree.ts), so the runner records tf.memory()
 * after every cell and each notebook's maximum must stay under MEMORY_BOUND.
 * Why these numbers: what a lesson keeps on purpose is its top-level bindings
 * (datasets, models, optimizer states, results). Measured on the lessons
 * rewritten without dispose (issue 9's branches on this library, 2026-12-06):
 * at most 206 tensors (lesson 07, every section's models kept) and 3 MB
 * (lesson 06); 04 holds 18 tensors, 10 holds 122. Lessons train for hundreds
 * to thousands of steps, so one tensor leaked per step (or a model per cell)
 * crosses 1000 tensors; 128 MB is 40x the largest lesson's data and far below
 * what a learner's laptop or the wasm heap (2 GB) holds.
 */
import { strict as assert } from 'node:assert';
import { after, describe, it, test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { text } from '../lib/notebook/ipynb';
import { TslabKernel } from '../lib/notebook/kernel';
import { findNotebooks, runNotebook, startKernelFor } from '../lib/notebook/runner';
import { defaultJobs } from '../lib/cli/lessons';

const MEMORY_BOUND = { tensors: 1000, bytes: 128 * 2 ** 20 };

const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-lessons-'));

// As `hyperlab lessons run` does: two notebooks at a time where there are two cores, and the
// next notebook's kernel starts while the current ones run.
const files = findNotebooks([]);
const started = new Map<string, Promise<TslabKernel>>();
const kernelFor = (file: string) => {
  const k = started.get(file) ?? startKernelFor(file);
  started.delete(file);
  return k;
};
after(() => Promise.all([...started.values()].map((k) => k.then((kernel) => kernel.shutdown()).catch(() => {}))));

describe('notebooks', { concurrency: defaultJobs() }, () => {
  for (const [i, file] of files.entries()) {
    const name = path.basename(file, '.ipynb');
    const kind = path.basename(path.dirname(file)) === 'notebooks' ? 'notebook' : 'lesson';
    it(`${kind} ${name}`, async () => {
      const kernel = kernelFor(file);
      const next = files[i + 1];
      if (next) {
        const k = startKernelFor(next);
        k.catch(() => {}); // a failed start is reported by the test that uses it
        started.set(next, k);
      }
      const r = await runNotebook(file, { outDir, html: true, kernel });
      const worst = (key: 'numTensors' | 'numBytes') => r.memory.reduce((a, b) => (b[key] > a[key] ? b : a));
      assert.ok(r.memory.length > 0, 'memory was recorded after the cells');
      assert.ok(
        r.maxTensors <= MEMORY_BOUND.tensors,
        `${name} holds ${r.maxTensors} tensors after cell ${worst('numTensors').cell + 1} (section "${worst('numTensors').section}"); the bound is ${MEMORY_BOUND.tensors}`,
      );
      assert.ok(
        r.maxBytes <= MEMORY_BOUND.bytes,
        `${name} holds ${(r.maxBytes / 2 ** 20).toFixed(1)} MB after cell ${worst('numBytes').cell + 1} (section "${worst('numBytes').section}"); the bound is 128 MB`,
      );
      if (name !== '00_hello') return;
      // The pipeline itself: a plotly figure in a text/html output, plotly.js sent once, the page has both.
      const htmlOutputs = r.executed.cells
        .flatMap((c) => c.outputs ?? [])
        .flatMap((o) => ('data' in o && o.data['text/html'] ? [text(o.data['text/html'])] : []));
      assert.equal(htmlOutputs.filter((h) => h.includes('plotly.js (cartesian')).length, 1, 'plotly.js is sent exactly once');
      const figures = htmlOutputs.filter((h) => h.includes('class="hyperlab-plot"'));
      assert.equal(figures.length, 2, 'the ReLU chart and the live training curve');
      assert.match(figures[0], /"name":"relu\(x\)"/);
      assert.match(figures[1], /"title":\{"text":"Training"\}/);
      const page = fs.readFileSync(r.htmlFile!, 'utf8');
      assert.equal(page.split('plotly.js (cartesian').length - 1, 1, 'the page inlines plotly.js once');
    });
  }
});

test('the runner finds notebooks/ beside lessons/: by default after the lessons, and by name', () => {
  const all = findNotebooks([]);
  const folders = all.map((f) => path.basename(path.dirname(f)));
  assert.ok(folders.includes('notebooks'), 'notebooks/ is run');
  assert.equal(folders.lastIndexOf('lessons') < folders.indexOf('notebooks'), true, 'lessons first, then notebooks');
  assert.equal(path.relative(path.dirname(path.dirname(findNotebooks(['sweep'])[0])), findNotebooks(['sweep'])[0]), path.join('notebooks', 'sweep.ipynb'));
});
