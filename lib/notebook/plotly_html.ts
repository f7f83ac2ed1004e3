/**
 * The HTML that draws a plotly figure in a notebook output or a saved page,
 * without internet: plotly.js itself (the npm package plotly.js-cartesian-dist-min,
 * 1.5 MB) is put in the page once, as an inline <script>, and each figure is a
 * <div> with a small script that draws into it.
 *
 * Order does not matter: a figure whose script runs before plotly.js has
 * loaded queues itself on `window.__hyperlabPlots`, and the library's script
 * draws the queue once `window.Plotly` exists.
 */
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Figure } from '../plot/figure';

/** Marks the output that carries plotly.js (the HTML exporter moves it into the page head). */
export const PLOTLY_MARKER = '<!-- hyperlab:plotly.js -->';
/** Marks a figure output. */
export const FIGURE_CLASS = 'hyperlab-plot';

let plotlySource: string | null = null;

/** plotly.js's minified source, read once from node_modules. */
export function plotlyJs(): string {
  if (plotlySource === null) {
    let file: string;
    try {
      file = require.resolve('plotly.js-cartesian-dist-min');
    } catch {
      throw new Error('plotly.js is missing: the npm package plotly.js-cartesian-dist-min is not installed; run `npm install` in the hyperlab folder');
    }
    plotlySource = fs.readFileSync(file, 'utf8');
  }
  return plotlySource;
}

/** Text that is safe inside an inline <script>: no '</script' can end it early. */
export const scriptSafe = (js: string): string => js.replace(/<\/(script)/gi, '<\\/$1');

/** The <script> that defines window.Plotly, then draws the figures that were waiting for it. */
export function plotlyLibraryHtml(): string {
  return (
    `${PLOTLY_MARKER}\n<script type="text/javascript">${scriptSafe(plotlyJs())}</script>\n` +
    '<script type="text/javascript">(window.__hyperlabPlots || []).splice(0).forEach(function (draw) { draw(); });</script>'
  );
}

/** JSON that is safe inside a <script>, with NaN and Infinity (not JSON) as null, i.e. gaps. */
export function figureJson(figure: Figure): string {
  return JSON.stringify(figure, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export interface FigureHtmlOptions {
  /** CSS height of the plot (default 420px). */
  height?: string;
}

/**
 * A <div> and the script that draws `figure` into it. The script waits until the
 * div is in the page (a notebook may insert the output after running it) and
 * until plotly.js is there, and says so in the div if plotly.js never comes.
 */
export function figureHtml(figure: Figure, opts: FigureHtmlOptions = {}): string {
  const id = `hyperlab-plot-${randomBytes(6).toString('hex')}`;
  const height = opts.height ?? '420px';
  const script = `
(function () {
  var figure = ${figureJson(figure)};
  var id = ${JSON.stringify(id)};
  var tries = 0;
  function draw() {
    var div = document.getElementById(id);
    if (!div) { if (tries++ < 200) setTimeout(draw, 50); return; }
    div.textContent = '';
    window.Plotly.newPlot(div, figure.data, figure.layout, { responsive: true, displaylogo: false });
  }
  if (window.Plotly) { draw(); return; }
  (window.__hyperlabPlots = window.__hyperlabPlots || []).push(draw);
  setTimeout(function () {
    var div = document.getElementById(id);
    if (!window.Plotly && div) div.textContent = 'plotly.js is not loaded on this page. Run the notebook from the top ' +
      '(Kernel > Restart & Run All), or run hl.loadPlotly(true) in a cell and then this cell again.';
  }, 5000);
})();`;
  return `<div id="${id}" class="${FIGURE_CLASS}" style="width:100%;height:${height};"></div>\n<script type="text/javascript">${scriptSafe(script)}</script>`;
}

/** A whole HTML page showing the figures (for `saveHtml` and reports): works offline, from a file. */
export function figurePage(figures: Figure[], title = 'hyperlab'): string {
  const esc = title.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${esc}</title>\n${plotlyLibraryHtml()}\n</head>\n<body>\n${figures
    .map((f) => figureHtml(f))
    .join('\n')}\n</body></html>\n`;
}
