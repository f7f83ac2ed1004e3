/**
 * The learning-rate finder's curve as fastai draws it (`Recorder.plot_lr_find`;
 * fastai v1's `recorder.plot(skip_start=10, skip_end=5)`): smoothed loss against a
 * log learning-rate axis, without the first steps (the loss has barely started
 * averaging) and the last 5 (where it diverges), and with the suggestions as dots.
 *
 *     const found = await lrFind({ model, optimizer, loss, data });
 *     show(lrFinderPlot(found));              // valley marked, as fastai's default
 *
 * The y axis ends a little above the loss before its fall, so a rise at the end of
 * the sweep leaves through the top instead of squashing the valley; a note says
 * where and why the sweep stopped.
 */
import { baseLayout, Figure, Trace } from './figure';
import { runColor } from './run_colors';
import { fmt } from '../notebook/fmt';
import type { LrFindResult } from '../tune/lr_find';

type SuggestionName = 'valley' | 'minimum' | 'steep' | 'slide';

export interface LrFinderPlotOptions {
  /** Steps left out at the start (default numIt / 10, where fastai's suggestions start too). */
  skipStart?: number;
  /** Steps left out at the end (default 5, fastai's skip_end). */
  skipEnd?: number;
  /** Which suggestions to mark (default ['valley']). */
  suggestions?: SuggestionName[];
  title?: string;
}

const STOPPED: Record<LrFindResult['stopReason'], string> = {
  diverged: 'the smoothed loss passed 4× its best',
  nan: 'the loss became NaN',
  numIt: 'all steps done',
  'data exhausted': 'the data ran out',
};

export function lrFinderPlot(found: LrFindResult, opts: LrFinderPlotOptions = {}): Figure {
  if (!found || !Array.isArray(found.lrs) || !Array.isArray(found.losses)) {
    throw new Error('lrFinderPlot: expected the result of lrFind ({ lrs, losses, suggestions, ... })');
  }
  const skipStart = opts.skipStart ?? Math.floor(found.numIt / 10);
  const skipEnd = opts.skipEnd ?? 5;
  const end = found.lrs.length - skipEnd;
  if (!(Number.isInteger(skipStart) && Number.isInteger(skipEnd) && skipStart >= 0 && skipEnd >= 0) || end - skipStart < 2) {
    throw new Error(`lrFinderPlot: skipStart ${skipStart} and skipEnd ${skipEnd} leave fewer than 2 of the ${found.lrs.length} steps; lower them or run more steps (numIt)`);
  }
  const lrs = found.lrs.slice(skipStart, end);
  const losses = found.losses.slice(skipStart, end).map((v) => (Number.isFinite(v) ? v : null));
  const finite = losses.filter((v): v is number => v !== null);
  // The y range: from the lowest loss to a little above the highest loss before it.
  const lowest = finite.indexOf(Math.min(...finite));
  const top = Math.max(...finite.slice(0, lowest + 1));
  const pad = 0.1 * (top - finite[lowest] || Math.abs(top) || 1);
  const range = [finite[lowest] - pad, top + pad];

  const curveName = 'smoothed loss';
  const data: Trace[] = [{ type: 'scatter', mode: 'lines', name: curveName, x: lrs, y: losses, line: { color: runColor(curveName), width: 2 } }];
  for (const s of opts.suggestions ?? ['valley']) {
    const point = found.suggestions.points[s];
    if (!point || !Number.isFinite(point.lr)) continue;
    const name = `${s} ${fmt(found.suggestions[s], 2)}`;
    data.push({ type: 'scatter', mode: 'markers', name, x: [point.lr], y: [point.loss], marker: { color: runColor(s), size: 12 } });
  }
  const lastLr = found.lrs[found.lrs.length - 1];
  const note = `stopped at lr ${fmt(lastLr, 2)} (${STOPPED[found.stopReason] ?? found.stopReason}); ` +
    `first ${skipStart} and last ${skipEnd} steps not drawn`;
  const layout = baseLayout(opts.title ?? 'Learning-rate finder', 'learning rate (log scale)', 'smoothed loss');
  layout.xaxis = { ...layout.xaxis, type: 'log', exponentformat: 'power' };
  layout.yaxis = { ...layout.yaxis, range };
  layout.annotations = [{ x: 1, y: 1, xref: 'paper', yref: 'paper', xanchor: 'right', yanchor: 'bottom', showarrow: false, text: note, font: { size: 11 } }];
  return { data, layout };
}
