/** `hyperlab predict RUN_DIR`: predict with a trained run and write the predictions in XANESNET's formats. */
import * as path from 'node:path';
import { Command } from 'commander';
import { autoBackend, useBackend, BackendName } from '../engine/backend';
import { predictRun } from '../runs/predict';
import { CheckpointName, openRunDir } from '../runs/run_dir';

export interface PredictCliOptions {
  data?: string;
  targets?: string;
  checkpoint: string;
  out?: string;
  overwrite?: boolean;
  batchSize?: string;
  backend?: string;
  combine?: string;
  mcDropout?: string;
}

/** Where predictions go unless --out says: <run>/predictions/<data>-<checkpoint>/. */
export function defaultPredictionDir(runDir: string, label: string, checkpoint: string): string {
  return path.join(path.resolve(runDir), 'predictions', `${label}-${checkpoint}`);
}

/** The short name `predictRun` gives the data, without loading it. */
function labelOf(data: string | undefined): string {
  if (!data || data === 'validation') return 'validation';
  if (data === 'test') return 'test';
  return path.basename(path.resolve(data));
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('predict with a trained run: spectra in FDMNES format (or descriptors, one value per line), the MSE when targets exist')
    .argument('<run_dir>', 'the run directory hyperlab train printed (runs/<name>)')
    .option(
      '--data <what>',
      "'validation' (the run's validation split), 'test' (the embedded Fe K-edge test set), or a folder of .xyz (structure -> spectrum runs) or .txt spectra (spectrum -> structure runs)",
      'validation',
    )
    .option('--targets <folder>', 'the targets for --data FOLDER (default: the paired folder, xyz_* <-> xanes_*)')
    .option('--checkpoint <which>', 'best or last', 'best')
    .option('--out <dir>', 'where to write (default: RUN_DIR/predictions/<data>-<checkpoint>, with -mc<n> for --mc-dropout)')
    .option('--overwrite', 'replace files in --out that an earlier hyperlab predict did not write')
    .option('--batch-size <n>', "samples per forward pass (default: the run's batch size)")
    .option(
      '--combine <how>',
      "a bootstrap or ensemble run's directory: 'mean' (the models' mean, written as <id>.txt, and std, as <id>.std.txt) or 'weight' (XANESNET's name: the same mean, no std)",
    )
    .option(
      '--mc-dropout <n>',
      "Monte Carlo dropout: n forward passes with dropout on (seeded with the run's seed); writes their mean and std like --combine mean",
    )
    .option('--backend <name>', 'cpu or wasm (default: the fastest available)')
    .action(async (runDir: string, opts: PredictCliOptions) => {
      if (opts.checkpoint !== 'best' && opts.checkpoint !== 'last') throw new Error(`--checkpoint must be best or last, got '${opts.checkpoint}'`);
      const batchSize = opts.batchSize === undefined ? undefined : Number(opts.batchSize);
      if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0))
        throw new Error(`--batch-size must be a positive whole number, got '${opts.batchSize}'`);
      if (opts.combine !== undefined && opts.combine !== 'mean' && opts.combine !== 'weight')
        throw new Error(`--combine must be mean or weight, got '${opts.combine}'`);
      const mcDropout = opts.mcDropout === undefined ? undefined : Number(opts.mcDropout);
      if (mcDropout !== undefined && !(Number.isInteger(mcDropout) && mcDropout >= 2))
        throw new Error(`--mc-dropout must be a whole number of passes, at least 2, got '${opts.mcDropout}'`);
      openRunDir(runDir); // a wrong folder fails before the backend starts
      if (opts.backend) await useBackend(opts.backend as BackendName, 'asked for on the command line');
      else await autoBackend();
      await predictRun(runDir, {
        data: opts.data,
        targets: opts.targets,
        checkpoint: opts.checkpoint as CheckpointName,
        out: opts.out ?? defaultPredictionDir(runDir, labelOf(opts.data), opts.checkpoint) + (mcDropout ? `-mc${mcDropout}` : ''),
        overwrite: opts.overwrite,
        batchSize,
        combine: opts.combine as 'mean' | 'weight' | undefined,
        mcDropout,
        verbose: true,
      });
    });
}
