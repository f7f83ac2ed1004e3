/**
 * Showing figures in a notebook (the tslab kernel), and a live training curve.
 *
 *     hl.show(hl.lossCurves(history));
 *     await trainer.fit(loader, { epochs: 20 });   // with callbacks: [new hl.LivePlot()]
 *
 * Each figure is one output carrying text/html (a <div> and a <script>, see
 * plotly_html.ts) and application/vnd.plotly.v1+json (see mime_bundle.ts), so
 * JupyterLab, classic Notebook, VS Code and nbconvert's HTML each draw it once,
 * offline: plotly.js is sent once per kernel session, as its own output, the
 * first time a figure is shown.
 *
 * Outside a notebook kernel (a script, a test, the CLI) there is nowhere to
 * draw: `show` prints a one-line note instead and `LivePlot` does nothing.
 */
import * as fs from 'node:fs';
import type { Display } from 'tslab';
import { Callback, Logs } from '../train/callback';
import { Figure } from '../plot/figure';
import { lossCurves, LossCurvesOptions } from '../plot/loss_curves';
import { BundleDisplay, figureBundle } from './mime_bundle';
import { figureHtml, figurePage, FigureHtmlOptions, plotlyLibraryHtml } from './plotly_html';

interface TslabApi {
  display: Display;
  newDisplay(): Display;
}

/**
 * tslab's display API when this code runs inside a tslab kernel, else null.
 * The kernel sets `globalThis.__tslab__`, whose `require('tslab')` gives the
 * kernel's own display functions (whichever copy of tslab started it).
 */
export function tslab(): TslabApi | null {
  const hook = (globalThis as { __tslab__?: { require(id: string): unknown } }).__tslab__;
  return hook ? (hook.require('tslab') as TslabApi) : null;
}

export const inNotebook = (): boolean => tslab() !== null;

let plotlySent = false;

/**
 * Send plotly.js to the notebook page (once per kernel session; `force` sends
 * it again, e.g. after clearing the output that carried it).
 */
export function loadPlotly(force = false): void {
  const kernel = tslab();
  if (!kernel || (plotlySent && !force)) return;
  kernel.display.html(plotlyLibraryHtml());
  plotlySent = true;
}

/** Draw a figure as this cell's output. */
export function show(figure: Figure, opts: FigureHtmlOptions = {}): void {
  checkFigure(figure, 'show');
  const kernel = tslab();
  if (!kernel) {
    const title = figure.layout?.title?.text ?? 'figure';
    console.log(`show(): '${title}' is not drawn: this is not a notebook kernel. Save it as a page with saveHtml(figure, 'plot.html').`);
    return;
  }
  loadPlotly();
  new BundleDisplay((html) => kernel.display.html(html)).show(figureBundle(figure, opts));
}

/** Write figures to a self-contained HTML page (opens offline in any browser). */
export function saveHtml(figures: Figure | Figure[], file: string, title?: string): void {
  const list = Array.isArray(figures) ? figures : [figures];
  list.forEach((f) => checkFigure(f, 'saveHtml'));
  fs.writeFileSync(file, figurePage(list, title ?? list[0]?.layout?.title?.text ?? 'hyperlab'));
}

function checkFigure(figure: Figure, where: string): void {
  if (!figure || !Array.isArray(figure.data) || typeof figure.layout !== 'object') {
    throw new Error(`${where}(): expected a figure { data: [...], layout: {...} } as the plot builders return (e.g. hl.lossCurves(history))`);
  }
}

export interface LivePlotOptions extends LossCurvesOptions, FigureHtmlOptions {
  /** Redraw every n epochs (default 1); the last epoch is always drawn. */
  every?: number;
}

/**
 * A Trainer callback that draws the loss curves in one notebook output and
 * redraws that same output after each epoch (Jupyter's update_display_data),
 * so the chart grows in place while `fit` runs, instead of one chart per epoch.
 *
 * While training, the redraws are HTML only: jupyterlab-plotly keeps the first
 * figure it drew in an output and ignores updates to it (plotly.py issue 3053),
 * whereas an HTML output is redrawn by every client. The final drawing, the one
 * saved in the notebook, is the full bundle (mime_bundle.ts).
 */
export class LivePlot extends Callback {
  private display: BundleDisplay | null = null;

  constructor(readonly options: LivePlotOptions = {}) {
    super();
  }

  onTrainBegin(): void {
    const kernel = tslab();
    if (!kernel) return; // Not in a notebook: the progress bar is the feedback.
    loadPlotly();
    const tslabDisplay: Display = kernel.newDisplay();
    this.display = new BundleDisplay((html) => tslabDisplay.html(html));
    this.display.show({ 'text/html': `<div class="hyperlab-plot-waiting">LivePlot: waiting for the first epoch...</div>` });
  }

  onEpochEnd(epoch: number, _logs: Logs): void {
    const every = this.options.every ?? 1;
    const last = epoch + 1 >= this.trainer.targetEpochs;
    // The last epoch is drawn by onTrainEnd.
    if (this.display && !last && (epoch + 1) % every === 0) this.draw(false);
  }

  onTrainEnd(): void {
    // The final state, as the full bundle (also when early stopping ended the run between redraws).
    if (this.display && this.trainer.history.epoch.length > 0) this.draw(true);
    this.display = null;
  }

  private draw(final: boolean): void {
    const figure = lossCurves(this.trainer.history, { title: 'Training', ...this.options });
    this.display!.show(final ? figureBundle(figure, this.options) : { 'text/html': figureHtml(figure, this.options) });
  }
}
