#!/usr/bin/env node
/**
 * The `hyperlab` command. Each subcommand lives in its own module under lib/cli/
 * and registers itself on the program here.
 */
import { Command } from 'commander';
import { registerTrain } from './train';
import { registerSummary } from './summary';
import { registerDevice } from './device';
import { registerPredict } from './predict';
import { registerReport } from './report';
import { registerExport } from './export';
import { registerLessons } from './lessons';
import { registerSweep } from './sweep';
import { registerWorker } from './worker';
import { registerImportXanesnet } from './import_xanesnet';

export function makeProgram(): Command {
  const program = new Command();
  program
    .name('hyperlab')
    .description('Deep learning in TypeScript the PyTorch way: train run files, inspect models, run lessons')
    .showHelpAfterError('(run hyperlab --help for the commands)');
  registerTrain(program);
  registerSummary(program);
  registerDevice(program);
  registerPredict(program);
  registerReport(program);
  registerExport(program);
  registerSweep(program);
  registerWorker(program);
  registerImportXanesnet(program);
  registerLessons(program);
  return program;
}

/** Run the CLI; errors print as one clear message (with HYPERLAB_DEBUG=1 the stack too). */
export async function main(argv = process.argv): Promise<void> {
  try {
    await makeProgram().parseAsync(argv);
  } catch (e) {
    const err = e as Error;
    console.error(`hyperlab: ${process.env.HYPERLAB_DEBUG ? err.stack : err.message}`);
    process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
  }
}

if (require.main === module) void main();
