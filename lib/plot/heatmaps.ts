/**
 * Images side by side, one panel each, on a shared colour scale (so equal values
 * look equal in every panel): slices of a cube, feature maps, weight matrices.
 *
 *     show(heatmaps({ GR: grSlice, Newton: newtonSlice }, { side: 64, zRange: [-3, 3] }));
 *
 * An image is a list of rows or a flat row-major array with `side` columns.
 */
import { baseLayout, Figure, Trace } from './figure';

export interface HeatmapsOptions {
  /** Columns of a flat (row-major) image. */
  side?: number;
  /** The colour scale's range, shared by every panel (default: the min and max over all). */
  zRange?: [number, number];
  /** A plotly colour scale name (default 'RdBu'). */
  colorscale?: string;
  title?: string;
  /** Width of one panel in pixels (default 360). */
  panelWidth?: number;
}

type Image = number[][] | ArrayLike<number>;

function rows(img: Image, side: number | undefined, name: string): number[][] {
  const first = (img as ArrayLike<unknown>)[0];
  if (Array.isArray(first)) return (img as number[][]).map((r) => Array.from(r));
  const flat = Array.from(img as ArrayLike<number>);
  if (!side || flat.length % side !== 0) {
    throw new Error(`heatmaps: '${name}' is a flat array of ${flat.length} values; give side (its number of columns) that divides it`);
  }
  return Array.from({ length: flat.length / side }, (_, i) => flat.slice(i * side, (i + 1) * side));
}

export function heatmaps(images: Record<string, Image>, opts: HeatmapsOptions = {}): Figure {
  const names = Object.keys(images);
  if (names.length === 0) throw new Error('heatmaps: no images; pass { name: image, ... }');
  const grids = names.map((n) => rows(images[n], opts.side, n));
  let [lo, hi] = opts.zRange ?? [Infinity, -Infinity];
  if (!opts.zRange)
    for (const g of grids)
      for (const r of g)
        for (const v of r)
          if (Number.isFinite(v)) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
          }
  const data: Trace[] = grids.map((z, i) => ({
    type: 'heatmap',
    name: names[i],
    z,
    zmin: lo,
    zmax: hi,
    colorscale: opts.colorscale ?? 'RdBu',
    showscale: i === grids.length - 1,
    xaxis: i === 0 ? 'x' : `x${i + 1}`,
    yaxis: i === 0 ? 'y' : `y${i + 1}`,
  }));
  const layout = baseLayout(opts.title ?? names.join(' | '), '', '', {
    grid: { rows: 1, columns: names.length, pattern: 'independent' },
    width: (opts.panelWidth ?? 360) * names.length + 40,
    height: (opts.panelWidth ?? 360) + 40,
    annotations: names.map((n, i) => ({ text: n, showarrow: false, xref: `x${i ? i + 1 : ''} domain`, yref: `y${i ? i + 1 : ''} domain`, x: 0.5, y: 1.08 })),
  });
  return { data, layout };
}
