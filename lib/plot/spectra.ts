/**
 * Spectra on one energy axis: a reference (the true spectrum, thick and black)
 * and one line per model, each model in the same colour as in the notebook's other
 * charts (`colors`, or `runColor(name)`).
 *
 *     show(spectraPlot(energies, { mlp: predMlp, cnn: predCnn }, { reference: { name: 'true', y: target } }));
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
  const data: Trace[] = opts.reference ? [line(opts.reference.name, opts.reference.y, 'black', 3)] : [];
  names.forEach((name) => data.push(line(name, curves[name], opts.colors?.[name] ?? runColor(name), 1.5)));
  return { data, layout: baseLayout(opts.title ?? 'Spectra', opts.xLabel ?? 'energy (eV)', opts.yLabel ?? 'absorption μ') };
}
