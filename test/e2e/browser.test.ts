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
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..'); // dist/test/e2e -> the repository
const LESSON = '00_hello.ipynb';
const ARTIFACTS = path.join(ROOT, 'test', 'e2e', 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PYTHON = '/usr/bin/python3';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Why this machine cannot run the test, or null. */
function missing(): string | null {
  if (spawnSync('jupyter', ['notebook', '--version'], { encoding: 'utf8' }).status !== 0) {
    return 'jupyter notebook is not installed (Debian: apt-get install jupyter-notebook; or run scripts/notebook-setup.sh)';
  }
  if (!fs.existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set CHROMIUM_PATH)`;
  try {
    require.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A copy of the lesson in a temp folder whose node_modules is the repository's (so `import 'hyperlab'` works there). */
function workspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-e2e-'));
  fs.mkdirSync(path.join(dir, 'lessons'));
  fs.copyFileSync(path.join(ROOT, 'lessons', LESSON), path.join(dir, 'lessons', LESSON));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** Register the tslab kernel under dir/jupyter (not the user's own Jupyter folders). */
function registerKernel(dir: string): NodeJS.ProcessEnv {
  const prefix = path.join(dir, 'jupyter');
  const tslab = path.join(ROOT, 'node_modules', '.bin', 'tslab');
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'tslab', 'bin', 'tslab'), 'install', `--python=${PYTHON}`, `--binary=${tslab}`, `--prefix=${prefix}`],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, `registering the tslab kernel failed:\n${r.stdout}${r.stderr}`);
  return {
    ...process.env,
    JUPYTER_PATH: path.join(prefix, 'share', 'jupyter'),
    JUPYTER_CONFIG_DIR: path.join(dir, 'config'),
    JUPYTER_DATA_DIR: path.join(dir, 'data'),
    JUPYTER_RUNTIME_DIR: path.join(dir, 'runtime'),
    IPYTHONDIR: path.join(dir, 'ipython'),
  };
}

async function startJupyter(dir: string, env: NodeJS.ProcessEnv, port: number, token: string): Promise<{ server: ChildProcess; log: () => string }> {
  const args = ['notebook', '--no-browser', '--ip=127.0.0.1', `--port=${port}`, '--port-retries=0', `--NotebookApp.token=${token}`, `--notebook-dir=${dir}`];
  if (process.getuid?.() === 0) args.push('--allow-root');
  // Its own process group, so stopping it also stops the kernels it started.
  const server = spawn('jupyter', args, { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  server.stdout!.on('data', (b) => (output += b));
  server.stderr!.on('data', (b) => (output += b));
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) break;
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/kernelspecs?token=${token}`);
      if (r.ok) {
        const specs = (await r.json()) as { kernelspecs: Record<string, unknown> };
        assert.ok(specs.kernelspecs.tslab, `the server does not list the tslab kernel: ${Object.keys(specs.kernelspecs)}`);
        return { server, log: () => output };
      }
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  stopJupyter(server);
  throw new Error(`jupyter notebook did not start on 127.0.0.1:${port}:\n${output}`);
}

function stopJupyter(server: ChildProcess): void {
  if (server.exitCode !== null || !server.pid) return;
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {
    server.kill('SIGTERM');
  }
}

const why = missing();

test('browser: a lesson runs in Jupyter Notebook and its plotly charts render', { skip: why ?? false, timeout: 240000 }, async () => {
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const dir = workspace();
  const env = registerKernel(dir);
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const { server, log } = await startJupyter(dir, env, port, token);
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
    stopJupyter(server);
    await sleep(500);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
