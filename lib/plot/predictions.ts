/**
 * Predictions against targets.
 *
 * - 'scatter' (default): one point per value, target on x and prediction on y;
 *   a perfect model puts every point on the dashed diagonal y = x.
 * - 'series': both against their index, for one sample's spectrum or a time series.
 */
import { tf } from '../engine/tf';
import { baseLayout, Figure, toNumbers } from './figure';

export interface PredictionsOptions {
  kind?: 'scatter' | 'series';
  /** The x values for 'series' (e.g. energies); default 0, 1, 2, ... */
  x?: ArrayLike<number>;
  title?: string;
}

/** Coefficient of determination R² = 1 - SS_res / SS_tot (1 is perfect, 0 is as good as the mean). */
export function rSquared(pred: number[], target: number[]): number {
  const mean = target.reduce((a, b) => a + b, 0) / target.length;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < target.length; i++) {
    res += (target[i] - pred[i]) ** 2;
    tot += (target[i] - mean) ** 2;
  }
  return tot === 0 ? NaN : 1 - res / tot;
}

export function predictionsVsTargets(pred: tf.Tensor | ArrayLike<number>, target: tf.Tensor | ArrayLike<number>, opts: PredictionsOptions = {}): Figure {
  const p = toNumbers(pred, 'predictionsVsTargets (pred)');
  const t = toNumbers(target, 'predictionsVsTargets (target)');
  if (p.length !== t.length) {
    throw new Error(`predictionsVsTargets: ${p.length} predictions but ${t.length} targets; pass tensors of the same shape`);
  }
  if (p.length === 0) throw new Error('predictionsVsTargets: no values to draw');

  if (opts.kind === 'series') {
    const x = opts.x ? Array.from(opts.x) : p.map((_, i) => i);
    if (x.length !== p.length) throw new Error(`predictionsVsTargets: x has ${x.length} values, the data ${p.length}`);
    return {
      data: [
        { type: 'scatter', mode: 'lines', name: 'target', x, y: t },
        { type: 'scatter', mode: 'lines', name: 'prediction', x, y: p, line: { dash: 'dash' } },
      ],
      layout: baseLayout(opts.title ?? 'Prediction and target', 'index', 'value'),
    };
  }

  let lo = Infinity;
  let hi = -Infinity;
  for (const v of [...t, ...p])
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  const r2 = rSquared(p, t);
  return {
    data: [
      { type: 'scatter', mode: 'markers', name: 'samples', x: t, y: p, marker: { size: 5, opacity: 0.6 } },
      { type: 'scatter', mode: 'lines', name: 'y = x', x: [lo, hi], y: [lo, hi], line: { dash: 'dash', color: '#7f7f7f' } },
    ],
    layout: baseLayout(opts.title ?? `Predictions against targets (R² = ${r2.toFixed(3)})`, 'target', 'prediction'),
  };
}
