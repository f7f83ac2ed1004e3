/**
 * Showing figures in a notebook (the tslab kernel), and a live training curve.
 *
 *     hl.show(hl.lossCurves(history));
 *     await trainer.fit(loader, { epochs: 20 });   // with callbacks: [new hl.LivePlot()]
 *
 * Each figure is sent as text/html (a <div> and a <script>, see plotly_html.ts).
 * That renders in JupyterLab, classic Notebook and nbconvert's HTML, offline:
 * plotly.js is sent once per kernel session, as its own output, the first time
 * a figure is shown.
 *
 * Outside a notebook kernel (a script, a test, the CLI) there is nowhere to
 * draw: `show` prints a one-line note instead and `LivePlot` does nothing.
 */
import * as fs from 'node:fs';
import type { Display } from 'tslab';
import { Callback, Logs } from '../train/callback';
import { Figure } from '../plot/figure';
import { lossCurves, LossCurvesOptions } from '../plot/loss_curves';
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
  kernel.display.html(figureHtml(figure, opts));
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
 */
export class LivePlot extends Callback {
  private display: Display | null = null;
  private drawnEpochs = 0;

  constructor(readonly options: LivePlotOptions = {}) {
    super();
  }

  onTrainBegin(): void {
    const kernel = tslab();
    if (!kernel) return; // Not in a notebook: the progress bar is the feedback.
    loadPlotly();
    this.display = kernel.newDisplay();
    this.drawnEpochs = 0;
    this.display.html(`<div class="hyperlab-plot-waiting">LivePlot: waiting for the first epoch...</div>`);
  }

  onEpochEnd(epoch: number, _logs: Logs): void {
    const every = this.options.every ?? 1;
    const last = epoch + 1 >= this.trainer.targetEpochs;
    if (this.display && ((epoch + 1) % every === 0 || last)) this.draw();
  }

  onTrainEnd(): void {
    // Draw the final state (also when early stopping ended the run between redraws).
    if (this.display && this.trainer.history.epoch.length > this.drawnEpochs) this.draw();
    this.display = null;
  }

  private draw(): void {
    const figure = lossCurves(this.trainer.history, { title: 'Training', ...this.options });
    this.display!.html(figureHtml(figure, this.options));
    this.drawnEpochs = this.trainer.history.epoch.length;
  }
}
