/**
 * A queue worker (`hyperlab worker --queue redis://HOST:PORT/DB`): takes trial jobs from the
 * sweep queue (./sweep_queue.ts) and trains each in a child process running ./sweep_worker.js,
 * the code path of `hyperlab train` (runFromFile: run directory, run lock, exact resume).
 *
 * - The child trains; this process only talks to Redis, so BullMQ's lock on the job is renewed
 *   (every lockDuration / 2) however long a batch takes. The job's progress says who trains it
 *   (host, worker pid, child pid) and its epoch.
 * - Killed (kill -9, a lost machine): the lock is not renewed, the job stalls, and after
 *   lockDuration another worker's stalled check (every stalledInterval) puts it back; a worker
 *   takes it and the run resumes from its last checkpoint when the run directory is shared.
 *   The child of a killed worker exits at its next batch (its IPC channel closed). The run lock
 *   the dead trainer left is stale: on the same host its pid is gone and `train` takes it over;
 *   from another host it is taken over here, because the job's progress names that holder and
 *   BullMQ has declared it gone. A job that stalls more than maxStalledCount times fails.
 * - Defaults for real use: lockDuration 30 s, stalledInterval 30 s (a dead worker's trial moves
 *   on within about a minute), maxStalledCount 2; checkpoints every 10 s (checkpointInterval),
 *   so a killed trial loses at most that much training.
 * - Ctrl-C (or SIGTERM): the trial stops after its batch, writes its checkpoint, and its job goes
 *   back to the queue (no attempt spent), where another worker resumes it.
 * - runsDir: write run directories under runsDir/<sweep folder name> instead of the path in the
 *   run file (a machine without the shared path); the results still travel in the job's return
 *   value (metrics and the per-epoch history).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker, Job, UnrecoverableError, DelayedError } from 'bullmq';
import { parseDocument } from 'yaml';
import { loadRunSpec, RunSpec } from '../config';
import { writeFileAtomic } from '../io/atomic';
import { checkRedis, connection, persistenceWarning, showUrl, QUEUE_NAME, TrialJobData, TrialJobProgress, TrialJobResult } from './sweep_queue';
import { defaultWorkerScript, forkTrial, TrialFailure } from './sweep';
import { LOCK_FILE, processAlive } from './run_lock';
import { packRunDir } from './sweep_upload';

export interface QueueWorkerOptions {
  /** redis://HOST:PORT/DB */
  queue: string;
  queueName?: string;
  /** Trials at once in this worker (default 1: one trial, one process, per core or GPU). */
  concurrency?: number;
  /** Write run directories under runsDir/<sweep folder name> (default: the trial's own runs_dir). */
  runsDir?: string;
  /** Seconds between checkpoints (default 10, as `hyperlab train`). */
  checkpointInterval?: number;
  /** Milliseconds a job's lock lasts without renewal (default 30000). */
  lockDuration?: number;
  /** Milliseconds between stalled-job checks (default 30000). */
  stalledInterval?: number;
  /** Stalls a job survives before it fails (default 2). */
  maxStalledCount?: number;
  /** The trial script (default ./sweep_worker.js). */
  script?: string;
  /** Where trial logs go (default <os tmpdir>/hyperlab-worker-<pid>). */
  logDir?: string;
  /** Put the run directory into the job's return value (./sweep_upload.ts; default: when runsDir is given). */
  upload?: boolean;
  /** The most an upload carries (default 32 MiB). */
  uploadLimitBytes?: number;
  /** Called with the run directory after a trial finished, before it is uploaded (the CLI writes report.html, as `hyperlab train`). */
  afterTrial?: (runDir: string) => Promise<void>;
  /** Messages (default console.log). */
  log?: (msg: string) => void;
}

export interface QueueWorker {
  worker: Worker<TrialJobData, TrialJobResult>;
  /** Stop: running trials stop after their batch and checkpoint, their jobs go back to the queue. */
  close(): Promise<void>;
}

