/**
 * An executed notebook as one self-contained HTML page (what nbconvert --to
 * html makes, without Python): markdown rendered, code and its outputs, the
 * plotly charts drawn offline from the plotly.js inlined once in the page.
 */
import { marked } from 'marked';
import { Cell, Notebook, Output, text } from './ipynb';
import { FIGURE_CLASS, PLOTLY_MARKER, plotlyLibraryHtml } from './plotly_html';

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Terminal colour codes (in error stacks) mean nothing in a page. */
// eslint-disable-next-line no-control-regex -- ESC (\u001b) starts every ANSI colour code this strips
const stripAnsi = (s: string): string => s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');

const STYLE = `
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; }
.cell { margin: 1em 0; }
.prompt { color: #303f9f; font-family: monospace; font-size: 0.85em; }
pre { background: #f7f7f7; border: 1px solid #e0e0e0; border-radius: 3px; padding: 0.6em; overflow-x: auto; font-size: 0.9em; }
pre.output { background: #fff; border: none; padding: 0.2em 0.6em; }
pre.stderr { background: #fdd; }
.markdown img { max-width: 100%; }
`;

function outputHtml(out: Output): string {
  switch (out.output_type) {
    case 'stream':
      return `<pre class="output ${out.name}">${escapeHtml(stripAnsi(text(out.text)))}</pre>`;
    case 'error':
      return `<pre class="output stderr">${escapeHtml(stripAnsi(`${out.ename}: ${out.evalue}\n${out.traceback.join('\n')}`))}</pre>`;
    case 'display_data':
    case 'execute_result': {
      const d = out.data;
      if (d['text/html'] !== undefined) {
        const html = text(d['text/html']);
        // plotly.js is in the page's head already: drop the output that carried it.
        return html.includes(PLOTLY_MARKER) ? '' : `<div class="output html">${html}</div>`;
      }
      if (d['image/svg+xml'] !== undefined) return `<div class="output">${text(d['image/svg+xml'])}</div>`;
      for (const mime of ['image/png', 'image/jpeg', 'image/gif']) {
        if (d[mime] !== undefined) return `<div class="output"><img src="data:${mime};base64,${text(d[mime]).trim()}"></div>`;
      }
      if (d['text/markdown'] !== undefined) return `<div class="output markdown">${marked.parse(text(d['text/markdown']), { async: false })}</div>`;
      if (d['text/plain'] !== undefined) return `<pre class="output">${escapeHtml(text(d['text/plain']))}</pre>`;
      return '';
    }
  }
}

function cellHtml(cell: Cell): string {
  if (cell.cell_type === 'markdown') return `<div class="cell markdown">${marked.parse(text(cell.source), { async: false })}</div>`;
  if (cell.cell_type === 'raw') return `<div class="cell raw"><pre>${escapeHtml(text(cell.source))}</pre></div>`;
  const count = cell.execution_count ?? ' ';
  const outputs = (cell.outputs ?? []).map(outputHtml).join('\n');
  return `<div class="cell code"><div class="prompt">In [${count}]:</div><pre class="source">${escapeHtml(text(cell.source))}</pre>\n${outputs}</div>`;
}

export function notebookHtml(nb: Notebook, title: string): string {
  const hasFigures = nb.cells.some((c) => (c.outputs ?? []).some((o) => 'data' in o && text(o.data['text/html']).includes(FIGURE_CLASS)));
  return [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    hasFigures ? plotlyLibraryHtml() : '',
    '</head><body>',
    ...nb.cells.map(cellHtml),
    '</body></html>',
    '',
  ].join('\n');
}
