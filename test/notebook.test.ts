/**
 * The notebook runner (lib/notebook): outputs collected as Jupyter saves them,
 * the first failing cell reported with its error, HTML export, the CLI.
 * The lessons themselves run in lessons.test.ts.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as hl from '../lib';
import { makeNotebook, readNotebook, text, writeNotebook } from '../lib/notebook/ipynb';
import { errorLine, findNotebooks, NotebookError, runNotebook, runNotebooks, sectionOf, startKernelFor } from '../lib/notebook/runner';
import { TslabKernel } from '../lib/notebook/kernel';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-nb-'));
const cli = path.join(__dirname, '..', 'lib', 'cli', 'main.js');

// Notebooks in tmp import 'hyperlab' as the lessons do: through this package's node_modules.
fs.symlinkSync(path.join(__dirname, '..', '..', 'node_modules'), path.join(tmp, 'node_modules'));

/** Cells: code strings, `{ md }` markdown, `{ check }` check cells (tagged `check`, source hidden). */
function notebookFile(name: string, cells: (string | { md: string } | { check: string })[]): string {
  const file = path.join(tmp, `${name}.ipynb`);
  const nb = makeNotebook(cells.map((c) => (typeof c === 'object' && 'check' in c ? c.check : c)));
  cells.forEach((c, i) => {
    if (typeof c === 'object' && 'check' in c) nb.cells[i].metadata = { tags: ['check'], jupyter: { source_hidden: true } };
  });
  writeNotebook(file, nb);
  return file;
}