/** The run file a worker trains: the submitted one where it is here as sent, else a copy (runs_dir moved with runsDir). */
function trialRunFile(d: TrialJobData, runsDir: string | undefined): string {
  if (!runsDir) {
    if (fs.existsSync(d.runFile) && fs.readFileSync(d.runFile, 'utf8') === d.text) return d.runFile;
    fs.mkdirSync(path.dirname(d.runFile), { recursive: true });
    writeFileAtomic(d.runFile, d.text);
    return d.runFile;
  }
  const dir = path.resolve(runsDir, path.basename(d.sweepDir));
  const doc = parseDocument(d.text);
  doc.setIn(['hyperlab', 'runs_dir'], dir);
  const file = path.join(dir, 'trials', `${d.name}.yaml`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, doc.toString());
  return file;
}

/**
 * The run lock a stalled job's earlier trainer left: removed when it names exactly the process the
 * job's progress recorded and that process is gone (same host) or on another host (BullMQ has
 * declared its worker dead). Returns a note, or null.
 */
export function takeOverStaleLock(runDir: string, previous: TrialJobProgress | null, me = os.hostname()): string | null {
  const file = path.join(runDir, LOCK_FILE);
  if (!previous?.pid || !fs.existsSync(file)) return null;
  let lock: { pid?: number; host?: string };
  try {
    lock = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null; // unreadable: the trainer's own check takes it over
  }
  if (lock.pid !== previous.pid || lock.host !== previous.host) return null;
  if (lock.host === me && processAlive(lock.pid)) return null; // alive here: the trainer refuses, the job is retried
  fs.rmSync(file, { force: true });
  return `took over the run lock of process ${lock.pid} on ${lock.host}: its worker stopped renewing the job (${file})`;
}

