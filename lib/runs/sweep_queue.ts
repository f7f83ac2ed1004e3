/**
 * Sweeps past one machine: the trials of a sweep as jobs on a BullMQ queue in Redis.
 *
 *     hyperlab sweep RUN.yaml --param hyperparams.lr=1e-3,1e-2 --queue redis://HOST:6379/0            # submit, follow
 *     hyperlab worker --queue redis://HOST:6379/0                                                    # on every machine
 *     hyperlab sweep RUN.yaml --param hyperparams.lr=1e-3,1e-2 --queue redis://HOST:6379/0 --results  # the table
 *
 * - A job per trial: its data is the trial's resolved run file (./sweep.ts plans and validates
 *   it as for a local sweep), its id the trial's identity hash (trialId: the run file's settings,
 *   its run directory included), so submitting the same sweep again adds nothing and a trial
 *   never runs twice; a sweep with other values adds only its new trials.
 * - Retries (JOB_OPTIONS): a trial that fails the same way whatever is tried again (a NaN or
 *   infinite loss, an invalid run file) fails at once with its message; any other failure (a
 *   crash, a missing file on one machine) is tried `attempts` times in all (default 3), waiting
 *   10 s, then 20 s, before the next. Jobs are kept in Redis after they end, so the table can
 *   be written at any time and a finished trial is never submitted again.
 * - The workers (./sweep_queue_worker.ts) train each trial in a child process with the code path
 *   of `hyperlab train`; a worker that dies mid-trial leaves its job stalled, and BullMQ gives it
 *   to another worker, which resumes the run from its last checkpoint when the run directory is
 *   on a shared path.
 * - Redis keeps the queue; with append-only-file persistence (`appendonly yes`) a restart of
 *   Redis loses nothing: workers and the follower reconnect and carry on. checkRedis warns when
 *   the server has none.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Queue, Job } from 'bullmq';
import IORedis from 'ioredis';
import { parseRunFile } from '../config/validate';
import { pendingRow, planSweep, writeSweepFolder, SweepOptions, SweepResult, SweepRow, SweepTrial, SweepValue } from './sweep';
import type { TrialRun } from './sweep_worker';
import { PackedRunDir, unpackRunDir } from './sweep_upload';

/** The queue's name in Redis (keys bull:<name>:*) unless --queue-name gives another. */
export const QUEUE_NAME = 'hyperlab-trials';

/** How a trial's job is retried and kept (see the header). */
export const JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential' as const, delay: 10_000 },
  removeOnComplete: false,
  removeOnFail: false,
};

/** A trial's job data: enough for a worker on another machine to run it. */
export interface TrialJobData {
  /** The sweep folder on the submitting machine (the trial's runs_dir). */
  sweepDir: string;
  trial: number;
  /** trial-NNN: the run's name and its run file's name. */
  name: string;
  values: Record<string, SweepValue>;
  /** Where the submitting machine wrote the run file. */
  runFile: string;
  /** The run file's text (absolute data paths, the run directory pinned). */
  text: string;
}

/** What a worker returns for a finished trial. */
export interface TrialJobResult {
  metrics: Record<string, number | null>;
  run?: TrialRun;
  /** The run directory itself, when the worker uploads it (./sweep_upload.ts). */
  upload?: PackedRunDir;
  /** The worker that trained it (host and pid). */
  worker: { host: string; pid: number };
}

/** A running trial's job progress: who trains it, and how far. */
export interface TrialJobProgress {
  host: string;
  /** The worker process. */
  worker: number;
  /** The process that trains (the worker's child), once started. */
  pid: number | null;
  epoch: number;
  epochs: number | null;
  attempt: number;
}

/** A queue URL: redis://[user:password@]host:port/db (rediss:// for TLS); the URL itself, checked. */
export function checkQueueUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue '${url}' is not a URL: write redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`--queue '${url}' is not a Redis URL (it starts with ${u.protocol}//): write redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0`);
  }
  if (!u.hostname) throw new Error(`--queue '${url}' names no host: write redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0`);
  if (u.pathname && u.pathname !== '/' && !/^\/\d+$/.test(u.pathname)) {
    throw new Error(`--queue '${url}': the path must be a database number (/0 to /15), got '${u.pathname}'`);
  }
  return url;
}

/** The URL with any password replaced by ***, for messages. */
export function showUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

function howToStart(url: string): string {
  const port = new URL(url).port || '6379';
  return (
    `start one with \`redis-server --port ${port} --appendonly yes\` (Debian: apt-get install redis-server; scripts/setup.sh installs it), ` +
    'or give the URL of a running one with --queue'
  );
}

