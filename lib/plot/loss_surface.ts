/**
 * A loss surface with optimizer paths: contours of a function of two
 * parameters, and the points an optimizer visited on it.
 *
 *     const f = (x: number, y: number) => (1 - x) ** 2 + 100 * (y - x * x) ** 2;   // Rosenbrock
 *     show(lossSurface(f, [{ name: 'SGD', points: sgdPoints }, { name: 'Adam', points: adamPoints }],
 *                      { xRange: [-2, 2], yRange: [-1, 3], logZ: true }));
 */
import { baseLayout, Figure, linspace, Trace } from './figure';
import { runColor } from './run_colors';

export interface OptimizerPath {
  name: string;
  /** The (x, y) points in order, the start first. */
  points: [number, number][];
}

export interface LossSurfaceOptions {
  /** The x and y intervals; default: the paths' extent with a margin, or [-2, 2]. */
  xRange?: [number, number];
  yRange?: [number, number];
  /** Grid points per axis (default 80). */
  resolution?: number;
  /** Contours of log10(loss), for surfaces whose values span orders of magnitude. */
  logZ?: boolean;
  title?: string;
}

/** The range of the paths' coordinate `axis`, widened by 20% on each side. */
function pathRange(paths: OptimizerPath[], axis: 0 | 1): [number, number] | null {
  const vs = paths.flatMap((p) => p.points.map((pt) => pt[axis])).filter(Number.isFinite);
  if (vs.length === 0) return null;
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  const pad = (hi - lo) * 0.2 || 1;
  return [lo - pad, hi + pad];
}

/** The length of a path (sum of its steps; NaN points skipped). */
function pathLength(points: [number, number][]): number {
  let total = 0;
  for (let j = 1; j < points.length; j++) {
    const d = Math.hypot(points[j][0] - points[j - 1][0], points[j][1] - points[j - 1][1]);
    if (Number.isFinite(d)) total += d;
  }
  return total;
}

export function lossSurface(fn: (x: number, y: number) => number, paths: OptimizerPath[] = [], opts: LossSurfaceOptions = {}): Figure {
  if (typeof fn !== 'function') throw new Error('lossSurface: expected a function (x, y) => loss');
  const n = opts.resolution ?? 80;
  const [x0, x1] = opts.xRange ?? pathRange(paths, 0) ?? [-2, 2];
  const [y0, y1] = opts.yRange ?? pathRange(paths, 1) ?? [-2, 2];
  const xs = linspace(x0, x1, n);
  const ys = linspace(y0, y1, n);
  // z[i][j] is the loss at (xs[j], ys[i]): plotly's rows go along y.
  const z = ys.map((y) =>
    xs.map((x) => {
      const v = fn(x, y);
      const shown = opts.logZ ? Math.log10(v) : v;
      return Number.isFinite(shown) ? shown : null;
    }),
  );
  const data: Trace[] = [
    {
      type: 'contour',
      name: opts.logZ ? 'log10(loss)' : 'loss',
      x: xs,
      y: ys,
      z,
      colorscale: 'Viridis',
      ncontours: 30,
      contours: { coloring: 'heatmap' },
      colorbar: { title: { text: opts.logZ ? 'log10 loss' : 'loss' } },
    },
  ];
  paths.forEach((path) => {
    if (!Array.isArray(path.points) || path.points.some((pt) => !Array.isArray(pt) || pt.length !== 2)) {
      throw new Error(`lossSurface: path '${path.name}' must have points as [x, y] pairs`);
    }
    runColor(path.name); // a new name gets its colour in the order given, not the drawing order
  });
  // Each path in its run's colour (the same in every chart: runColor). The shortest
  // path is drawn last, on top, so a slow run is not hidden under the others;
  // the legend keeps the order given.
  const order = paths.map((path, i) => ({ path, i, length: pathLength(path.points) })).sort((a, b) => b.length - a.length);
  for (const { path, i } of order) {
    const color = runColor(path.name);
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: path.name,
      legendrank: 1000 + i,
      x: path.points.map((pt) => pt[0]),
      y: path.points.map((pt) => pt[1]),
      line: { color, width: 3 },
      // A big marker where the path starts, smaller ones after, outlined in white.
      marker: { color, size: path.points.map((_, j) => (j === 0 ? 12 : 7)), line: { color: 'white', width: 1 } },
    });
  }
  const layout = baseLayout(opts.title ?? 'Loss surface', 'x', 'y', { legend: { orientation: 'h', y: -0.2 } });
  return { data, layout };
}
