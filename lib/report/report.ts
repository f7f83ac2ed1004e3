/**
 * The run report: `hyperlab report RUN_DIR` and `writeReport(runDir)` write RUN_DIR/report.html,
 * one self-contained page that opens offline (plotly.js is inlined once):
 *
 *     - loss curves, train and validation (from metrics.csv)
 *     - the other metric curves (mse, mae, accuracy, ...) and the learning rate
 *     - final and best value of every metric, and the checkpoints
 *     - predictions against targets for a few samples, when `hyperlab predict` has run
 *     - the model summary (per-layer table) and the resolved config
 *
 * The page is rebuilt from the files each time, so it can be refreshed during a run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { baseLayout, COLORS, Figure } from '../plot/figure';
import { lossCurves } from '../plot/loss_curves';
import { figureHtml, plotlyLibraryHtml } from '../notebook/plotly_html';
import { buildModel } from '../models/registry';
import { summary } from '../nn/summary';
import { Monitor } from '../callbacks/monitor';
import { writeFileAtomic } from '../io/atomic';
import { inputShapeOf } from '../runs/run';
import { RunDir, checkpointInfo, openRunDir, subRuns } from '../runs/run_dir';
import { PredictionManifest, readManifest } from '../runs/predict_output';
import { MetricsHistory, lrFigure, metricFigure, otherMetrics, predictionScatterFigure, predictionSeriesFigure } from './figures';

export const REPORT_FILE = 'report.html';

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** metrics.csv (written by CSVLogger: a header, then numbers) as per-epoch columns; null when missing. */
export function readMetrics(runDir: string): MetricsHistory | null {
  const file = path.join(runDir, 'metrics.csv');
  if (!fs.existsSync(file)) return null;
  const [header, ...lines] = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter(Boolean);
  const columns = (header ?? '').split(',');
  if (!columns.includes('epoch')) throw new Error(`${file} has no 'epoch' column: it is not a hyperlab metrics log (CSVLogger writes one per run)`);
  const h: Record<string, number[]> = Object.fromEntries(columns.map((c) => [c, []]));
  lines.forEach((line, i) => {
    const cells = line.split(',');
    if (cells.length !== columns.length) throw new Error(`${file}, line ${i + 2}: ${cells.length} values for ${columns.length} columns`);
    columns.forEach((c, j) => h[c].push(cells[j] === '' ? NaN : Number(cells[j])));
  });
  return h as MetricsHistory;
}

/** The newest `hyperlab predict` output inside the run directory (RUN_DIR/predictions/*), or null. */
export function latestPredictions(runDir: string): PredictionManifest | null {
  const root = path.join(runDir, 'predictions');
  if (!fs.existsSync(root)) return null;
  const found = fs
    .readdirSync(root)
    .map((d) => readManifest(path.join(root, d)))
    .filter((m): m is PredictionManifest => m !== null && m.complete !== false && m.preview?.samples?.length > 0);
  // The validation split first (what the report is about), then the newest.
  found.sort((a, b) => Number(b.source.startsWith('the validation')) - Number(a.source.startsWith('the validation')) || b.createdAt.localeCompare(a.createdAt));
  return found[0] ?? null;
}

function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '';
  return Math.abs(v) !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(4) : Number(v.toPrecision(6)).toString();
}

/** Final and best value of each metric, with the epoch of the best (1-based, as printed while training). */
export function metricTable(h: MetricsHistory): { metric: string; final: number; best: number | null; bestEpoch: number | null }[] {
  return Object.keys(h)
    .filter((k) => k !== 'epoch')
    .map((k) => {
      const v = h[k];
      // The direction of the metric as early stopping and checkpoints judge it (none for lr or unknown names).
      let monitor: Monitor | null = null;
      try {
        monitor = k === 'lr' ? null : new Monitor(k);
      } catch {
        monitor = null;
      }
      let bestEpoch: number | null = null;
      v.forEach((x, i) => {
        if (monitor && Number.isFinite(x) && monitor.update(x)) bestEpoch = h.epoch[i] + 1;
      });
      const best = monitor && bestEpoch !== null ? monitor.best : null;
      return { metric: k, final: v[v.length - 1], best, bestEpoch };
    });
}