/**
 * Is Redis at `url` reachable? Connects once (no retries, 5 s), returns the server's version and
 * whether it persists with an append-only file; throws, naming the URL and how to start one.
 */
export async function checkRedis(url: string): Promise<{ version: string; appendonly: boolean | null }> {
  checkQueueUrl(url);
  const client = new IORedis(url, { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let cause = '';
  client.on('error', (e: Error) => (cause ||= e.message)); // the first error says why (ECONNREFUSED, ...)
  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    let appendonly: boolean | null = null;
    try {
      const cfg = (await client.config('GET', 'appendonly')) as string[];
      appendonly = cfg[1] === 'yes';
    } catch {
      appendonly = null; // CONFIG is disabled on some managed servers
    }
    return { version, appendonly };
  } catch (e) {
    throw new Error(`cannot reach Redis at ${showUrl(url)} (${cause || (e as Error).message}): ${howToStart(url)}`);
  } finally {
    client.disconnect();
  }
}

/** What to say when Redis keeps the queue in memory only. */
export function persistenceWarning(url: string): string {
  return (
    `Redis at ${showUrl(url)} has no append-only file (appendonly no): a restart of Redis loses the queued and finished trials. ` +
    'Turn it on with `redis-cli -u ${showUrl(url)} CONFIG SET appendonly yes` (and appendonly yes in redis.conf), or start Redis with --appendonly yes'
  );
}

/**
 * A connection that waits through Redis restarts (commands queue until it is back), saying once
 * per outage that it lost Redis and when it is back.
 */
export function connection(url: string, log: (msg: string) => void = (m) => console.warn(m)): IORedis {
  const client = new IORedis(url, { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 200, 2000) });
  let lost = false;
  client.on('error', (e: Error) => {
    if (!lost) log(`lost the connection to Redis at ${showUrl(url)} (${e.message}); retrying until it is back`);
    lost = true;
  });
  client.on('ready', () => {
    if (lost) log(`Redis at ${showUrl(url)} is back`);
    lost = false;
  });
  return client;
}

/**
 * A trial's identity: the first 16 hex digits of the SHA-256 of its run file's settings (parsed,
 * keys sorted, so comments and layout do not count). The run directory is among them, so the
 * same trial of another sweep folder is another job.
 */
export function trialId(t: Pick<SweepTrial, 'text' | 'runFile'>): string {
  const raw = parseRunFile(t.text, t.runFile).raw;
  const canonical = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
        )
      : Array.isArray(v)
        ? v.map(canonical)
        : v;
  return `t${createHash('sha256')
    .update(JSON.stringify(canonical(raw)))
    .digest('hex')
    .slice(0, 16)}`;
}

export interface QueueSweepOptions extends Omit<SweepOptions, 'runTrial' | 'workers' | 'workerScript' | 'timeoutS' | 'onTrialEnd'> {
  /** redis://HOST:PORT/DB */
  queue: string;
  /** The queue's name (default QUEUE_NAME). */
  queueName?: string;
  /** Tries per trial (default 3). */
  attempts?: number;
  /** Milliseconds before the first retry, doubled for each next (default 10000). */
  backoffMs?: number;
}

/** The planned sweep (folder, trial files and sweep.json written as for a local sweep) and its queue. */
export interface QueuedSweep {
  dir: string;
  paths: string[];
  trials: (SweepTrial & { id: string })[];
  queue: Queue<TrialJobData, TrialJobResult>;
  /** Close the queue and its connection. */
  close(): Promise<void>;
}

/** Plan the sweep (validating every trial, writing the trial files) and open its queue; submits nothing. */
export async function openQueuedSweep(o: QueueSweepOptions, log: (msg: string) => void = (m) => console.warn(m)): Promise<QueuedSweep> {
  const plan = planSweep(o);
  const server = await checkRedis(o.queue);
  if (server.appendonly === false) log(persistenceWarning(o.queue));
  writeSweepFolder(plan, o);
  const client = connection(o.queue, log);
  const queue = new Queue<TrialJobData, TrialJobResult>(o.queueName ?? QUEUE_NAME, { connection: client });
  queue.on('error', () => {}); // connection errors are reported once by connection()
  return {
    dir: plan.dir,
    paths: plan.paths,
    trials: plan.trials.map((t) => ({ ...t, id: trialId(t) })),
    queue,
    close: async () => {
      await queue.close();
      client.disconnect();
    },
  };
}

