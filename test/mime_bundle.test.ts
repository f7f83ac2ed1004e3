/**
 * A figure is one output with two representations (lib/notebook/mime_bundle.ts):
 * text/html and application/vnd.plotly.v1+json. Here: the bundle itself, the
 * way it reaches the kernel, and which representation each client picks from
 * it, by that client's own rule:
 *   Notebook 6   its OutputArea.display_order, read from Debian's notebook package
 *   nbconvert    HTMLExporter's display_data_priority, asked from Debian's nbconvert
 *   VS Code      its MimeTypeDisplayOrder.sort (vscode src/vs/workbench/contrib/notebook/common/
 *                notebookCommon.ts): types missing from NOTEBOOK_DISPLAY_ORDER sort first; the
 *                Jupyter extension's renderers (vscode-notebook-renderers) draw the plotly type
 *   hyperlab's own HTML export (lib/notebook/html.ts)
 * JupyterLab's pick is asked from its own rendermime in test/e2e/jupyterlab.test.ts; the browser and
 * nbconvert tests in test/e2e/ count the charts each real client draws.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Module from 'node:module';
import { BundleDisplay, figureBundle, PLOTLY_MIME } from '../lib/notebook/mime_bundle';
import { FIGURE_CLASS } from '../lib/notebook/plotly_html';
import { notebookHtml } from '../lib/notebook/html';
import { makeNotebook } from '../lib/notebook/ipynb';
import type { Figure } from '../lib/plot/figure';

const figure: Figure = {
  data: [{ type: 'scatter', name: 'loss', x: [1, 2, 3], y: [0.5, NaN, Infinity] }],
  layout: { title: { text: 'Training' } },
};
const bundle = figureBundle(figure);
// What JupyterLab saves after drawing it: jupyterlab-plotly adds a PNG snapshot to the output.
const savedByLab = { ...bundle, 'image/png': 'iVBORw0KGgo=' };

test('a figure bundle: HTML that draws it, and the figure as plotly JSON (gaps as null, the HTML height)', () => {
  assert.deepEqual(Object.keys(bundle).sort(), [PLOTLY_MIME, 'text/html'].sort());
  assert.ok(bundle['text/html'].includes(FIGURE_CLASS) && bundle['text/html'].includes('Plotly.newPlot'), 'the HTML draws with plotly.js');
  const plotly = bundle[PLOTLY_MIME] as { data: { y: unknown[] }[]; layout: Record<string, unknown>; config: Record<string, unknown> };
  assert.deepEqual(plotly.data[0].y, [0.5, null, null], 'NaN and Infinity are gaps (JSON has neither)');
  assert.equal(plotly.layout.height, 420, 'the same height as the HTML (jupyterlab-plotly would draw 360 px)');
  assert.deepEqual(plotly.layout.title, { text: 'Training' });
  assert.equal(figure.layout.height, undefined, 'the caller’s figure is not changed');
  assert.equal((figureBundle(figure, { height: '300px' })[PLOTLY_MIME] as { layout: { height: number } }).layout.height, 300);
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(bundle)));
});

/** The first of `order` present in the bundle: how Notebook 6 and nbconvert pick (they show that one only). */
const firstIn = (order: string[], data: object): string | undefined => order.find((m) => m in data);

test('Notebook 6 shows the HTML (it has no plotly renderer and shows one type per output)', (t) => {
  const file = '/usr/lib/python3/dist-packages/notebook/static/notebook/js/outputarea.js';
  if (!fs.existsSync(file)) return t.skip('Debian jupyter-notebook is not installed (its outputarea.js holds the display order)');
  const js = fs.readFileSync(file, 'utf8');
  const constants = Object.fromEntries([...js.matchAll(/var (MIME_[A-Z]+) = '([^']+)'/g)].map((m) => [m[1], m[2]]));
  const list = /OutputArea\.display_order = \[([^\]]+)\]/.exec(js);
  assert.ok(list, `${file}: OutputArea.display_order not found`);
  const order = list[1].split(',').map((s) => constants[s.trim()]);
  assert.ok(!order.includes(PLOTLY_MIME));
  assert.equal(firstIn(order, bundle), 'text/html');
  assert.equal(firstIn(order, savedByLab), 'text/html', 'also once JupyterLab has added its PNG');
});

