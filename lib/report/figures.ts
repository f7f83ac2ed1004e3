/**
 * The figures of a run report, as plotly `{data, layout}` objects: loss curves and the other
 * metric curves from metrics.csv, the learning rate, and predictions against targets.
 * The loss curves and the prediction scatter come from lib/plot; the rest is built here.
 */
import { baseLayout, COLORS, Figure, finiteOrNull, Trace } from '../plot/figure';
import { lossCurves } from '../plot/loss_curves';
import { predictionsVsTargets } from '../plot/predictions';
import type { PredictionManifest } from '../runs/predict_output';

/** Per-epoch columns of metrics.csv: `epoch` (0-based) and one array per metric. */
export type MetricsHistory = { epoch: number[] } & Record<string, number[]>;

/** The training metrics besides the losses and the learning rate: mse, mae, acc, ... */
export function otherMetrics(h: MetricsHistory): string[] {
  const names = Object.keys(h).filter((k) => k !== 'epoch' && k !== 'lr' && !k.endsWith('loss'));
  const base = new Set(names.map((k) => k.replace(/^val_/, '')));
  return [...base];
}

/** One figure per metric, its validation twin dashed in the same colour (as lossCurves draws losses). */
export function metricFigure(h: MetricsHistory, metric: string): Figure {
  const fig = lossCurves(h, { keys: [metric], title: metric });
  fig.layout.yaxis = { ...fig.layout.yaxis, title: { text: metric } };
  return fig;
}

/** The learning rate per epoch (log axis when it spans more than a factor 10). */
export function lrFigure(h: MetricsHistory): Figure | null {
  const lr = h.lr;
  if (!lr || lr.length === 0) return null;
  const pos = lr.filter((v) => v > 0);
  const log = pos.length === lr.length && Math.max(...pos) / Math.min(...pos) > 10;
  const layout = baseLayout('Learning rate', 'epoch', 'learning rate');
  if (log) layout.yaxis = { ...layout.yaxis, type: 'log' };
  // A constant rate would get plotly's default range of value ± 1, drawing it as 0.
  else if (pos.length && Math.min(...lr) === Math.max(...lr)) layout.yaxis = { ...layout.yaxis, range: [0, 2 * lr[0]] };
  layout.yaxis = { ...layout.yaxis, exponentformat: 'e' };
  return {
    data: [{ type: 'scatter', mode: 'lines+markers', name: 'lr', x: h.epoch.map((e) => e + 1), y: lr.map(finiteOrNull), line: { color: COLORS[2] } }],
    layout,
  };
}

/** A few predicted samples over their targets: target solid, prediction dashed, one colour per sample. */
export function predictionSeriesFigure(m: PredictionManifest): Figure {
  const data: Trace[] = [];
  m.preview.samples.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    if (s.target) data.push({ type: 'scatter', mode: 'lines', name: `${s.id} target`, x: m.preview.x, y: s.target.map(finiteOrNull), line: { color } });
    data.push({ type: 'scatter', mode: 'lines', name: `${s.id} prediction`, x: m.preview.x, y: s.prediction.map(finiteOrNull), line: { color, dash: 'dash' } });
  });
  return { data, layout: baseLayout(`Predictions (${m.source}, checkpoint ${m.checkpoint.which})`, m.preview.xLabel, 'value') };
}

/** Every previewed value, prediction against target (null when no sample has a target). */
export function predictionScatterFigure(m: PredictionManifest): Figure | null {
  const withTarget = m.preview.samples.filter((s) => s.target);
  if (withTarget.length === 0) return null;
  return predictionsVsTargets(
    withTarget.flatMap((s) => s.prediction),
    withTarget.flatMap((s) => s.target!),
  );
}
