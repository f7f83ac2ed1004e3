/**
 * Run notebooks top to bottom through a fresh tslab kernel, as "Restart & Run
 * All" does, and keep the executed copy with every output.
 *
 *     const result = await runNotebook('lessons/00_hello.ipynb', { outDir: 'runs/lessons', html: true });
 *
 * The first cell that fails stops the run with a NotebookError naming the
 * notebook, the cell, its section (the nearest markdown heading above it) and
 * the error; a failing check cell (tagged `check`) is reported as the check of
 * that section that failed, with the message that names the number. The
 * executed copy is still written, with the outputs up to and including the
 * failing cell.
 *
 * After every code cell the runner asks the kernel process, over Node's IPC
 * channel and not as a cell (lib/notebook/kernel_agent.ts), to let the
 * automatic freeing finish (lib/engine/autofree.ts) and read tf.memory(). The
 * numbers go into the executed cell's metadata (`hyperlab.memory`) and into the
 * result, so a test can bound what a lesson holds.
 *
 * Several notebooks in a row: `startKernelFor(next)` starts the next one's
 * kernel, and has it read the type declarations of what that notebook imports,
 * while the current one runs (`runNotebooks` does this).
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
  /** A kernel already started for this notebook (startKernelFor); default: start one now. */
  kernel?: Promise<TslabKernel>;
}

/** Where a notebook's time went, in seconds. */
export interface RunTiming {
  /** Waiting for the kernel to start (near 0 when it was started while the previous notebook ran). */
  kernel: number;
  /** Each code cell, from sending it to the kernel's reply (tslab's type-check and compile, then the run). */
  cells: { cell: number; seconds: number }[];
  /** Reading tf.memory() after the cells (the automatic freeing's collections included). */
  memory: number;
  /** CPU seconds the kernel process used, its start included (null where /proc is missing). */
  kernelCpu: number | null;
}

/** tf.memory() after a code cell (null: the notebook had not imported hyperlab yet). */
export interface CellMemory {
  /** Index of the cell in the notebook (0-based). */
  cell: number;
  section: string;
  numTensors: number;
  numBytes: number;
}

export interface RunResult {
  notebook: string;
  executed: Notebook;
  outFile: string;
  htmlFile?: string;
  seconds: number;
  timing: RunTiming;
  /** Memory after each code cell that ran once hyperlab was loaded, in order. */
  memory: CellMemory[];
  /** The largest numTensors and numBytes over the cells (0 when none was recorded). */
  maxTensors: number;
  maxBytes: number;
}

/**
 * A cell failed: which notebook, which cell, its first line, its section and
 * the error text. `check` is true for a check cell (tagged `check`): the
 * message then leads with the section and the error's own line (expectClose
 * names the number: "x.grad is [1, 2], expected [2, 2] within 1e-5").
 */
export class NotebookError extends Error {
  constructor(
    readonly notebook: string,
    readonly cellIndex: number,
    readonly firstLine: string,
    readonly error: string,
    readonly outFile: string,
    readonly section = '',
    readonly check = false,
  ) {
    const where = section ? ` in section "${section}"` : '';
    super(
      (check
        ? `${notebook}: a check failed${where} (check cell ${cellIndex + 1}): ${errorLine(error)}\n`
        : `${notebook}: cell ${cellIndex + 1} failed${where} (it starts: ${JSON.stringify(firstLine)})\n`) +
        `${error.trim()}\n` +
        `The executed copy with the outputs so far: ${outFile}`,
    );
    this.name = 'NotebookError';
  }
}

/** The message line of an error text ("Error: x is 1, expected 2" -> "x is 1, expected 2"). */
export function errorLine(error: string): string {
  const lines = error
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const thrown = lines.find((l) => /^(\w*Error|Uncaught \w*Error)\b.*?:/.test(l));
  return (thrown ?? lines[0] ?? '').replace(/^(Uncaught )?\w*Error:\s*/, '');
}

