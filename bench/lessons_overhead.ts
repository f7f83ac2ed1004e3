/**
 * Where `hyperlab lessons run` spends its time besides a lesson's own work
 * (issue 10): starting the tslab kernel, the first `import * as hl from
 * 'hyperlab'` in it (tfjs, the wasm backend, the addon), and the fixed cost
 * of one cell (tslab compiles every cell with TypeScript before running it),
 * for an empty cell, a one-line cell and a cell that calls hyperlab.
 *
 *     node dist/bench/lessons_overhead.js [cells]     # prints one JSON line, ms
 */
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
    const firstCell = await time('1 + 1');
    const importHyperlab = await time("import * as hl from 'hyperlab';\nimport { tf } from 'hyperlab';");
    const empty: number[] = [];
    const oneLine: number[] = [];
    const hyperlabCell: number[] = [];
    for (let i = 0; i < cells; i++) {
      empty.push(await time(''));
      oneLine.push(await time(`const v${i} = ${i} + 1;`));
      hyperlabCell.push(await time(`const t${i} = tf.tidy(() => tf.sum(tf.ones([4])).dataSync()[0]); hl.expectClose('sum', t${i}, 4);`));
    }
    console.log(
      JSON.stringify({
        kernel_start_ms: start,
        first_cell_ms: firstCell,
        import_hyperlab_ms: importHyperlab,
        empty_cell_ms: median(empty),
        one_line_cell_ms: median(oneLine),
        hyperlab_cell_ms: median(hyperlabCell),
        cells,
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
