/**
 * End to end, as a learner sees it: a real Jupyter Notebook server (Debian's
 * jupyter-notebook, on 127.0.0.1 with a token), the tslab kernel registered
 * in a temporary Jupyter path, headless Chromium (Debian's, driven by
 * playwright-core) opening lessons/00_hello.ipynb, running every cell from
 * the page, and the lesson's plotly charts found drawn in the DOM. Its live
 * training curve (LivePlot) must be updated in place: the page receives more
 * than one update_display_data for it (Notebook's output_updated event) and
 * the training cell ends with one chart, not one per epoch.
 * A screenshot is kept in test/e2e/artifacts/ (not committed).
 *
 * Skips, saying why, where jupyter or chromium is missing
 * (scripts/notebook-setup.sh installs both).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ARTIFACTS, browserMissing, CHROMIUM, CHROMIUM_FLAGS, freePort, registerKernel, sleep, startServer, stopServer, workspace } from './jupyter';

const LESSON = '00_hello.ipynb';

/** Why this machine cannot run the test, or null. */
function missing(): string | null {
  if (spawnSync('jupyter', ['notebook', '--version'], { encoding: 'utf8' }).status !== 0) {
    return 'jupyter notebook is not installed (Debian: apt-get install jupyter-notebook; or run scripts/notebook-setup.sh)';
  }
  return browserMissing();
}

const why = missing();

test('browser: a lesson runs in Jupyter Notebook and its plotly charts render', { skip: why ?? false, timeout: 240000 }, async () => {
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const dir = workspace(LESSON);
  const env = registerKernel(dir);
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const args = ['notebook', '--no-browser', '--ip=127.0.0.1', `--port=${port}`, '--port-retries=0', `--NotebookApp.token=${token}`, `--notebook-dir=${dir}`];
  if (process.getuid?.() === 0) args.push('--allow-root');
  const { process: server, log } = await startServer('jupyter', args, dir, env, port, token);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/notebooks/lessons/${LESSON}?token=${token}`);

    // Wait for the kernel, then Cell > Run All through the notebook's own JS API.
    await page.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.(), null, { timeout: 60000 });
    // Count the display updates that carry a chart (Notebook 6 fires output_updated.OutputArea for each).
    await page.evaluate(() => {
      const w = window as any;
      w.__chartUpdates = 0;
      w.Jupyter.notebook.events.on('output_updated.OutputArea', (_e: unknown, d: any) => {
        const html = d?.output?.data?.['text/html'];
        if ((Array.isArray(html) ? html.join('') : String(html ?? '')).includes('hyperlab-plot')) w.__chartUpdates++;
      });
    });
    await page.evaluate(() => (window as any).Jupyter.notebook.execute_all_cells());

    // Two charts: the ReLU plot and the live training curve, both drawn by plotly (svg inside .js-plotly-plot).
    await page.waitForFunction(() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2, null, { timeout: 120000 });
    // Wait for every code cell to have run (a number in its prompt, not '*' or nothing): between two cells the
    // kernel is briefly idle, and the live chart is still being redrawn until the training cell ends.
    await page.waitForFunction(
      () => {
        const nb = (window as any).Jupyter.notebook;
        const code = nb.get_cells().filter((c: any) => c.cell_type === 'code');
        return nb.kernel_busy === false && code.every((c: any) => typeof c.input_prompt_number === 'number');
      },
      null,
      { timeout: 240000 },
    );
    const state = await page.evaluate(() => ({
      plots: document.querySelectorAll('.js-plotly-plot').length,
      traces: document.querySelectorAll('.js-plotly-plot .scatterlayer .trace').length,
      errors: [...document.querySelectorAll('.output_stderr, .output_error')].map((e) => e.textContent),
      busy: [...document.querySelectorAll('.input_prompt')].filter((e) => e.textContent?.includes('*')).length,
    }));
    const live = await page.evaluate(() => {
      const w = window as any;
      const cell = w.Jupyter.notebook.get_cells().find((c: any) => c.cell_type === 'code' && c.get_text().includes('LivePlot'));
      const div = cell?.element?.[0]?.querySelectorAll('.js-plotly-plot') ?? [];
      return {
        found: Boolean(cell),
        updates: w.__chartUpdates as number,
        charts: div.length as number,
        outputs: (cell?.output_area?.outputs ?? []).filter((o: any) => o.output_type === 'display_data').length as number,
        points: div.length ? ((div[0] as any).data?.[0]?.x?.length as number) : 0,
      };
    });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const shot = path.join(ARTIFACTS, '00_hello.png');
    await page.locator('.js-plotly-plot').last().scrollIntoViewIfNeeded();
    await page.screenshot({ path: shot, fullPage: true });
    assert.deepEqual(state.errors, [], 'a cell printed an error');
    assert.equal(state.plots, 2, 'the ReLU chart and the training curve');
    assert.ok(state.traces >= 3, `expected the charts' lines drawn, found ${state.traces} traces`);
    assert.deepEqual(pageErrors, [], 'JavaScript errors in the page');
    assert.ok(live.found, `${LESSON} has no cell with a LivePlot`);
    assert.ok(live.updates >= 2, `the live curve was updated in place ${live.updates} times; expected one update per epoch`);
    assert.equal(live.charts, 1, 'the training cell shows one chart, redrawn in place, not one per epoch');
    assert.ok(live.points >= 2, `the live curve's final drawing has ${live.points} epochs`);
    console.log(`live curve: ${live.updates} updates in place, ${live.points} epochs drawn`);
    console.log(`screenshot: ${shot}`);
  } catch (e) {
    console.error(`jupyter log:\n${log()}`);
    throw e;
  } finally {
    await browser.close();
    stopServer(server);
    await sleep(500);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