/** The text of the nearest markdown heading above cell `index` ('' if none). */
export function sectionOf(nb: Notebook, index: number): string {
  for (let i = index - 1; i >= 0; i--) {
    const cell = nb.cells[i];
    if (cell.cell_type !== 'markdown') continue;
    const headings = text(cell.source)
      .split('\n')
      .filter((l) => /^#{1,6}\s/.test(l));
    if (headings.length)
      return headings[headings.length - 1]
        .replace(/^#+\s*/, '')
        .replace(/[*_`]/g, '')
        .trim();
  }
  return '';
}

export const isCheckCell = (cell: Cell): boolean => Array.isArray(cell.metadata?.tags) && (cell.metadata.tags as unknown[]).includes('check');

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
  let nb: Notebook;
  try {
    nb = readNotebook(file);
  } catch (e) {
    // A kernel started for this notebook is not left running.
    void opts.kernel?.then((k) => k.shutdown()).catch(() => {});
    throw e;
  }
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

  const kernelStarted = Date.now();
  const kernel = await (opts.kernel ?? TslabKernel.start({ cwd: path.dirname(path.resolve(file)) }));
  const timing: RunTiming = { kernel: (Date.now() - kernelStarted) / 1000, cells: [], memory: 0, kernelCpu: null };
  const collector = new OutputCollector();
  const memory: CellMemory[] = [];
  let count = 0;
  try {
    for (const [index, cell] of nb.cells.entries()) {
      if (cell.cell_type !== 'code') continue;
      const source = text(cell.source);
      cell.outputs = [];
      cell.execution_count = null;
      if (cell.metadata?.hyperlab) delete cell.metadata.hyperlab;
      if (source.trim() === '') continue;
      const firstLine = source.trim().split('\n')[0];
      const section = sectionOf(nb, index);
      log(`  cell ${index + 1}: ${firstLine.slice(0, 70)}`);
      let reply;
      const cellStarted = Date.now();
      try {
        reply = await kernel.execute(source, (msg) => collector.add(cell, msg), opts.cellTimeoutMs);
        timing.cells.push({ cell: index, seconds: (Date.now() - cellStarted) / 1000 });
      } catch (e) {
        save();
        throw new NotebookError(file, index, firstLine, (e as Error).message, outFile, section, isCheckCell(cell));
      }
      // Numbered from 1 in the order they ran, as Jupyter numbers a fresh run.
      cell.execution_count = reply.executionCount === null ? null : ++count;
      if (reply.status !== 'ok') {
        save();
        throw new NotebookError(file, index, firstLine, errorText(cell.outputs), outFile, section, isCheckCell(cell));
      }
      const memoryStarted = Date.now();
      const m = await kernel.memory(opts.cellTimeoutMs);
      timing.memory += (Date.now() - memoryStarted) / 1000;
      if (m) {
        cell.metadata = { ...cell.metadata, hyperlab: { memory: m } };
        memory.push({ cell: index, section, ...m });
      }
    }
  } finally {
    timing.kernelCpu = kernel.cpuSeconds();
    await kernel.shutdown();
  }
  const htmlFile = save();
  return {
    notebook: file,
    executed: nb,
    outFile,
    htmlFile,
    seconds: (Date.now() - started) / 1000,
    timing,
    memory,
    maxTensors: Math.max(0, ...memory.map((m) => m.numTensors)),
    maxBytes: Math.max(0, ...memory.map((m) => m.numBytes)),
  };
}

/**
 * Start a kernel for `file` (in its folder, as runNotebook would) and have it
 * type-check the notebook's own import lines without running them, so that
 * the declaration files they bring in (hyperlab's and tfjs', about 900) are
 * read and parsed before the notebook's first cell. Start it while the
 * previous notebook runs and pass it as `RunOptions.kernel`.
 */
export async function startKernelFor(file: string): Promise<TslabKernel> {
  const kernel = await TslabKernel.start({ cwd: path.dirname(path.resolve(file)) });
  const imports = readNotebook(file)
    .cells.filter((c) => c.cell_type === 'code')
    .flatMap((c) => text(c.source).split('\n'))
    .filter((l) => /^\s*import\s.*\sfrom\s+['"][^'"]+['"];?\s*$/.test(l));
  if (imports.length) await kernel.complete([...new Set(imports)].join('\n') + '\n');
  return kernel;
}

/**
 * Run notebooks, each in its own fresh kernel, `jobs` at a time (default 1),
 * results in the order of `files`. While they run, the kernel of the next
 * notebook in line starts and reads its imports' declarations (startKernelFor).
 * After the first failure no further notebook starts; those running finish, then
 * its NotebookError is thrown. `onStart` and `onResult` see each notebook.
 */
export async function runNotebooks(
  files: string[],
  opts: RunOptions & { jobs?: number; onStart?: (file: string) => void },
  onResult?: (r: RunResult) => void,
): Promise<RunResult[]> {
  const jobs = Math.max(1, Math.min(Math.floor(opts.jobs ?? 1), files.length));
  const results: RunResult[] = [];
  let nextIndex = 0;
  let failure: { error: unknown } | null = null;
  /** The kernel started early for files[nextIndex], the next one in line. */
  let early: Promise<TslabKernel> | null = null;
  const take = (): { file: string; kernel: Promise<TslabKernel> } | null => {
    if (failure || nextIndex >= files.length) return null;
    const file = files[nextIndex++];
    const kernel = early ?? startKernelFor(file);
    early = nextIndex < files.length ? startKernelFor(files[nextIndex]) : null;
    early?.catch(() => {}); // a failed start is reported to the notebook that takes it
    return { file, kernel };
  };
  const worker = async () => {
    for (let job = take(); job; job = take()) {
      opts.onStart?.(job.file);
      try {
        const r = await runNotebook(job.file, { ...opts, kernel: job.kernel });
        results.push(r);
        onResult?.(r);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: jobs }, worker));
  } finally {
    if (early) await (early as Promise<TslabKernel>).then((k) => k.shutdown()).catch(() => {});
  }
  if (failure) throw (failure as { error: unknown }).error;
  return results.sort((x, y) => files.indexOf(x.notebook) - files.indexOf(y.notebook));
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
      ? fs
          .readdirSync(dir)
          .filter((f) => f.endsWith('.ipynb'))
          .sort()
          .map((f) => path.join(dir, f))
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
