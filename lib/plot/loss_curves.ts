/**
 * Loss curves: training and validation loss per epoch, from `Trainer.fit`'s
 * history (`{ epoch: [0, 1, ...], loss: [...], val_loss: [...] }`).
 *
 * Each quantity gets one colour; its validation twin (`val_` + name) is drawn
 * in the same colour, dashed, so over-fitting shows as the two lines parting.
 */
import { baseLayout, COLORS, Figure, finiteOrNull, Trace } from './figure';

/** Per-epoch lists by name, as in `History`; `epoch` (0-based) is optional. */
export type HistoryLike = { epoch?: number[] } & Record<string, number[] | undefined>;

export interface LossCurvesOptions {
  /** Which training quantities to draw (their `val_` twins come along). Default: every key ending in "loss". */
  keys?: string[];
  /** A logarithmic y axis (useful when the loss falls by orders of magnitude). */
  logY?: boolean;
  title?: string;
  /** A dotted vertical line at this epoch (counted from 1, as on the axis), e.g. the best epoch. */
  markEpoch?: number;
  /** Keys drawn as open markers without a line, so a curve lying on another one stays visible. */
  markersOnly?: string[];
  /** The y axis label (default 'loss'; e.g. 'accuracy' when the keys are metrics). */
  yLabel?: string;
}

export function lossCurves(history: HistoryLike, opts: LossCurvesOptions = {}): Figure {
  if (!history || typeof history !== 'object') {
    throw new Error('lossCurves: expected the history that Trainer.fit returns ({ loss: [...], val_loss: [...] })');
  }
  const trainKeys = opts.keys ?? Object.keys(history).filter((k) => k.endsWith('loss') && !k.startsWith('val_'));
  // A history with validation only (unusual) still gets its curves.
  if (trainKeys.length === 0)
    trainKeys.push(
      ...Object.keys(history)
        .filter((k) => k.startsWith('val_'))
        .map((k) => k.slice(4)),
    );
  const missing = trainKeys.filter((k) => !history[k] && !history[`val_${k}`]);
  if (missing.length) {
    throw new Error(`lossCurves: the history has no '${missing.join("', '")}'; it has: ${Object.keys(history).join(', ')}`);
  }

  const data: Trace[] = [];
  trainKeys.forEach((key, i) => {
    const color = COLORS[i % COLORS.length];
    for (const [name, dash] of [
      [key, 'solid'],
      [`val_${key}`, 'dash'],
    ] as const) {
      const values = history[name];
      if (!values) continue;
      // Epochs are counted from 1 on the axis, as the progress bar prints them.
      const x = values.map((_, j) => (history.epoch?.[j] ?? j) + 1);
      if (opts.markersOnly?.includes(name)) {
        data.push({ type: 'scatter', mode: 'markers', name, x, y: values.map(finiteOrNull), marker: { color, symbol: 'circle-open', size: 9 } });
        continue;
      }
      data.push({ type: 'scatter', mode: 'lines+markers', name, x, y: values.map(finiteOrNull), line: { color, dash }, connectgaps: true }); // validation every n epochs: join its points
    }
  });
  const layout = baseLayout(opts.title ?? 'Loss', 'epoch', opts.yLabel ?? 'loss');
  if (opts.logY) layout.yaxis = { ...layout.yaxis, type: 'log' };
  if (opts.markEpoch !== undefined) {
    layout.shapes = [{ type: 'line', x0: opts.markEpoch, x1: opts.markEpoch, yref: 'paper', y0: 0, y1: 1, line: { dash: 'dot', color: '#7f7f7f' } }];
  }
  return { data, layout };
}