test('a failing cell stops the run: notebook, cell, first line and error reported; outputs so far saved', async () => {
  const file = notebookFile('fails', [
    { md: '# title' },
    'console.log("before");',
    '// a comment first\nthrow new Error("boom: wrong shape");',
    'console.log("never");',
  ]);
  const outDir = path.join(tmp, 'out');
  const err = await runNotebook(file, { outDir }).then(
    () => assert.fail('the notebook should have failed'),
    (e) => e,
  );
  assert.ok(err instanceof NotebookError, String(err));
  assert.equal(err.cellIndex, 2);
  assert.equal(err.firstLine, '// a comment first');
  assert.match(err.error, /boom: wrong shape/);
  assert.match(err.message, /fails\.ipynb: cell 3 failed in section "title" \(it starts/);
  assert.equal(err.section, 'title');
  assert.equal(err.check, false);
  const saved = readNotebook(path.join(outDir, 'fails.ipynb'));
  assert.equal(text((saved.cells[1].outputs![0] as any).text), 'before\n');
  assert.equal(saved.cells[1].execution_count, 1);
  assert.match(JSON.stringify(saved.cells[2].outputs), /boom/);
  assert.deepEqual(saved.cells[3].outputs, []);
});

test('a type error is a failure too, with the compiler message', async () => {
  const file = notebookFile('typeerror', ['const n: number = "three";']);
  await assert.rejects(runNotebook(file, { outDir: path.join(tmp, 'out') }), (e: NotebookError) => {
    assert.equal(e.cellIndex, 0);
    assert.match(e.error, /not assignable to type 'number'/);
    return true;
  });
});

test('display updates replace the output in place; HTML export renders markdown, code and outputs', async () => {
  const file = notebookFile('display', [
    { md: '## Updates *in place*' },
    "import * as tslab from 'tslab';\nconst d = tslab.newDisplay();\nd.html('<b>first</b>');\nconsole.log('between');\nd.html('<b>second</b>');",
    "tslab.display.html('<i>plain</i>');\nconsole.error('a warning');",
  ]);
  const r = await runNotebook(file, { outDir: path.join(tmp, 'out'), html: true });
  const outs = r.executed.cells[1].outputs!;
  assert.deepEqual(
    outs.map((o) => o.output_type),
    ['display_data', 'stream'],
  );
  assert.equal(text((outs[0] as any).data['text/html']), '<b>second</b>');
  const saved = fs.readFileSync(r.outFile, 'utf8');
  assert.ok(!saved.includes('transient'), 'display ids are not saved in the file');
  const html = fs.readFileSync(r.htmlFile!, 'utf8');
  assert.match(html, /<h2>Updates <em>in place<\/em><\/h2>/);
  assert.match(html, /<b>second<\/b>/);
  assert.match(html, /tslab\.newDisplay\(\)/);
  assert.match(html, /<pre class="output stderr">a warning/);
  assert.ok(!html.includes('plotly.js (cartesian'), 'no figures, so no plotly.js in the page');
});

test('outside a notebook kernel, show() prints a note and LivePlot draws nothing', () => {
  const logged: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void logged.push(a.join(' '));
  try {
    hl.show(hl.lossCurves({ loss: [1, 0.5] }, { title: 'my run' }));
  } finally {
    console.log = log;
  }
  assert.match(logged.join('\n'), /'my run' is not drawn: this is not a notebook kernel.*saveHtml/);
  assert.equal(hl.inNotebook(), false);
  assert.throws(() => hl.show({} as hl.Figure), /expected a figure/);
  const page = path.join(tmp, 'fig.html');
  hl.saveHtml(hl.lossCurves({ loss: [1, 0.5] }), page);
  assert.ok(fs.readFileSync(page, 'utf8').includes('window.Plotly.newPlot'));
});

test('lesson names: exact, prefix, path; unknown names list the lessons', () => {
  const [hello] = findNotebooks(['00']);
  assert.equal(path.basename(hello), '00_hello.ipynb');
  assert.deepEqual(findNotebooks(['00_hello']), [hello]);
  assert.throws(() => findNotebooks(['no_such_lesson']), /no lesson called 'no_such_lesson'.*00_hello/);
});

test('CLI: hyperlab lessons run exits 1 and names the failing cell', () => {
  const file = notebookFile('cli_fails', ['const ok = 1;', 'throw new Error("cli boom");']);
  const r = spawnSync(process.execPath, [cli, 'lessons', 'run', file, '--out', path.join(tmp, 'cli'), '--quiet'], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /FAILED .*cli_fails\.ipynb: cell 2 failed \(it starts: "throw new Error\(\\"cli boom\\"\);"\)/);
  assert.match(r.stderr, /cli boom/);
});

test('LivePlot in a kernel: one display, redrawn in place each epoch; plotly.js sent once', async () => {
  // A stand-in for the tslab kernel: what display.ts finds on globalThis.__tslab__.
  const sent: { display: string; html: string }[] = [];
  let displays = 0;
  const fakeDisplay = (name: string) => ({ html: (html: string) => void sent.push({ display: name, html }) });
  const fakeTslab = { display: fakeDisplay('plain'), newDisplay: () => fakeDisplay(`live${++displays}`) };
  (globalThis as any).__tslab__ = { require: (id: string) => (id === 'tslab' ? fakeTslab : require(id)) };
  try {
    hl.manualSeed(0);
    const { tf } = hl;
    const x = tf.randomNormal([16, 1]);
    const y = tf.mul(x, 2);
    const data = new hl.DataLoader(new hl.TensorDataset({ x, y }), { batchSize: 8 });
    tf.dispose([x, y]);
    const model = new hl.Linear(1, 1);
    const trainer = new hl.Trainer({
      task: hl.supervised({ model, optimizer: new hl.SGD(model.parameters(), { lr: 0.1 }), loss: hl.getLoss('mse') }),
      callbacks: [new hl.LivePlot(), new hl.LivePlot({ every: 2, logY: true })],
    });
    await trainer.fit(data, { epochs: 3 });
    model.dispose();
    const plain = sent.filter((s) => s.display === 'plain');
    assert.ok(plain.length <= 1 && sent.filter((s) => s.html.includes('plotly.js (cartesian')).length === plain.length, 'plotly.js at most once, on its own');
    const live1 = sent.filter((s) => s.display === 'live1');
    assert.equal(live1.length, 1 + 3, 'a placeholder, then one redraw per epoch');
    assert.match(live1[3].html, /"x":\[1,2,3\]/);
    const live2 = sent.filter((s) => s.display === 'live2');
    assert.equal(live2.length, 1 + 2, 'every 2 epochs: epoch 2 and the last');
    assert.match(live2[2].html, /"type":"log"/);
  } finally {
    delete (globalThis as any).__tslab__;
  }
});

test('memory after every cell: a tensor variable reassigned 1000 times across cells stays bounded; a kept one survives', async () => {
  const cells: (string | { md: string })[] = [
    "import * as hl from 'hyperlab';\nconst { tf } = hl;\nconst kept = tf.tensor([1, 2, 3]);\nlet x = tf.zeros([1000]);",
    { md: '## Reassigning' },
  ];
  // 20 cells of 50 reassignments: each drops the previous x (4 kB), 1000 in all.
  for (let i = 0; i < 20; i++) cells.push('for (let i = 0; i < 50; i++) x = x.add(1);');
  cells.push('hl.expectClose("x[0]", x.slice(0, 1), 1000);\nhl.expectClose("kept", kept, [1, 2, 3]);\nconsole.log(hl.autoFreeEnabled());');
  const r = await runNotebook(notebookFile('reassign', cells), { outDir: path.join(tmp, 'out') });
  const counts = r.memory.map((m) => m.numTensors);
  assert.equal(counts.length, 22, 'one record per code cell');
  assert.equal(counts[0], 2, 'kept and x');
  // x and kept, plus at most a few just-dropped tensors V8 keeps until a later collection.
  assert.ok(r.maxTensors <= 5, `at most ${r.maxTensors} tensors after a cell: ${counts}`);
  assert.ok(r.maxBytes <= 5 * 4000, `${r.maxBytes} bytes`);
  assert.equal(r.memory[5].section, 'Reassigning');
  assert.equal(text((r.executed.cells.at(-1)!.outputs![0] as any).text), 'true\n', 'automatic freeing is on in the kernel');
  const saved = readNotebook(r.outFile);
  assert.deepEqual(saved.cells[0].metadata.hyperlab, { memory: { numTensors: 2, numBytes: 4012 } });
  assert.deepEqual(
    saved.cells.filter((c) => c.cell_type === 'code').map((c) => c.execution_count),
    counts.map((_, i) => i + 1),
    'numbered 1, 2, 3, ... (the memory reads are not cells)',
  );
});

test('a failing check cell names the lesson, the section and the number', async () => {
  const file = notebookFile('check_fails', [
    { md: '# Autograd\n\nSome text.' },
    "import * as hl from 'hyperlab';\nconst grad = [1, 2];",
    { md: '## The gradient of *x squared*\n\nAt x = 1 it is 2.' },
    'const seen = grad.length;',
    { check: 'hl.expectClose("the gradient of x**2 at [1, 1]", grad, [2, 2]);' },
  ]);
  const err = await runNotebook(file, { outDir: path.join(tmp, 'out') }).then(
    () => assert.fail('the check should have failed'),
    (e) => e,
  );
  assert.ok(err instanceof NotebookError, String(err));
  assert.equal(err.check, true);
  assert.equal(err.section, 'The gradient of x squared');
  assert.match(
    err.message,
    /check_fails\.ipynb: a check failed in section "The gradient of x squared" \(check cell 5\): the gradient of x\*\*2 at \[1, 1\] is \[1, 2\], expected \[2, 2\] within 0\.00001 \(element 0: 1 vs 2\)/,
  );
});

test('sections and error lines', () => {
  const nb = makeNotebook([{ md: '# Title' }, 'a', { md: 'no heading here' }, 'b', { md: '## One\n### Two `x`\ntext' }, 'c']);
  assert.equal(sectionOf(nb, 1), 'Title');
  assert.equal(sectionOf(nb, 3), 'Title', 'a markdown cell without a heading is skipped');
  assert.equal(sectionOf(nb, 5), 'Two x', 'the last heading of the nearest markdown cell');
  assert.equal(sectionOf(nb, 0), '');
  assert.equal(errorLine('Error: x is 1, expected 2\n    at f (file.js:1:1)'), 'x is 1, expected 2');
  assert.equal(errorLine('\nTypeError: y is undefined\n'), 'y is undefined');
  assert.equal(errorLine('2:3 - Cannot find name z.'), '2:3 - Cannot find name z.');
});

test("a learner's typing in the kernel: completions of hl and hl.tf (chained ops too) and type errors, from hyperlab's bundled declarations", async () => {
  const kernel = await TslabKernel.start({ cwd: tmp });
  try {
    const cell = async (code: string) => {
      const out: string[] = [];
      const reply = await kernel.execute(code, (m) => out.push(String(m.content.text ?? '')));
      return { status: reply.status, text: out.join('') };
    };
    assert.equal((await cell("import * as hl from 'hyperlab';\nconst { tf } = hl;\nconst x = tf.ones([2, 2]);")).status, 'ok');
    assert.ok((await kernel.complete('hl.Lin')).includes('Linear'), 'hl.Linear');
    assert.ok((await kernel.complete('tf.mat')).includes('matMul'), 'tf.matMul');
    assert.ok((await kernel.complete('x.add(1).su')).includes('sum'), "a chained op on a tensor (tfjs' module augmentation)");
    const wrong = await cell('const n: number = tf.matMul(x, x);');
    assert.equal(wrong.status, 'error');
    assert.match(wrong.text, /Type 'Tensor<Rank>' is not assignable to type 'number'/);
    await new Promise((resolve) => setTimeout(resolve, 300)); // tslab aborts what comes within 200 ms of an error
    const later = await cell('const y = x.matMul(x).sum();\nconsole.log(y.shape.length, new hl.Linear(2, 1).weight.shape);');
    assert.equal(later.status, 'ok', later.text);
    assert.equal(later.text, '0 [ 1, 2 ]\n');
  } finally {
    await kernel.shutdown();
  }
});

test('runNotebooks: each notebook in its own kernel, two at a time, the next one started early; memory read after every cell; a failure stops what has not started', async () => {
  const a = notebookFile('first', ["import * as hl from 'hyperlab';\nconst t = hl.tf.ones([3]);", 'console.log("a");']);
  const b = notebookFile('second', ["import * as hl from 'hyperlab';", 'console.log(typeof (globalThis as any).t);']);
  const seen: string[] = [];
  const results = await runNotebooks([a, b], { outDir: path.join(tmp, 'out'), jobs: 2 }, (r) => seen.push(path.basename(r.notebook)));
  assert.deepEqual(seen.sort(), ['first.ipynb', 'second.ipynb']);
  assert.deepEqual(
    results.map((r) => path.basename(r.notebook)),
    ['first.ipynb', 'second.ipynb'],
    'in the order given, whichever finished first',
  );
  assert.deepEqual(
    results[0].memory.map((m) => m.numTensors),
    [1, 1],
  );
  assert.equal(results[1].executed.cells[1].outputs!.length, 1);
  assert.equal(text((results[1].executed.cells[1].outputs![0] as any).text), 'undefined\n', 'a fresh kernel: nothing of the first notebook');
  assert.deepEqual(
    results[1].memory.map((m) => m.numTensors),
    [0, 0],
  );
  assert.ok(results[1].timing.cells.length === 2 && results[1].timing.kernel >= 0);
  const bad = notebookFile('bad', ['throw new Error("stop here");']);
  const started: string[] = [];
  await assert.rejects(
    runNotebooks([bad, a, b], { outDir: path.join(tmp, 'out'), jobs: 1, onStart: (f) => started.push(path.basename(f)) }),
    (e: NotebookError) => e instanceof NotebookError && /bad\.ipynb: cell 1 failed/.test(e.message),
  );
  assert.deepEqual(started, ['bad.ipynb'], 'nothing starts after the failure');
  // A kernel started for a notebook and its import lines type-checked, without running them.
  const kernel = await startKernelFor(a);
  try {
    assert.equal(await kernel.memory(), null, 'hyperlab is not loaded: nothing ran');
  } finally {
    await kernel.shutdown();
  }
});
