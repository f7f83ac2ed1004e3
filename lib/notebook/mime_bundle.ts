/**
 * A figure as one notebook output that carries it twice, so that every client
 * draws it exactly once, in the representation it renders best:
 *
 *   text/html                        a <div> + <script> drawing with plotly.js (plotly_html.ts)
 *   application/vnd.plotly.v1+json   the figure as data, for clients with a plotly renderer
 *
 * A client shows ONE representation of an output, the one it ranks first:
 *   JupyterLab + jupyterlab-plotly   plotly JSON (its renderer ranks before HTML; safe, so it also draws
 *                                    in a notebook reopened untrusted)
 *   JupyterLab without it            HTML
 *   Notebook 6                       HTML (it has no renderer for the plotly type and skips it)
 *   VS Code                          plotly JSON (its built-in renderer; unknown types rank before HTML)
 *   nbconvert --to html              HTML (the plotly type is not in its display priority)
 * test/mime_bundle.test.ts checks these choices; test/e2e/ shows them in the real clients.
 *
 * tslab's public display API sends one MIME type per output, so bundles go
 * through the kernel's own message writer (`lastWriteDisplayData` in tslab's
 * dist/jupyter.js, the function its display API calls), found in the module
 * cache. If a tslab release moves it, `sendBundle` sends the HTML alone (every
 * client still draws it) and says so once.
 */
import { randomBytes } from 'node:crypto';
import type { Figure } from '../plot/figure';
import { figureHtml, FigureHtmlOptions } from './plotly_html';

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

export type MimeBundle = Record<string, unknown> & { 'text/html': string };

/** The figure as plotly's JSON MIME type expects it: NaN and ±Infinity become null (gaps), a fixed height. */
export function plotlyMimeData(
  figure: Figure,
  opts: FigureHtmlOptions = {},
): { data: unknown[]; layout: Record<string, unknown>; config: Record<string, unknown> } {
  const plain = JSON.parse(JSON.stringify(figure, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as Figure;
  const layout: Record<string, unknown> = { ...plain.layout };
  // jupyterlab-plotly draws 360 px high unless the layout says otherwise: use the HTML's height.
  const px = /^(\d+)px$/.exec(opts.height ?? '420px');
  if (layout.height === undefined && px) layout.height = Number(px[1]);
  return { data: plain.data, layout, config: { responsive: true, displaylogo: false } };
}

/** Both representations of a figure (see the top of this file). */
export function figureBundle(figure: Figure, opts: FigureHtmlOptions = {}): MimeBundle {
  return { 'text/html': figureHtml(figure, opts), [PLOTLY_MIME]: plotlyMimeData(figure, opts) };
}

type DisplayContent = { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: { display_id?: string } };
type WriteDisplayData = (content: DisplayContent, update: boolean) => void;

let tslabJupyter: { lastWriteDisplayData?: unknown } | null = null;

/** The running kernel's display_data writer (tslab sets it for each executed cell), or null. */
function displayWriter(): WriteDisplayData | null {
  if (!tslabJupyter) {
    for (const [file, mod] of Object.entries(require.cache)) {
      if (/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(file) && typeof mod?.exports?.lastWriteDisplayData === 'function') {
        tslabJupyter = mod.exports;
        break;
      }
    }
  }
  const write = tslabJupyter?.lastWriteDisplayData;
  return typeof write === 'function' ? (write as WriteDisplayData) : null;
}

let warnedHtmlOnly = false;

/**
 * One output in the notebook that can be redrawn in place: the first `show`
 * sends display_data, later ones update_display_data for the same display_id.
 * `html` is the fallback sender (tslab's own display, one MIME type).
 */
export class BundleDisplay {
  private readonly id = randomBytes(8).toString('hex');
  private sent = false;

  constructor(private readonly html: (html: string) => void) {}

  show(bundle: MimeBundle): void {
    const write = displayWriter();
    if (!write) {
      if (!warnedHtmlOnly && Object.keys(bundle).length > 1) {
        warnedHtmlOnly = true;
        console.warn(
          "hyperlab: this tslab version's display writer was not found, so charts go out as HTML only (no application/vnd.plotly.v1+json); they still draw in every client",
        );
      }
      this.html(bundle['text/html']);
      return;
    }
    write({ data: bundle, metadata: {}, transient: { display_id: this.id } }, this.sent);
    this.sent = true;
  }
}
