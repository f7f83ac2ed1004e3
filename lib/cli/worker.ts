/**
 * `hyperlab worker --queue redis://HOST:PORT/DB`: train the trials of queued sweeps
 * (`hyperlab sweep ... --queue`), one after another, until Ctrl-C. Start one per machine (or per
 * GPU); see lib/runs/sweep_queue_worker.ts for what happens when one dies mid-trial.
 */
import { Command } from 'commander';
import { writeReport } from '../report/report';

/** A number of seconds >= 0 from an option, or a clear error naming it. */
function seconds(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(v.trim() !== '' && Number.isFinite(n) && n >= 0)) throw new Error(`worker: ${name} takes seconds (a number >= 0), got '${v}'`);
  return n;
}

/** --upload-limit in MiB -> bytes. */
function mebibytes(v: string): number {
  const n = Number(v);
  if (!(v.trim() !== '' && Number.isFinite(n) && n >= 0)) throw new Error(`worker: --upload-limit takes MiB (a number >= 0), got '${v}'`);
  return Math.round(n * 1024 * 1024);
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('train the trials of queued sweeps (hyperlab sweep --queue) from a BullMQ queue in Redis, until Ctrl-C')
    .requiredOption('--queue <redis-url>', 'the Redis of the queue: redis://HOST:PORT/DB')
    .option('--queue-name <name>', 'the queue in Redis', 'hyperlab-trials')
    .option('--runs-dir <folder>', "write run directories under <folder>/<sweep name> (default: the trial's own path, best on a shared file system)")
    .option('--concurrency <n>', 'trials at once in this worker', '1')
    .option('--checkpoint-interval <s>', 'seconds between checkpoints: the most training a killed trial loses (default 10, as hyperlab train)')
    .option('--lock-duration <s>', 'seconds a trial stays claimed without word from its worker; a dead worker is noticed after this', '30')
    .option('--stalled-interval <s>', 'seconds between checks for trials of dead workers', '30')
    .option(
      '--upload',
      'put each run directory (without TensorBoard files and checkpoints/last) into the job for `sweep --results` to write; on with --runs-dir',
    )
    .option('--no-upload', 'never upload run directories')
    .option('--upload-limit <MiB>', 'the most one upload carries; larger files stay on this machine', '32')
    .option('--log-dir <folder>', "where each trial's output goes (default: a folder in the system's temp dir)")
    .action(
      async (o: {
        queue: string;
        queueName: string;
        runsDir?: string;
        concurrency: string;
        checkpointInterval?: string;
        lockDuration: string;
        stalledInterval: string;
        logDir?: string;
        upload?: boolean;
        uploadLimit: string;
      }) => {
        const concurrency = Number(o.concurrency);
        if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new Error(`worker: --concurrency takes a whole number >= 1, got '${o.concurrency}'`);
        const lock = seconds('--lock-duration', o.lockDuration)!;
        const stalled = seconds('--stalled-interval', o.stalledInterval)!;
        if (lock < 1 || stalled < 0.5)
          throw new Error(`worker: --lock-duration must be at least 1 s and --stalled-interval 0.5 s (got ${lock} and ${stalled})`);
        // Loaded here: other commands start without BullMQ and ioredis.
        const { startQueueWorker } = await import('../runs/sweep_queue_worker');
        const w = await startQueueWorker({
          queue: o.queue,
          queueName: o.queueName,
          runsDir: o.runsDir,
          concurrency,
          checkpointInterval: seconds('--checkpoint-interval', o.checkpointInterval),
          lockDuration: lock * 1000,
          stalledInterval: stalled * 1000,
          logDir: o.logDir,
          upload: o.upload,
          uploadLimitBytes: mebibytes(o.uploadLimit),
          afterTrial: async (runDir) => void (await writeReport(runDir)), // as `hyperlab train` does
        });
        await new Promise<void>((resolve) => {
          let stopping = false;
          const stop = (sig: string) => {
            if (stopping) {
              console.log(`${sig} again: exiting now (the trial's last checkpoint is kept; its job returns to the queue after --lock-duration)`);
              process.exit(130);
            }
            stopping = true;
            console.log(`${sig}: stopping; a running trial stops after its batch and goes back to the queue (again to exit at once)`);
            void w.close().then(resolve);
          };
          process.on('SIGINT', () => stop('Ctrl-C'));
          process.on('SIGTERM', () => stop('SIGTERM'));
        });
      },
    );
}
