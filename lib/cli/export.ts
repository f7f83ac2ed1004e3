/** `hyperlab export RUN_DIR`: metrics, predictions and weights of a run as CSV / Parquet / HDF5 / safetensors. */
import * as path from 'node:path';
import { Command } from 'commander';
import { autoBackend, useBackend, BackendName } from '../engine/backend';
import { exportRun, ExportFormat, ExportWhat, EXPORT_FORMATS, EXPORT_WHATS } from '../report/export';
import { CheckpointName, openRunDir } from '../runs/run_dir';

interface ExportCliOptions {
  what: string;
  format: string;
  out?: string;
  overwrite?: boolean;
  checkpoint: string;
  data?: string;
  targets?: string;
  backend?: string;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export a run: metrics (CSV/Parquet/HDF5), predictions (wide table or HDF5) and weights (model.safetensors, PyTorch layout)')
    .argument('<run_dir>', 'the run directory hyperlab train printed (runs/<name>)')
    .option('--what <what>', EXPORT_WHATS.join(' | '), 'all')
    .option('--format <format>', `${EXPORT_FORMATS.join(' | ')} for metrics and predictions (weights are always safetensors)`, 'csv')
    .option('--out <dir>', 'the folder to write into (default: RUN_DIR/export)')
    .option('--overwrite', 'replace files already in --out')
    .option('--checkpoint <which>', 'best or last, for weights and predictions', 'best')
    .option('--data <what>', "what to predict: 'validation', 'test' or a folder (see hyperlab predict)", 'validation')
    .option('--targets <folder>', 'the targets for --data FOLDER')
    .option('--backend <name>', 'cpu or wasm, for predictions (default: the fastest available)')
    .action(async (runDir: string, opts: ExportCliOptions) => {
      if (!EXPORT_WHATS.includes(opts.what as ExportWhat)) throw new Error(`--what must be one of ${EXPORT_WHATS.join(', ')}, got '${opts.what}'`);
      if (!EXPORT_FORMATS.includes(opts.format as ExportFormat)) throw new Error(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got '${opts.format}'`);
      if (opts.checkpoint !== 'best' && opts.checkpoint !== 'last') throw new Error(`--checkpoint must be best or last, got '${opts.checkpoint}'`);
      openRunDir(runDir); // a wrong folder fails before the backend starts
      if (opts.what === 'predictions' || opts.what === 'all') {
        if (opts.backend) await useBackend(opts.backend as BackendName, 'asked for on the command line');
        else await autoBackend();
      }
      const r = await exportRun(runDir, {
        what: opts.what as ExportWhat,
        format: opts.format as ExportFormat,
        out: opts.out ?? path.join(path.resolve(runDir), 'export'),
        overwrite: opts.overwrite,
        checkpoint: opts.checkpoint as CheckpointName,
        data: opts.data,
        targets: opts.targets,
        verbose: true,
      });
      if (r.pytorchSnippet) console.log(`\n${r.pytorchSnippet}`);
    });
}