/** Start a worker; it runs until close(). */
export async function startQueueWorker(o: QueueWorkerOptions): Promise<QueueWorker> {
  const log = o.log ?? ((m: string) => console.log(m));
  const server = await checkRedis(o.queue);
  if (server.appendonly === false) log(persistenceWarning(o.queue));
  const script = path.resolve(o.script ?? defaultWorkerScript());
  if (!fs.existsSync(script)) throw new Error(`worker: the trial script ${script} does not exist (build with \`npm run build\`, or pass script)`);
  const logDir = path.resolve(o.logDir ?? path.join(os.tmpdir(), `hyperlab-worker-${process.pid}`));
  fs.mkdirSync(logDir, { recursive: true });
  if (o.checkpointInterval !== undefined && !(Number.isFinite(o.checkpointInterval) && o.checkpointInterval >= 0)) {
    throw new Error(`worker: checkpointInterval must be seconds >= 0, got ${o.checkpointInterval}`);
  }
  const host = os.hostname();
  const children = new Map<string, number>(); // job id -> child pid
  let closing = false;

  const processor = async (job: Job<TrialJobData, TrialJobResult>, token?: string): Promise<TrialJobResult> => {
    const d = job.data;
    const runFile = trialRunFile(d, o.runsDir);
    let spec: RunSpec;
    try {
      spec = loadRunSpec(runFile);
    } catch (e) {
      // The submitter validated it: a failure here is this machine's hyperlab reading it otherwise, the same on any retry.
      throw new UnrecoverableError(`${d.name}: the run file ${runFile} does not load here: ${(e as Error).message}`);
    }
    const runDir = path.join(path.resolve(spec.runsDir), spec.name);
    const previous = job.progress && typeof job.progress === 'object' ? (job.progress as TrialJobProgress) : null;
    const note = takeOverStaleLock(runDir, previous);
    if (note) log(`${d.name}: ${note}`);
    const progress: TrialJobProgress = {
      host,
      worker: process.pid,
      pid: null,
      epoch: previous?.epoch ?? 0,
      epochs: spec.train.epochs,
      attempt: job.attemptsStarted,
    };
    await job.updateProgress(progress);
    log(
      `${d.name} (job ${job.id}, attempt ${job.attemptsStarted}${previous ? `, last seen at epoch ${previous.epoch} on ${previous.host}` : ''}): training in ${runDir}`,
    );
    let lastSent = 0;
    try {
      const out = await forkTrial(runFile, script, path.join(logDir, `${d.name}-${job.id}.log`), {
        detached: true, // Ctrl-C reaches this worker only; close() stops the trial once, at its checkpoint
        env: {
          HYPERLAB_SWEEP_TRIAL: String(d.trial),
          ...(o.checkpointInterval !== undefined ? { HYPERLAB_CHECKPOINT_INTERVAL_S: String(o.checkpointInterval) } : {}),
        },
        onStart: (pid) => {
          children.set(String(job.id), pid);
          progress.pid = pid;
          void job.updateProgress({ ...progress }).catch(() => {});
        },
        onProgress: (p) => {
          progress.epoch = p.epoch;
          progress.epochs = p.epochs;
          if (Date.now() - lastSent < 500 && p.epoch < p.epochs) return; // at most two writes a second
          lastSent = Date.now();
          void job.updateProgress({ ...progress }).catch(() => {});
        },
      });
      await job.updateProgress({ ...progress }).catch(() => {});
      const where = out.run?.runDir ?? runDir;
      try {
        await o.afterTrial?.(where);
      } catch (e) {
        log(`${d.name}: ${(e as Error).message} (the trial itself finished)`);
      }
      const upload = (o.upload ?? o.runsDir !== undefined) ? packRunDir(where, o.uploadLimitBytes) : undefined;
      if (upload?.skipped.length) log(`${d.name}: left on this machine (over the upload limit): ${upload.skipped.join(', ')}`);
      log(`${d.name}: done${out.run?.resumedFrom ? ` (resumed from epoch ${out.run.resumedFrom})` : ''}`);
      return { metrics: out.metrics, run: out.run, worker: { host, pid: process.pid }, ...(upload ? { upload } : {}) };
    } catch (e) {
      if (closing || (e instanceof TrialFailure && e.kind === 'interrupted')) {
        // Stopped by this worker's Ctrl-C: back to the queue at once, no attempt spent.
        log(`${d.name}: stopped at its checkpoint; back to the queue`);
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      const msg = (e as Error).message;
      log(`${d.name}: failed: ${msg}`);
      if (e instanceof TrialFailure && (e.kind === 'non_finite' || e.kind === 'config')) throw new UnrecoverableError(msg); // the same on any retry
      throw e;
    } finally {
      children.delete(String(job.id));
    }
  };

  const client = connection(o.queue, log);
  const worker = new Worker<TrialJobData, TrialJobResult>(o.queueName ?? QUEUE_NAME, processor, {
    connection: client,
    concurrency: o.concurrency ?? 1,
    lockDuration: o.lockDuration ?? 30_000,
    stalledInterval: o.stalledInterval ?? 30_000,
    maxStalledCount: o.maxStalledCount ?? 2,
  });
  worker.on('error', () => {}); // connection errors are reported once by connection()
  // This worker lost a job (Redis gave its lock away): stop that trial so it never trains beside the next holder.
  worker.on('lockRenewalFailed', (ids: string[]) => {
    for (const id of ids) {
      const pid = children.get(id);
      if (pid && !closing) {
        log(`job ${id}: lost its lock (another worker may take it); stopping its trial at the next batch`);
        process.kill(pid, 'SIGINT');
      }
    }
  });
  await worker.waitUntilReady();
  log(`worker ${host}:${process.pid} on ${o.queueName ?? QUEUE_NAME} at ${showUrl(o.queue)} (Redis ${server.version}); trial logs in ${logDir}`);
  return {
    worker,
    close: async () => {
      closing = true;
      for (const pid of children.values()) process.kill(pid, 'SIGINT');
      await worker.close();
      client.disconnect();
    },
  };
}
