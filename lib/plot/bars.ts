/**
 * A bar per run, in the run's colour (`runColor`), its value written on the bar.
 *
 *     show(barChart({ 'from scratch': 0.71, 'fine-tuned': 0.86 }, { yLabel: 'accuracy', yRange: [0.5, 1] }));
 */
import { baseLayout, Figure } from './figure';
import { runColor } from './run_colors';
import { fmt } from '../notebook/fmt';

export interface BarChartOptions {
  title?: string;
  yLabel?: string;
  /** The y range shown (default: plotly's, from 0). */
  yRange?: [number, number];
  /** Significant digits of the numbers on the bars (default 3). */
  digits?: number;
}

export function barChart(values: Record<string, number>, opts: BarChartOptions = {}): Figure {
  const names = Object.keys(values ?? {});
  if (names.length === 0) throw new Error('barChart: expected { name: value, ... } with at least one bar');
  const bad = names.filter((n) => typeof values[n] !== 'number');
  if (bad.length) throw new Error(`barChart: the value of '${bad.join("', '")}' is not a number; give one number per bar`);
  const y = names.map((n) => (Number.isFinite(values[n]) ? values[n] : null));
  const text = names.map((n) => fmt(values[n], opts.digits ?? 3));
  const colors = names.map(runColor);
  const layout = baseLayout(opts.title ?? '', '', opts.yLabel ?? '', { showlegend: false });
  if (opts.yRange) layout.yaxis = { ...layout.yaxis, range: opts.yRange };
  return { data: [{ type: 'bar', x: names, y, text, textposition: 'auto', marker: { color: colors } }], layout };
}
