/**
 * The lesson's charts survive nbconvert: execute lessons/00_hello.ipynb through the
 * kernel (as `hyperlab lessons run` does), convert the executed notebook with
 * Debian's `jupyter nbconvert --to html`, open the page from file:// in headless
 * Chromium with the network off, and find both plotly charts drawn.
 *
 * Skips, saying why, where nbconvert or Chromium is missing
 * (scripts/notebook-setup.sh installs both).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runNotebook } from '../../lib/notebook/runner';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function missing(): string | null {
  if (spawnSync('jupyter', ['nbconvert', '--version'], { encoding: 'utf8' }).status !== 0) {
    return 'jupyter nbconvert is not installed (Debian: apt-get install jupyter-nbconvert; or run scripts/notebook-setup.sh)';
  }
  if (!fs.existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set CHROMIUM_PATH)`;
  return null;
}

test('nbconvert HTML of an executed lesson shows its plotly charts, offline', async (t) => {
  const why = missing();
  if (why) return t.skip(why);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-nbconvert-'));
  const r = await runNotebook(path.join(ROOT, 'lessons', '00_hello.ipynb'), { outDir: out });
  const conv = spawnSync('jupyter', ['nbconvert', '--to', 'html', '--output-dir', out, r.outFile], { encoding: 'utf8' });
  assert.equal(conv.status, 0, conv.stderr);
  const html = path.join(out, path.basename(r.outFile).replace(/\.ipynb$/, '.html'));
  assert.ok(fs.existsSync(html), `nbconvert wrote ${html}`);

  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const context = await browser.newContext({ offline: true });
    const page = await context.newPage();
    await page.goto(`file://${html}`);
    await page.waitForFunction(() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2, null, { timeout: 60000 });
    const traces = await page.evaluate(() => document.querySelectorAll('.js-plotly-plot .scatterlayer .trace').length);
    assert.ok(traces >= 3, `the charts have their curves (${traces} traces)`);
    // Each output carries its chart as HTML and as plotly JSON (lib/notebook/mime_bundle.ts): nbconvert draws it once.
    const charts = await page.evaluate(() => document.querySelectorAll('.js-plotly-plot').length);
    assert.equal(charts, 2, 'the ReLU chart and the training curve, each once');
  } finally {
    await browser.close();
  }
});
