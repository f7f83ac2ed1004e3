/**
 * Run notebooks top to bottom through a fresh tslab kernel, as "Restart & Run
 * All" does, and keep the executed copy with every output.
 *
 *     const result = await runNotebook('lessons/00_hello.ipynb', { outDir: 'runs/lessons', html: true });
 *
 * The first cell that fails stops the run with a NotebookError naming the
 * notebook, the cell and the error; the executed copy is still written, with
 * the outputs up to and including the failing cell.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Cell, DisplayDataOutput, Notebook, Output, readNotebook, text, writeNotebook } from './ipynb';
import { Message, TslabKernel } from './kernel';
import { notebookHtml } from './html';

export interface RunOptions {
  /** Where the executed copies go (created if missing). */
  outDir: string;
  /** Also write a self-contained HTML page next to each executed copy. */
  html?: boolean;
  /** Longest time one cell may run (default 10 minutes). */
  cellTimeoutMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface RunResult {
  notebook: string;
  executed: Notebook;
  outFile: string;
  htmlFile?: string;
  seconds: number;
}

/** A cell failed: which notebook, which cell, its first line and the error text. */
export class NotebookError extends Error {
  constructor(
    readonly notebook: string,
    readonly cellIndex: number,
    readonly firstLine: string,
    readonly error: string,
    readonly outFile: string,
  ) {
    super(
      `${notebook}: cell ${cellIndex + 1} failed (it starts: ${JSON.stringify(firstLine)})\n` +
        `${error.trim()}\n` +
        `The executed copy with the outputs so far: ${outFile}`,
    );
    this.name = 'NotebookError';
  }
}

/** Appends the kernel's iopub messages to a cell's outputs, in nbformat's shape. */
class OutputCollector {
  /** Outputs by display_id, so update_display_data can replace them in place. */
  private readonly displays = new Map<string, DisplayDataOutput[]>();

  add(cell: Cell, msg: Message): void {
    const outputs = (cell.outputs ??= []);
    const c = msg.content;
    switch (msg.header.msg_type) {
      case 'stream': {
        // Consecutive writes to the same stream are one output, as in Jupyter.
        const last = outputs[outputs.length - 1];
        if (last?.output_type === 'stream' && last.name === c.name) last.text = text(last.text) + c.text;
        else outputs.push({ output_type: 'stream', name: c.name, text: c.text });
        break;
      }
      case 'display_data': {
        const out: DisplayDataOutput = { output_type: 'display_data', data: c.data, metadata: c.metadata ?? {} };
        outputs.push(out);
        const id = c.transient?.display_id;
        if (id) this.displays.set(id, [...(this.displays.get(id) ?? []), out]);
        break;
      }
      case 'update_display_data':
        // Replace the data of every output showing this display, in whichever cell it is.
        for (const out of this.displays.get(c.transient?.display_id) ?? []) {
          out.data = c.data;
          out.metadata = c.metadata ?? {};
        }
        break;
      case 'execute_result':
        outputs.push({ output_type: 'execute_result', execution_count: c.execution_count, data: c.data, metadata: c.metadata ?? {} });
        break;
      case 'error':
        outputs.push({ output_type: 'error', ename: c.ename, evalue: c.evalue, traceback: c.traceback ?? [] });
        break;
      case 'clear_output':
        cell.outputs = [];
        break;
    }
  }
}

/** tslab reports errors as stderr text; the error text of a cell is its stderr (or error outputs). */
function errorText(outputs: Output[]): string {
  const parts = outputs.flatMap((o) => {
    if (o.output_type === 'error') return [`${o.ename}: ${o.evalue}\n${o.traceback.join('\n')}`];
    if (o.output_type === 'stream' && o.name === 'stderr') return [text(o.text)];
    return [];
  });
  return parts.join('\n') || '(the kernel reported an error but printed no message)';
}