/** Add a job per trial; a trial whose job exists (queued, running or ended) is left as it is. */
export async function submitTrials(s: QueuedSweep, o: Pick<QueueSweepOptions, 'attempts' | 'backoffMs'> = {}): Promise<{ added: number; existing: number }> {
  const attempts = o.attempts ?? JOB_OPTIONS.attempts;
  if (!(Number.isInteger(attempts) && attempts >= 1)) throw new Error(`sweep: attempts must be a whole number >= 1, got ${attempts}`);
  const opts = { ...JOB_OPTIONS, attempts, backoff: { ...JOB_OPTIONS.backoff, delay: o.backoffMs ?? JOB_OPTIONS.backoff.delay } };
  const existing = new Set<string>();
  for (const t of s.trials) if (await s.queue.getJob(t.id)) existing.add(t.id);
  await s.queue.addBulk(
    s.trials
      .filter((t) => !existing.has(t.id))
      .map((t) => ({
        name: t.name,
        data: { sweepDir: s.dir, trial: t.trial, name: t.name, values: t.values, runFile: t.runFile, text: t.text },
        opts: { ...opts, jobId: t.id },
      })),
  );
  return { added: s.trials.length - existing.size, existing: existing.size };
}

/** One trial's row of the results table, from its job (null: not in the queue). */
async function rowOf(
  t: QueuedSweep['trials'][number],
  job: Job<TrialJobData, TrialJobResult> | undefined,
): Promise<SweepRow & { progress: TrialJobProgress | null }> {
  const row: SweepRow & { progress: TrialJobProgress | null } = { ...pendingRow(t), progress: null };
  if (!job) {
    row.status = 'failed';
    row.error = `not in the queue (job ${t.id}): submit the sweep with the same --param values, without --results`;
    return row;
  }
  const state = await job.getState();
  const progress = job.progress && typeof job.progress === 'object' ? (job.progress as TrialJobProgress) : null;
  row.progress = progress;
  if (state === 'completed') {
    const r = job.returnvalue;
    row.status = 'ok';
    row.metrics = Object.fromEntries(Object.entries(r?.metrics ?? {}).map(([k, v]) => [k, v === null ? NaN : v]));
    // Where the worker wrote it (a shared path, or the worker's disk), unless it was uploaded and is written here.
    if (r?.run && !(r.upload && fs.existsSync(path.join(t.runDir, 'config.json')))) row.runDir = r.run.runDir;
  } else if (state === 'failed') {
    row.status = 'failed';
    row.error = `${job.failedReason}${job.attemptsMade > 1 ? ` (after ${job.attemptsMade} attempts)` : ''}`;
  } else if (state === 'active') row.status = 'running';
  if (job.processedOn && job.finishedOn) row.seconds = (job.finishedOn - job.processedOn) / 1000;
  return row;
}

/** The sweep as it stands in the queue: a row per trial (pending, running, ok or failed). */
export async function queuedResult(
  s: QueuedSweep,
): Promise<{ result: SweepResult; rows: (SweepRow & { progress: TrialJobProgress | null })[]; missing: number }> {
  const jobs = await Promise.all(s.trials.map((t) => s.queue.getJob(t.id)));
  const rows = await Promise.all(s.trials.map((t, i) => rowOf(t, jobs[i])));
  return { result: new SweepResult(s.dir, s.paths, rows), rows, missing: jobs.filter((j) => !j).length };
}

/** Poll the queue (every pollMs, default 1000) until every trial has ended; onUpdate sees each poll. */
export async function followSweep(
  s: QueuedSweep,
  o: { pollMs?: number; onUpdate?: (rows: (SweepRow & { progress: TrialJobProgress | null })[]) => void; signal?: AbortSignal } = {},
): Promise<SweepResult> {
  for (;;) {
    const { result, rows } = await queuedResult(s);
    o.onUpdate?.(rows);
    if (rows.every((r) => r.status === 'ok' || r.status === 'failed') || o.signal?.aborted) return result;
    await new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 1000));
  }
}

/**
 * Write the run directories workers uploaded (`hyperlab worker --upload`) into the sweep folder,
 * where the plan put them (<dir>/trial-NNN), unless one is there already (a shared path).
 * Returns what was written and the files workers left behind (over their size limit).
 */
export async function saveUploads(s: QueuedSweep): Promise<{ written: string[]; skipped: string[] }> {
  const written: string[] = [];
  const skipped: string[] = [];
  for (const t of s.trials) {
    const job = await s.queue.getJob(t.id);
    const up = job?.returnvalue?.upload;
    if (!up || !job || (await job.getState()) !== 'completed' || fs.existsSync(path.join(t.runDir, 'config.json'))) continue;
    unpackRunDir(up, t.runDir);
    written.push(t.runDir);
    skipped.push(...up.skipped.map((f) => `${t.name}/${f}`));
  }
  return { written, skipped };
}
