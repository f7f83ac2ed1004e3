/** `hyperlab report RUN_DIR`: write RUN_DIR/report.html (curves, metrics, predictions, model, config; works offline). */
import { Command } from 'commander';
import { useBackend } from '../engine/backend';
import { writeReport } from '../report/report';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write RUN_DIR/report.html: loss and metric curves, final/best metrics, predictions, model summary and config, in one offline page')
    .argument('<run_dir>', 'the run directory hyperlab train printed (runs/<name>)')
    .action(async (runDir: string) => {
      await useBackend('cpu', 'a report needs no speed');
      console.log(`report: ${await writeReport(runDir)}`);
    });
}
