/**
 * Where `hyperlab lessons run` spends its time besides a lesson's own work
 * (issue 10): starting the tslab kernel, reading the declarations of
 * `import * as hl from 'hyperlab'` ahead of the notebook (what the runner does
 * while the previous notebook runs: a completion request), the first import
 * in it (tfjs, the wasm backend, the addon), the fixed cost of one cell (tslab
 * type-checks and compiles every cell before running it) for an empty cell, a
 * one-line cell and a cell that calls hyperlab, and the runner's memory read
 * after a cell (over the kernel's IPC channel; it collects after a cell that
 * made tensors). Also the kernel process's CPU seconds, which move less with
 * the load of a shared machine than the wall-clock times.
 *
 *     node dist/bench/lessons_overhead.js [cells]     # prints one JSON line, ms
 *
 * The whole run, lesson by lesson (kernel wait, cells, memory reads, kernel
 * CPU, the total and the load average): `hyperlab lessons run 00 01 02 03 04 05 06 07 08 09 10 -q`
 * (the lessons are 00-10; with no names the full-run notebooks run too).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { TslabKernel } from '../lib/notebook/kernel';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main(): Promise<void> {
  const cells = Number(process.argv[2] ?? 8);
  const t0 = performance.now();
  // in lessons/, as `hyperlab lessons run` starts it, so that 'hyperlab' resolves to this package
  const kernel = await TslabKernel.start({ cwd: path.join(__dirname, '..', '..', 'lessons') });
  const start = performance.now() - t0;
  const time = async (code: string): Promise<number> => {
    const t = performance.now();
    const reply = await kernel.execute(code, () => {});
    if ((reply as { status?: string }).status === 'error') throw new Error(`cell failed: ${code}`);
    return performance.now() - t;
  };
  try {
    const t1 = performance.now();
    await kernel.complete("import * as hl from 'hyperlab';\nimport { tf } from 'hyperlab';\n");
    const readDeclarations = performance.now() - t1;
    const firstCell = await time('1 + 1');
    const importHyperlab = await time("import * as hl from 'hyperlab';\nimport { tf } from 'hyperlab';");
    const empty: number[] = [];
    const oneLine: number[] = [];
    const hyperlabCell: number[] = [];
    const memoryRead: number[] = [];
    const memoryReadNoTensors: number[] = [];
    const read = async (into: number[]) => {
      const t = performance.now();
      await kernel.memory();
      into.push(performance.now() - t);
    };
    for (let i = 0; i < cells; i++) {
      empty.push(await time(''));
      oneLine.push(await time(`const v${i} = ${i} + 1;`));
      hyperlabCell.push(await time(`const t${i} = tf.tidy(() => tf.sum(tf.ones([4])).dataSync()[0]); hl.expectClose('sum', t${i}, 4);`));
      await read(memoryReadNoTensors);
      await time(`const u${i} = tf.ones([4]);`);
      await read(memoryRead);
    }
    console.log(
      JSON.stringify({
        kernel_start_ms: start,
        read_declarations_ms: readDeclarations,
        first_cell_ms: firstCell,
        import_hyperlab_ms: importHyperlab,
        empty_cell_ms: median(empty),
        one_line_cell_ms: median(oneLine),
        hyperlab_cell_ms: median(hyperlabCell),
        memory_read_ms: median(memoryRead),
        memory_read_no_new_tensor_ms: median(memoryReadNoTensors),
        kernel_cpu_s: kernel.cpuSeconds(),
        cells,
        loadavg: os.loadavg()[0],
      }),
    );
  } finally {
    await kernel.shutdown();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
