/**
 * Weight histograms: how the values of each parameter are spread, e.g. right
 * after initialisation (Kaiming, Xavier) and again after training.
 *
 *     show(weightHistogram(model));                          // every parameter
 *     show(weightHistogram(model, { include: (n) => n.endsWith('weight') }));
 *
 * The counts are computed here (fixed bins shared by all parameters), so the
 * figure stays small whatever the model's size.
 */
import { Module } from '../nn/module';
import { baseLayout, COLORS, Figure, Trace } from './figure';

export interface WeightHistogramOptions {
  /** Number of bins (default 40). */
  bins?: number;
  /** Which parameters, by name ('0.weight'); default all. */
  include?: (name: string) => boolean;
  /** Counts as fractions of each parameter's size, so large and small layers compare (default true). */
  normalize?: boolean;
  title?: string;
}

/** Counts of `values` in `bins` equal bins over [lo, hi]; the last bin includes hi. */
export function histogram(values: ArrayLike<number>, bins: number, lo: number, hi: number): number[] {
  const counts = new Array(bins).fill(0);
  const width = (hi - lo) / bins || 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))]++;
  }
  return counts;
}

export function weightHistogram(model: Module, opts: WeightHistogramOptions = {}): Figure {
  if (!(model instanceof Module)) throw new Error('weightHistogram: expected a Module (a model or a layer)');
  const bins = opts.bins ?? 40;
  if (!(Number.isInteger(bins) && bins > 0)) throw new Error(`weightHistogram: bins must be a whole number > 0, got ${bins}`);
  const params = [...model.namedParameters()]
    .filter(([name]) => opts.include?.(name) ?? true)
    .map(([name, p]) => ({ name, values: p.dataSync() as Float32Array }));
  if (params.length === 0) throw new Error('weightHistogram: no parameters to draw (the model has none, or `include` rejected them all)');

  let lo = Infinity;
  let hi = -Infinity;
  for (const { values } of params)
    for (const v of values)
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
  if (!(lo <= hi)) throw new Error('weightHistogram: every parameter value is NaN or infinite');
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / bins;
  const centres = Array.from({ length: bins }, (_, i) => lo + (i + 0.5) * width);
  const normalize = opts.normalize ?? true;

  const data: Trace[] = params.map(({ name, values }, i) => {
    const counts = histogram(values, bins, lo, hi);
    return {
      type: 'bar',
      name: `${name} (${values.length})`,
      x: centres,
      y: normalize ? counts.map((c) => c / values.length) : counts,
      width,
      opacity: 0.6,
      marker: { color: COLORS[i % COLORS.length] },
    };
  });
  return { data, layout: baseLayout(opts.title ?? 'Parameter values', 'value', normalize ? 'fraction' : 'count', { barmode: 'overlay' }) };
}