function tableHtml(h: MetricsHistory): string {
  const rows = metricTable(h)
    .map((r) => `<tr><td>${esc(r.metric)}</td><td>${fmt(r.final)}</td><td>${fmt(r.best)}</td><td>${r.bestEpoch ?? ''}</td></tr>`)
    .join('\n');
  return `<table><thead><tr><th>metric</th><th>final</th><th>best</th><th>best epoch</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/** The model's per-layer table, or why it could not be made (the data folder may be gone). */
async function summaryText(run: RunDir): Promise<string> {
  try {
    const dims = await inputShapeOf(run.spec);
    const model = buildModel(run.spec.model.type, run.spec.model.params, { nIn: dims.nIn, nOut: dims.nOut }, run.spec.originalBugs ?? []);
    try {
      return summary(model, dims.inputShape).toString();
    } finally {
      model.dispose();
    }
  } catch (err) {
    return `(no summary: ${(err as Error).message})`;
  }
}

function checkpointsHtml(run: RunDir): string {
  const items = (['best', 'last'] as const).map((w) => {
    const c = checkpointInfo(run, w);
    return c
      ? `<li>${w}: epoch ${c.epoch ?? '?'}${w === 'best' && c.bestMetric !== null ? `, best ${fmt(c.bestMetric)}` : ''} (${esc(c.createdAt)})</li>`
      : `<li>${w}: none</li>`;
  });
  return `<ul>${items.join('')}</ul>`;
}

/**
 * A k-fold, bootstrap or ensemble run: the training and validation loss of every sub-run
 * in one figure each, the table the trainer wrote (kfold.csv, ...), links to their reports.
 */
function subRunsHtml(dir: string, subs: string[]): string {
  const histories = subs.map((name) => ({ name, h: readMetrics(path.join(dir, name)) }));
  const figures = (['loss', 'val_loss'] as const).map((key): Figure => ({
    data: histories
      .filter((r) => r.h?.[key])
      .map((r, i) => ({
        type: 'scatter',
        mode: 'lines',
        name: r.name,
        x: r.h!.epoch.map((e) => e + 1),
        y: r.h![key],
        line: { color: COLORS[i % COLORS.length] },
      })),
    layout: baseLayout(key === 'loss' ? 'Training loss per sub-run' : 'Validation loss per sub-run', 'epoch', key),
  }));
  const table = ['kfold', 'bootstrap', 'ensemble'].map((k) => path.join(dir, `${k}.csv`)).find((f) => fs.existsSync(f));
  let tableHtml = '';
  if (table) {
    const [head, ...rows] = fs.readFileSync(table, 'utf8').trim().split(/\r?\n/);
    const cells = (line: string, tag: string) =>
      line
        .split(',')
        .map((c, j) => `<${tag}>${esc(j === 0 || Number.isNaN(Number(c)) ? c : fmt(Number(c)))}</${tag}>`)
        .join('');
    tableHtml = `<h3>${esc(path.basename(table))}</h3>\n<table><thead><tr>${cells(head, 'th')}</tr></thead><tbody>${rows.map((r) => `<tr>${cells(r, 'td')}</tr>`).join('')}</tbody></table>`;
  }
  const links = subs.map((n) =>
    fs.existsSync(path.join(dir, n, REPORT_FILE))
      ? `<a href="${esc(n)}/${REPORT_FILE}">${esc(n)}</a>`
      : `${esc(n)} (<code>hyperlab report ${esc(path.join(dir, n))}</code>)`,
  );
  return `<p>This run trained one model per sub-run: ${links.join(', ')}.</p>\n${figures.map((f) => figureHtml(f)).join('\n')}\n${tableHtml}`;
}

/** Cube runs: the previewed cubes' GR probabilities and labels. */
function cubeTableHtml(m: PredictionManifest): string {
  const rows = m.preview.samples.map((c) => `<tr><td>${esc(c.id)}</td><td>${fmt(c.prediction[0])}</td><td>${c.target ? fmt(c.target[0]) : ''}</td></tr>`);
  return `<table><thead><tr><th>cube</th><th>P(GR)</th><th>label</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function section(title: string, body: string): string {
  return `<section><h2>${esc(title)}</h2>\n${body}\n</section>`;
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25em .7em;text-align:right}td:first-child,th:first-child{text-align:left}
pre{background:#f6f8fa;padding:.8em;overflow:auto;font-size:.85em}.muted{color:#777}`;

/** The report page of a run directory, as HTML text. */
export async function buildReport(runDir: string): Promise<string> {
  const run = openRunDir(runDir);
  const h = readMetrics(run.dir);
  const parts: string[] = [];
  const s = run.spec;
  const subs = subRuns(run.dir);
  const progress = subs.length && !h ? `${subs.length} sub-runs` : `${h ? h.epoch.length : 0} of ${s.train.epochs} epoch(s) logged`;
  parts.push(
    `<h1>${esc(s.name)}</h1>\n<p>${esc(s.model.type)} &middot; ${esc(s.mode)} &middot; ${progress} &middot; ` +
      `<span class="muted">${esc(run.dir)} &middot; report written ${esc(new Date().toISOString())}</span></p>`,
  );
  if (subs.length && !h) {
    parts.push(section('Sub-runs', subRunsHtml(run.dir, subs)));
  } else if (!h || h.epoch.length === 0) {
    parts.push(section('Curves', '<p>No epoch has finished yet (metrics.csv is empty or missing).</p>'));
  } else {
    const figures: Figure[] = [lossCurves(h), ...otherMetrics(h).map((m) => metricFigure(h, m))];
    const lr = lrFigure(h);
    if (lr) figures.push(lr);
    parts.push(section('Curves', figures.map((f) => figureHtml(f)).join('\n')));
    parts.push(section('Final and best metrics', tableHtml(h) + '\n<h3>Checkpoints</h3>\n' + checkpointsHtml(run)));
  }
  const pred = latestPredictions(run.dir);
  if (subs.length && !h) {
    // Predictions belong to the sub-runs (hyperlab predict RUN_DIR/fold_0).
  } else if (pred) {
    const scatter = predictionScatterFigure(pred);
    const mse = pred.mse === null ? 'no targets' : `MSE ${fmt(pred.mse)} over ${pred.nTargets} sample(s)`;
    parts.push(
      section(
        'Predictions',
        `<p>${esc(pred.source)}, checkpoint ${esc(pred.checkpoint.which)} (epoch ${pred.checkpoint.epoch ?? '?'}): ${pred.ids.length} sample(s), ${mse}. ` +
          `The first ${pred.preview.samples.length} are drawn.</p>\n` +
          (pred.direction === 'cube->probability'
            ? cubeTableHtml(pred)
            : [predictionSeriesFigure(pred), scatter]
                .filter((f): f is Figure => f !== null)
                .map((f) => figureHtml(f))
                .join('\n')),
      ),
    );
  } else {
    parts.push(
      section('Predictions', `<p class="muted">None yet: run <code>hyperlab predict ${esc(run.dir)}</code>, then <code>hyperlab report</code> again.</p>`),
    );
  }
  parts.push(section('Model', `<pre>${esc(await summaryText(run))}</pre>`));
  const config = path.join(run.dir, 'config.json');
  const yaml = path.join(run.dir, 'run.yaml');
  parts.push(
    section(
      'Configuration',
      (fs.existsSync(config) ? `<h3>Resolved settings (config.json)</h3>\n<pre>${esc(fs.readFileSync(config, 'utf8'))}</pre>\n` : '') +
        (fs.existsSync(yaml) ? `<h3>Run file as given (run.yaml)</h3>\n<pre>${esc(fs.readFileSync(yaml, 'utf8'))}</pre>` : ''),
    ),
  );
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${esc(s.name)}: hyperlab report</title>\n<style>${STYLE}</style>\n${plotlyLibraryHtml()}\n</head>\n<body>\n${parts.join('\n')}\n</body></html>\n`;
}

/** Write (or refresh) RUN_DIR/report.html atomically; returns its path. */
export async function writeReport(runDir: string): Promise<string> {
  const html = await buildReport(runDir);
  const file = path.join(path.resolve(runDir), REPORT_FILE);
  writeFileAtomic(file, html);
  return file;
}
