/**
 * Plotly figures as plain data: `{ data, layout }`, the same object plotly.js
 * draws with `Plotly.newPlot(div, figure.data, figure.layout)`.
 *
 * The builders in this folder only compute numbers and return such objects, so
 * they are easy to test and to save as JSON. Showing one in a notebook is
 * `show(figure)` (lib/notebook/display.ts).
 */
import { tf } from '../engine/tf';

/** One plotly trace: `{ type: 'scatter', x: [...], y: [...], name: 'loss' }`; see plotly.js's reference for the keys. */
export interface Trace {
  type: 'scatter' | 'bar' | 'contour' | 'heatmap';
  name?: string;
  x?: (number | string | null)[];
  y?: (number | null)[];
  z?: (number | null)[][];
  [key: string]: unknown;
}

export interface Layout {
  title?: { text: string };
  xaxis?: Record<string, unknown>;
  yaxis?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Figure {
  data: Trace[];
  layout: Layout;
}

/** Line colours, in the order traces get them (plotly's default palette). */
export const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** A layout with a title, axis labels and hyperlab's defaults (white background, legend on top). */
export function baseLayout(title: string, xLabel: string, yLabel: string, extra: Partial<Layout> = {}): Layout {
  return {
    title: { text: title },
    xaxis: { title: { text: xLabel }, zeroline: false },
    yaxis: { title: { text: yLabel }, zeroline: false },
    template: 'plotly_white',
    legend: { orientation: 'h', y: -0.2 },
    margin: { t: 50, r: 20, b: 60, l: 60 },
    ...extra,
  };
}

/** JSON has no NaN or Infinity: plotly draws a gap where a value is null. */
export const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** The values of a tensor or an array as a plain number array (the tensor is not disposed). */
export function toNumbers(values: tf.Tensor | ArrayLike<number>, what: string): number[] {
  if (values instanceof tf.Tensor) return Array.from(values.dataSync());
  if (values && typeof (values as ArrayLike<number>).length === 'number') return Array.from(values as ArrayLike<number>);
  throw new Error(`${what}: expected a tensor or an array of numbers, got ${typeof values}`);
}

/** n evenly spaced numbers from `from` to `to` (both included), like `torch.linspace`. */
export function linspace(from: number, to: number, n: number): number[] {
  if (!(Number.isInteger(n) && n >= 2)) throw new Error(`linspace: n must be a whole number >= 2, got ${n}`);
  return Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));
}
