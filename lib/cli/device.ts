/** `hyperlab device`: which backend runs, why, and why the others were passed over. */
import { Command } from 'commander';
import { autoBackend, useBackend, BackendName } from '../engine/backend';

export function registerDevice(program: Command): void {
  program
    .command('device')
    .description('show the backend hyperlab would use here, why, and why the others were passed over')
    .option('--backend <name>', 'try this backend instead of choosing')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { backend?: string; json?: boolean }) => {
      const report = opts.backend ? await useBackend(opts.backend as BackendName) : await autoBackend();
      if (opts.json) {
        console.log(JSON.stringify(report, null, 2));
        return;
      }
      console.log(`backend: ${report.backend} (${report.reason})`);
      for (const p of report.passedOver) console.log(`  passed over ${p.backend}: ${p.why}`);
    });
}
