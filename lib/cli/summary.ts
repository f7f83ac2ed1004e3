/** `hyperlab summary RUN.yaml [--json]`: the model of a run file, layer by layer. */
import { Command } from 'commander';
import { loadRunSpec } from '../config';
import { buildModel } from '../models/registry';
import { summary } from '../nn/summary';
import { useBackend } from '../engine/backend';
import { inputShapeOf } from '../runs/run';

export function registerSummary(program: Command): void {
  program
    .command('summary')
    .description('print the per-layer table (output shape, parameters, trainable) of the model a run file describes')
    .argument('<runfile>', 'a YAML run file')
    .option('--json', 'print JSON: rows, total, trainable, nonTrainable')
    .action(async (runfile: string, opts: { json?: boolean }) => {
      await useBackend('cpu', 'summary needs no speed');
      const spec = loadRunSpec(runfile);
      const dims = await inputShapeOf(spec);
      const model = buildModel(spec.model.type, spec.model.params, { nIn: dims.nIn, nOut: dims.nOut }, spec.originalBugs);
      const s = summary(model, dims.inputShape);
      if (opts.json) {
        const { rows, total, trainable, nonTrainable, model: name } = s;
        console.log(JSON.stringify({ model: name, total, trainable, nonTrainable, rows }, null, 2));
      } else {
        console.log(s.toString());
      }
      model.dispose();
    });
}
