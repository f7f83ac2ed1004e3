/** `hyperlab train RUN.yaml`: train (or resume) the run a run file describes. */
import * as path from 'node:path';
import { Command } from 'commander';
import { runFromFile } from '../runs/run';
import { packageRoot } from '../data/paths';
import { writeReport } from '../report/report';

/** The run `npm start` trains: XANESNET's mlp on the embedded Fe K-edge spectra. */
export const DEFAULT_RUN = 'runfiles/xanes_mlp.yaml';

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train the run described by a YAML run file; running it again resumes from its last checkpoint')
    .argument('[runfile]', `a run file (default: the embedded ${DEFAULT_RUN})`)
    .option('--backend <name>', 'cpu, wasm, webgpu or tensorflow (default: the run file, else the fastest available; hyperlab device lists them)')
    .option('--no-progress', 'no progress bar, one line per epoch')
    .action(async (runfile: string | undefined, opts: { backend?: string; progress: boolean }) => {
      const file = runfile ?? path.join(packageRoot(), DEFAULT_RUN);
      const result = await runFromFile(file, { backend: opts.backend, progress: opts.progress ? undefined : 'lines' });
      const h = result.history;
      const last = h.epoch.length - 1;
      if (last >= 0) {
        const vals = Object.entries(h)
          .filter(([k]) => k !== 'epoch')
          .map(([k, v]) => `${k} ${Number(v[last]).toPrecision(4)}`)
          .join(', ');
        console.log(`epoch ${h.epoch[last] + 1}: ${vals}`);
      }
      console.log(`run directory: ${result.runDir}`);
      try {
        console.log(`report: ${await writeReport(result.runDir)}`);
      } catch (e) {
        console.warn(`report not written: ${(e as Error).message}`);
      }
      if (result.stopReason) console.log(`stopped: ${result.stopReason}`);
      if (result.stopReason?.startsWith('interrupted')) process.exitCode = 130;
      else if (result.stopReason?.startsWith('non-finite')) process.exitCode = 2;
      result.dispose();
    });
}
