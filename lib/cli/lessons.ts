/**
 * `hyperlab lessons run [NAME...] [--html] [--out DIR]`: execute the lesson
 * notebooks (lessons/) and the full-run notebooks (notebooks/) through the tslab
 * kernel (no Python), write the executed copies, stop at the first failing cell.
 */
import { Command } from 'commander';
import * as os from 'node:os';
import * as path from 'node:path';
import { findNotebooks, lessonsDir, notebooksDir, NotebookError, RunResult, runNotebooks } from '../notebook/runner';
import { lintLessons } from '../notebook/lesson_lint';

export interface LessonsRunOptions {
  html?: boolean;
  out: string;
  timeout: string;
  quiet?: boolean;
  jobs?: string;
}

/** Notebooks run at once by default: two where there are two cores or more (each kernel is single-threaded). */
export const defaultJobs = (): number => Math.max(1, Math.min(2, os.availableParallelism()));

export async function lessonsRun(names: string[], opts: LessonsRunOptions): Promise<void> {
  const notebooks = findNotebooks(names);
  const cellTimeoutMs = Number(opts.timeout) * 1000;
  if (!(cellTimeoutMs > 0)) throw new Error(`--timeout must be a number of seconds > 0, got '${opts.timeout}'`);
  const started = Date.now();
  const load = os.loadavg()[0];
  const rel = (file: string) => path.relative(process.cwd(), file) || file;
  const report = (r: RunResult) => {
    console.log(`  ok in ${r.seconds.toFixed(1)} s -> ${r.outFile}${r.htmlFile ? ` and ${r.htmlFile}` : ''}`);
    console.log(`  time: ${timingLine(r)}`);
    const mb = (r.maxBytes / 2 ** 20).toFixed(r.maxBytes < 2 ** 20 ? 3 : 1);
    console.log(`  memory after each cell: at most ${r.maxTensors} tensors, ${mb} MB (tf.memory(), in the executed cells' metadata)`);
  };
  const jobs = opts.jobs === undefined ? defaultJobs() : Number(opts.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs must be a whole number >= 1, got '${opts.jobs}'`);
  // Cell by cell only when one notebook runs at a time (the lines of two would interleave).
  const log = opts.quiet || jobs > 1 ? undefined : console.log;
  try {
    await runNotebooks(
      notebooks,
      { outDir: opts.out, html: opts.html, cellTimeoutMs, log, jobs, onStart: (file) => console.log(`running ${rel(file)}`) },
      (r) => {
        if (jobs > 1) console.log(`${rel(r.notebook)}:`);
        report(r);
      },
    );
  } catch (e) {
    if (e instanceof NotebookError) {
      console.error(`\nFAILED ${e.message}`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
  const seconds = (Date.now() - started) / 1000;
  const loads = `load average ${load.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end, ${os.cpus().length} cores`;
  const each = jobs > 1 ? `, ${jobs} at a time` : '';
  console.log(`${notebooks.length} notebook${notebooks.length === 1 ? '' : 's'} ran without errors in ${seconds.toFixed(1)} s${each} (${loads})`);
}

/** "kernel 0.2 s, 23 cells 9.1 s (slowest: cell 12, 2.3 s), memory reads 0.4 s; the kernel process used 14.2 s of CPU" */
export function timingLine(r: RunResult): string {
  const t = r.timing;
  const cells = t.cells.reduce((a, c) => a + c.seconds, 0);
  const slowest = t.cells.reduce((a, c) => (c.seconds > a.seconds ? c : a), { cell: -1, seconds: 0 });
  const worst = slowest.cell >= 0 ? ` (slowest: cell ${slowest.cell + 1}, ${slowest.seconds.toFixed(1)} s)` : '';
  const cpu = t.kernelCpu === null ? '' : `; the kernel process used ${t.kernelCpu.toFixed(1)} s of CPU`;
  return `kernel ${t.kernel.toFixed(1)} s, ${t.cells.length} cells ${cells.toFixed(1)} s${worst}, memory reads ${t.memory.toFixed(1)} s${cpu}`;
}

export function registerLessons(program: Command): void {
  const lessons = program.command('lessons').description(`the lesson notebooks (${lessonsDir()}) and full-run notebooks (${notebooksDir()})`);
  lessons
    .command('run')
    .description('execute notebooks cell by cell through the tslab kernel and write the executed copies')
    .argument('[name...]', 'lesson or notebook names or prefixes (00, 00_hello, sweep) or paths to .ipynb files; none: every lesson, then every notebook')
    .option('--html', 'also export each executed notebook as a self-contained HTML page')
    .option('--out <dir>', 'where the executed copies go', path.join('runs', 'lessons'))
    .option('--timeout <seconds>', 'longest time one cell may run', '600')
    .option('-q, --quiet', 'do not list the cells as they run')
    .option(
      '-j, --jobs <n>',
      `notebooks run at once, each in its own kernel (default: ${defaultJobs()}, two where there are two cores or more; the cells are listed only with 1)`,
    )
    .action((names: string[], opts: LessonsRunOptions) => lessonsRun(names, opts));
  lessons
    .command('lint')
    .description('check that the cells a learner reads stay short (counts per lesson; exit 1 on a broken rule)')
    .argument('[dir]', 'the folder of lesson notebooks', lessonsDir())
    .action((dir: string) => {
      if (!lintLessons(dir)) process.exitCode = 1;
    });
}
