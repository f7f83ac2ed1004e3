/**
 * Grouped bars: one series per run (each in its `runColor`), one group per category.
 *
 *     show(groupedBars({ 'T = 0.5': [0.86, 0.12, 0.02], 'T = 5': [0.4, 0.33, 0.27] },
 *                      { categories: ['0', '1', '2'], xLabel: 'class', yLabel: 'probability' }));
 */
import { baseLayout, Figure, finiteOrNull } from './figure';
import { runColor } from './run_colors';

export interface GroupedBarsOptions {
  /** The category of each value (default 0, 1, 2, ...). */
  categories?: (string | number)[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
}

export function groupedBars(series: Record<string, number[]>, opts: GroupedBarsOptions = {}): Figure {
  const names = Object.keys(series ?? {});
  if (names.length === 0) throw new Error("groupedBars: expected { name: [values], ... }, e.g. { 'T = 1': [0.66, 0.24, 0.1] }");
  const n = series[names[0]].length;
  const bad = names.filter((k) => !Array.isArray(series[k]) || series[k].length !== n);
  if (bad.length) throw new Error(`groupedBars: '${bad.join("', '")}' must have ${n} values like '${names[0]}'`);
  const x = (opts.categories ?? Array.from({ length: n }, (_, i) => i)).map(String);
  if (x.length !== n) throw new Error(`groupedBars: ${x.length} categories for ${n} values; give one category per value`);
  const data = names.map((name) => ({
    type: 'bar' as const,
    name,
    x,
    y: series[name].map(finiteOrNull),
    marker: { color: runColor(name) },
  }));
  const layout = baseLayout(opts.title ?? '', opts.xLabel ?? '', opts.yLabel ?? '', { barmode: 'group' });
  layout.xaxis = { ...layout.xaxis, type: 'category' };
  return { data, layout };
}
