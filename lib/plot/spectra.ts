/**
 * Spectra on one energy axis: a reference (the true spectrum, thick and black)
 * and one line per model, each model in the same colour as in the notebook's other
 * charts (`colors`, or `runColor(name)`).
 *
 *     show(spectraPlot(energies, { mlp: predMlp, cnn: predCnn }, { reference: { name: 'true', y: target } }));
 *
 * Many curves on one axis hide each other: `panels: 3` draws one small panel per
 * curve, 3 a row, each with the reference behind it, on shared axes.
 */
import { baseLayout, Figure, toNumbers, Trace } from './figure';
import { runColor } from './run_colors';

export interface SpectraPlotOptions {
  /** A reference curve (the truth), drawn first, thick and black. */
  reference?: { name: string; y: ArrayLike<number> };
  /** A colour per curve name; others take `runColor(name)`. */
  colors?: Record<string, string>;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** One panel per curve, this many a row (the reference drawn in each); default: all on one axis. */
  panels?: number;
}

export function spectraPlot(x: ArrayLike<number>, curves: Record<string, ArrayLike<number>>, opts: SpectraPlotOptions = {}): Figure {
  const xs = toNumbers(x, 'spectraPlot (x)');
  const names = Object.keys(curves);
  if (names.length === 0 && !opts.reference) throw new Error('spectraPlot: no curves to draw; pass { name: values, ... }');
  const line = (name: string, values: ArrayLike<number>, color: string, width: number): Trace => {
    const y = toNumbers(values, `spectraPlot (${name})`);
    if (y.length !== xs.length) throw new Error(`spectraPlot: '${name}' has ${y.length} values but x has ${xs.length}; give one value per energy`);
    return { type: 'scatter', mode: 'lines', name, x: xs, y, line: { color, width } };
  };
  const layout = baseLayout(opts.title ?? 'Spectra', opts.xLabel ?? 'energy (eV)', opts.yLabel ?? 'absorption μ');
  const color = (name: string) => opts.colors?.[name] ?? runColor(name);
  if (opts.panels === undefined) {
    const data: Trace[] = opts.reference ? [line(opts.reference.name, opts.reference.y, 'black', 3)] : [];
    names.forEach((name) => data.push(line(name, curves[name], color(name), 1.5)));
    return { data, layout };
  }
  if (!(Number.isInteger(opts.panels) && opts.panels >= 1))
    throw new Error(`spectraPlot: panels is the number of panels a row, a whole number >= 1; got ${opts.panels}`);
  const columns = Math.min(opts.panels, names.length);
  const rows = Math.ceil(names.length / columns);
  const data: Trace[] = [];
  const annotations: Record<string, unknown>[] = [];
  names.forEach((name, i) => {
    const axis = i === 0 ? '' : String(i + 1);
    const onAxis = { xaxis: `x${axis}`, yaxis: `y${axis}` };
    if (opts.reference) data.push({ ...line(opts.reference.name, opts.reference.y, 'black', 2), ...onAxis, showlegend: i === 0 });
    data.push({ ...line(name, curves[name], color(name), 1.5), ...onAxis });
    annotations.push({
      text: name,
      showarrow: false,
      xref: `x${axis} domain`,
      yref: `y${axis} domain`,
      x: 0.02,
      y: 0.98,
      xanchor: 'left',
      yanchor: 'top',
      font: { color: color(name) },
    });
  });
  const axes: Record<string, unknown> = {};
  for (let i = 0; i < names.length; i++) {
    const k = i === 0 ? '' : String(i + 1);
    const bottom = i >= names.length - columns;
    axes[`xaxis${k}`] = { matches: 'x', showticklabels: bottom, ...(bottom ? { title: { text: opts.xLabel ?? 'energy (eV)' } } : {}) };
    axes[`yaxis${k}`] = { matches: 'y', showticklabels: i % columns === 0, ...(i % columns === 0 ? { title: { text: opts.yLabel ?? 'absorption μ' } } : {}) };
  }
  return {
    data,
    layout: { ...layout, ...axes, grid: { rows, columns, pattern: 'independent' }, annotations, height: 220 * rows + 120, showlegend: false },
  };
}