test('nbconvert --to html shows the HTML', (t) => {
  const py = spawnSync(
    '/usr/bin/python3',
    ['-c', 'import json; from nbconvert.exporters import HTMLExporter; print(json.dumps(HTMLExporter().config.NbConvertBase.display_data_priority))'],
    { encoding: 'utf8' },
  );
  if (py.status !== 0) return t.skip(`Debian nbconvert is not installed for /usr/bin/python3 (${py.stderr.trim().split('\n').pop()})`);
  const order = JSON.parse(py.stdout) as string[];
  assert.ok(!order.includes(PLOTLY_MIME));
  assert.equal(firstIn(order, bundle), 'text/html');
  assert.equal(firstIn(order, savedByLab), 'text/html');
});

test('VS Code shows the plotly JSON, with its built-in plotly renderer', () => {
  // NOTEBOOK_DISPLAY_ORDER and MimeTypeDisplayOrder.sort with no user preference: the types it does not
  // list keep indexOf -1, so they sort before every listed one; the output shows the first type sorted.
  const NOTEBOOK_DISPLAY_ORDER = [
    'application/json',
    'application/javascript',
    'text/html',
    'image/svg+xml',
    'text/latex',
    'text/markdown',
    'image/png',
    'image/jpeg',
    'text/plain',
  ];
  const vscodePick = (data: object) => Object.keys(data).sort((a, b) => NOTEBOOK_DISPLAY_ORDER.indexOf(a) - NOTEBOOK_DISPLAY_ORDER.indexOf(b))[0];
  assert.equal(vscodePick(bundle), PLOTLY_MIME);
  assert.equal(vscodePick(savedByLab), PLOTLY_MIME);
});

test("hyperlab's HTML export draws a bundle once, from its HTML", () => {
  const nb = makeNotebook(['hl.show(figure)']);
  nb.cells[0].outputs = [{ output_type: 'display_data', data: bundle as never, metadata: {} }];
  const html = notebookHtml(nb, 'bundle');
  assert.equal(html.split(`class="${FIGURE_CLASS}"`).length - 1, 1, 'one chart');
});

test('BundleDisplay: HTML alone through tslab display when the kernel writer is not found', () => {
  const sent: string[] = [];
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warnings.push(m);
  try {
    const d = new BundleDisplay((h) => sent.push(h));
    d.show(bundle);
    d.show(bundle);
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(sent, [bundle['text/html'], bundle['text/html']]);
  assert.equal(warnings.length, 1, 'says once that charts go out as HTML only');
  assert.match(warnings[0], /HTML only/);
});

test("BundleDisplay: the whole bundle through the kernel's writer, then updates of the same display", () => {
  // Stand in for tslab's dist/jupyter.js in the module cache, as the kernel process has it.
  const file = path.join(path.sep, 'fake', 'node_modules', 'tslab', 'dist', 'jupyter.js');
  const calls: { content: { data: object; transient: { display_id?: string } }; update: boolean }[] = [];
  const fake = new Module(file);
  fake.exports = { lastWriteDisplayData: (content: (typeof calls)[0]['content'], update: boolean) => calls.push({ content, update }) };
  require.cache[file] = fake;
  try {
    const html: string[] = [];
    const live = new BundleDisplay((h) => html.push(h));
    live.show({ 'text/html': '<div>waiting</div>' });
    live.show(bundle);
    const other = new BundleDisplay((h) => html.push(h));
    other.show(bundle);
    assert.deepEqual(html, [], 'tslab’s one-type display is not used');
    assert.deepEqual(
      calls.map((c) => c.update),
      [false, true, false],
    );
    assert.deepEqual(calls[1].content.data, bundle);
    const ids = calls.map((c) => c.content.transient.display_id);
    assert.ok(ids[0] && ids[0] === ids[1], 'updates name the display they replace');
    assert.notEqual(ids[2], ids[0], 'another display has its own id');
  } finally {
    delete require.cache[file];
  }
});