export async function runNotebook(file: string, opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const nb = readNotebook(file);
  const name = path.basename(file, '.ipynb');
  fs.mkdirSync(opts.outDir, { recursive: true });
  const outFile = path.join(opts.outDir, `${name}.ipynb`);
  const log = opts.log ?? (() => {});

  const save = (): string | undefined => {
    writeNotebook(outFile, nb);
    if (!opts.html) return undefined;
    const htmlFile = path.join(opts.outDir, `${name}.html`);
    fs.writeFileSync(htmlFile, notebookHtml(nb, name));
    return htmlFile;
  };

  const kernel = await TslabKernel.start({ cwd: path.dirname(path.resolve(file)) });
  const collector = new OutputCollector();
  try {
    for (const [index, cell] of nb.cells.entries()) {
      if (cell.cell_type !== 'code') continue;
      const source = text(cell.source);
      cell.outputs = [];
      cell.execution_count = null;
      if (source.trim() === '') continue;
      const firstLine = source.trim().split('\n')[0];
      log(`  cell ${index + 1}: ${firstLine.slice(0, 70)}`);
      let reply;
      try {
        reply = await kernel.execute(source, (msg) => collector.add(cell, msg), opts.cellTimeoutMs);
      } catch (e) {
        save();
        throw new NotebookError(file, index, firstLine, (e as Error).message, outFile);
      }
      cell.execution_count = reply.executionCount;
      if (reply.status !== 'ok') {
        save();
        throw new NotebookError(file, index, firstLine, errorText(cell.outputs), outFile);
      }
    }
  } finally {
    await kernel.shutdown();
  }
  const htmlFile = save();
  return { notebook: file, executed: nb, outFile, htmlFile, seconds: (Date.now() - started) / 1000 };
}

/** A folder of the package (lessons, notebooks), next to lib/ and dist/. */
function packageFolder(name: string): string {
  // This file is lib/notebook/runner.ts, compiled to dist/lib/notebook/runner.js.
  for (const up of ['../..', '../../..']) {
    const dir = path.resolve(__dirname, up, name);
    if (fs.existsSync(dir)) return dir;
  }
  return path.resolve(name);
}

/** The package's own lessons folder (next to lib/ and dist/). */
export function lessonsDir(): string {
  return packageFolder('lessons');
}

/** The package's full-run notebooks (notebooks/, next to lessons/). */
export function notebooksDir(): string {
  return packageFolder('notebooks');
}

/**
 * The notebooks that NAMEs stand for: a path to an .ipynb file, or the name or
 * prefix of a notebook in `dirs` ('00', '00_hello', 'sweep'). No names: every
 * notebook in `dirs`, folder by folder (default: the lessons, then notebooks/).
 */
export function findNotebooks(names: string[], dirs: string | string[] = [lessonsDir(), notebooksDir()]): string[] {
  const folders = Array.isArray(dirs) ? dirs : [dirs];
  const where = folders.join(' and ');
  const lessons = folders.flatMap((dir) =>
    fs.existsSync(dir)
      ? fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort().map((f) => path.join(dir, f))
      : [],
  );
  if (names.length === 0) {
    if (lessons.length === 0) throw new Error(`no lessons found in ${where}`);
    return lessons;
  }
  return names.map((n) => {
    if (n.endsWith('.ipynb')) {
      if (!fs.existsSync(n)) throw new Error(`notebook ${n} does not exist`);
      return n;
    }
    const hits = lessons.filter((f) => path.basename(f, '.ipynb') === n);
    const matches = hits.length ? hits : lessons.filter((f) => path.basename(f).startsWith(n));
    if (matches.length === 1) return matches[0];
    const known = lessons.map((f) => path.basename(f, '.ipynb')).join(', ') || '(none)';
    if (matches.length === 0) throw new Error(`no lesson called '${n}' in ${where}; the lessons and notebooks are: ${known}`);
    throw new Error(`'${n}' matches several lessons (${matches.map((f) => path.basename(f)).join(', ')}); give more of the name`);
  });
}
