/**
 * Sweeps on a BullMQ queue in Redis (lib/runs/sweep_queue*.ts, `hyperlab sweep --queue`, `hyperlab worker`).
 *
 * The end-to-end test starts Debian's redis-server on a free loopback port in a temp folder
 * (append-only file on), submits a sweep of three tiny trials with the CLI, and runs two
 * workers as separate processes. When a trial is part-way, its worker and that worker's trial
 * process are killed with -9 (a lost machine); later Redis itself is killed with -9 and started
 * again. Every trial must end: the killed one resumed from its checkpoint by the other worker
 * (taking over the dead trainer's run lock), the NaN one failed once with its message, and the
 * two good trials with exactly the losses of the same run file trained alone.
 * Without redis-server the test is skipped (HYPERLAB_REQUIRE_REDIS=1, set by CI, makes it fail).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { runFromText } from '../lib/runs/run';
import { processAlive } from '../lib/runs/run_lock';
import { checkQueueUrl, checkRedis, openQueuedSweep, queuedResult, trialId, TrialJobProgress } from '../lib/runs/sweep_queue';
import { takeOverStaleLock } from '../lib/runs/sweep_queue_worker';
import { planSweep } from '../lib/runs/sweep';
import { packRunDir, unpackRunDir } from '../lib/runs/sweep_upload';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'lib', 'cli', 'main.js');
const redisServer = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((f) => fs.existsSync(f)) ?? null;
const skip =
  redisServer || process.env.HYPERLAB_REQUIRE_REDIS === '1'
    ? false
    : 'redis-server is not installed (Debian: apt-get install redis-server; scripts/setup.sh installs it)';

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `hl-${name}-`));

/** A tiny XANESNET mlp run file: 40 epochs of a few ms each. */
function baseRunFile(dir: string): string {
  const file = path.join(dir, 'tiny.yaml');
  fs.writeFileSync(
    file,
    `x_path: hyperlab:datasets/xanes-fe/xyz_train
y_path: hyperlab:datasets/xanes-fe/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}}
hyperparams:
  model: mlp
  batch_size: 16
  n_hl: 2
  hl_ini_dim: 16
  hl_shrink: 0.5
  activation: prelu
  loss: {loss_fn: mse, loss_args: null, loss_reg_type: L2, loss_reg_param: 0.001}
  lr: 0.003
  optim_fn: Adam
  dropout: 0.2
  weight_init_seed: 2023
  kernel_init: xavier_uniform
  bias_init: zeros
seed: 2021
epochs: 40
hyperlab: {progress: false, tensorboard: false, backend: cpu}
`,
  );
  return file;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns a value (not undefined/false) or `seconds` pass; the failure says what was awaited. */
async function waitFor<T>(what: string, seconds: number, check: () => Promise<T | undefined | false> | T | undefined | false, more = () => ''): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out after ${seconds} s waiting for ${what}${more()}`);
    await sleep(200);
  }
}

/** redis-server on a loopback port with its files in `dir`, append-only file fsync'ed on every write. */
function startRedis(port: number, dir: string): ChildProcess {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--save',
    '',
    '--daemonize',
    'no',
  ];
  const p = spawn(redisServer!, args, { stdio: ['ignore', fs.openSync(path.join(dir, 'redis.log'), 'a'), 'inherit'] });
  return p;
}

async function redisUp(url: string): Promise<boolean> {
  try {
    await checkRedis(url);
    return true;
  } catch {
    return false;
  }
}

function hyperlab(args: string[], cwd: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, HYPERLAB_DEBUG: '1' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('queue URLs and an unreachable Redis: the errors say which URL and how to start one', async () => {
  assert.throws(() => checkQueueUrl('localhost:6379'), /not a Redis URL.*redis:\/\/HOST:PORT\/DB/);
  assert.throws(() => checkQueueUrl('http://x:1/0'), /not a Redis URL \(it starts with http:\/\/\)/);
  assert.throws(() => checkQueueUrl('redis://x:1/db'), /the path must be a database number/);
  const port = await freePort(); // nothing listens there
  await assert.rejects(
    checkRedis(`redis://127.0.0.1:${port}/0`),
    new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}/0 \\(connect ECONNREFUSED.*redis-server --port ${port} --appendonly yes`),
  );
  await assert.rejects(checkRedis(`redis://user:secret@127.0.0.1:${port}/0`), (e: Error) => !e.message.includes('secret') && e.message.includes('user:***@'));
});

test('trial ids: the same trial gives the same id, another value or sweep folder another', () => {
  const dir = tmp('qid');
  const base = baseRunFile(dir);
  const a = planSweep({ base, dir: path.join(dir, 's'), params: { 'hyperparams.lr': [0.003, 0.01] } });
  const b = planSweep({ base, dir: path.join(dir, 's'), params: { 'hyperparams.lr': [0.003, 0.02] } });
  const c = planSweep({ base, dir: path.join(dir, 'other'), params: { 'hyperparams.lr': [0.003] } });
  assert.equal(trialId(a.trials[0]), trialId(b.trials[0]), 'the same trial');
  assert.match(trialId(a.trials[0]), /^t[0-9a-f]{16}$/);
  assert.notEqual(trialId(a.trials[1]), trialId(b.trials[1]), 'another lr');
  assert.notEqual(trialId(a.trials[0]), trialId(c.trials[0]), 'another run directory');
  // Comments and layout do not count.
  assert.equal(trialId({ ...a.trials[0], text: `# a comment\n${a.trials[0].text}` }), trialId(a.trials[0]));
});

test("a stalled job's run lock: taken over when it names the recorded trainer, which is gone or on another host", () => {
  const dir = tmp('qlock');
  const lock = path.join(dir, '.lock');
  const write = (pid: number, host: string) => fs.writeFileSync(lock, JSON.stringify({ pid, host, startedAt: 'then', command: 'x' }));
  const prev = (pid: number, host: string): TrialJobProgress => ({ host, worker: 1, pid, epoch: 3, epochs: 10, attempt: 1 });
  write(4242, 'node-a');
  assert.equal(takeOverStaleLock(dir, prev(4243, 'node-a'), 'node-b'), null, 'another process: kept');
  assert.ok(fs.existsSync(lock));
  assert.match(takeOverStaleLock(dir, prev(4242, 'node-a'), 'node-b')!, /took over the run lock of process 4242 on node-a/);
  assert.ok(!fs.existsSync(lock));
  write(process.pid, os.hostname());
  assert.equal(takeOverStaleLock(dir, prev(process.pid, os.hostname())), null, 'alive on this host: kept, the trainer refuses');
  assert.ok(fs.existsSync(lock));
});

test('an uploaded run directory: what travels, the size limit, and no path out of the destination', () => {
  const dir = tmp('qup');
  const put = (rel: string, bytes: number) => {
    fs.mkdirSync(path.dirname(path.join(dir, 'run', rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'run', rel), Buffer.alloc(bytes, 7));
  };
  for (const [rel, n] of [
    ['metrics.csv', 10],
    ['report.html', 20],
    ['checkpoints/best/model.a.safetensors', 300],
    ['checkpoints/history.jsonl', 5],
    ['checkpoints/last/model.b.safetensors', 300],
    ['tensorboard/events.out', 50],
    ['.lock', 3],
    ['fold_0/checkpoints/last/checkpoint.json', 4],
    ['fold_0/metrics.csv', 6],
  ] as [string, number][])
    put(rel, n);
  const all = packRunDir(path.join(dir, 'run'));
  assert.deepEqual(Object.keys(all.files).sort(), [
    'checkpoints/best/model.a.safetensors',
    'checkpoints/history.jsonl',
    'fold_0/metrics.csv',
    'metrics.csv',
    'report.html',
  ]);
  assert.deepEqual(all.skipped, []);
  const small = packRunDir(path.join(dir, 'run'), 100);
  assert.deepEqual(small.skipped, ['checkpoints/best/model.a.safetensors'], 'the largest file stays behind');
  assert.equal(unpackRunDir(all, path.join(dir, 'copy')), 5);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'copy', 'checkpoints/best/model.a.safetensors')), Buffer.alloc(300, 7));
  assert.throws(() => unpackRunDir({ files: { '../evil': 'eA==' }, skipped: [] }, path.join(dir, 'copy2')), /'\.\.\/evil', which leads out of/);
  assert.ok(!fs.existsSync(path.join(dir, 'evil')));
});

test(
  'sweep --queue with two worker processes: a worker killed mid-trial, Redis killed and restarted; every trial ends with the losses of the trial alone',
  { skip },
  async (t) => {
    assert.ok(redisServer, 'HYPERLAB_REQUIRE_REDIS=1 but redis-server is not installed (scripts/setup.sh installs it)');
    const dir = tmp('queue');
    const base = baseRunFile(dir);
    const redisDir = path.join(dir, 'redis');
    fs.mkdirSync(redisDir);
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    const sweepDir = path.join(dir, 'sweep');
    const sweepArgs = ['sweep', base, '--param', 'hyperparams.lr=0.003,0.01,1e30', '--dir', sweepDir, '--queue', url];
    const procs: ChildProcess[] = [];
    let redis = startRedis(port, redisDir);
    const workers: { proc: ChildProcess; out: string }[] = [];
    const logs = () =>
      `\n${workers.map((w, i) => `worker ${i}:\n${fs.existsSync(w.out) ? fs.readFileSync(w.out, 'utf8') : ''}`).join('\n')}` +
      `\nredis: ${fs.readFileSync(path.join(redisDir, 'redis.log'), 'utf8').slice(-2000)}`;
    const s = await (async () => {
      await waitFor('redis-server to start', 20, () => redisUp(url));
      // Submit with the CLI; the test follows the jobs through the library.
      const submitted = hyperlab([...sweepArgs, '--no-follow'], dir);
      assert.equal(submitted.status, 0, submitted.out);
      assert.match(submitted.out, /submitted 3 trials/);
      return openQueuedSweep({ base, dir: sweepDir, params: { 'hyperparams.lr': [0.003, 0.01, 1e30] }, queue: url }, () => {});
    })();
    try {
      for (let i = 0; i < 2; i++) {
        const out = path.join(dir, `worker-${i}.out`);
        // Both write run directories under shared/ (the shared path) and upload them into their jobs.
        const args = [cli, 'worker', '--queue', url, '--runs-dir', path.join(dir, 'shared'), '--lock-duration', '2', '--stalled-interval', '1'];
        args.push('--checkpoint-interval', '0.2', '--log-dir', path.join(dir, `logs-${i}`));
        const fd = fs.openSync(out, 'w');
        const proc = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', fd, fd] });
        procs.push(proc);
        workers.push({ proc, out });
      }

      // A good trial part-way through its 40 epochs, with a checkpoint of epoch 3 or later: kill its worker and its trial process (-9).
      const checkpointEpoch = (name: string) => {
        const f = path.join(dir, 'shared', 'sweep', name, 'checkpoints', 'last', 'checkpoint.json');
        return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')).epoch as number) : 0;
      };
      const { id, progress } = await waitFor(
        'a good trial past a checkpoint',
        90,
        async () => {
          const { rows } = await queuedResult(s);
          const r = rows.find(
            (x) =>
              x.status === 'running' &&
              x.progress?.pid &&
              x.values['hyperparams.lr'] !== 1e30 &&
              x.progress.epoch < 35 &&
              checkpointEpoch(s.trials[x.trial].name) >= 3,
          );
          return r ? { id: s.trials[r.trial].id, progress: r.progress! } : undefined;
        },
        logs,
      );
      const victim = workers.findIndex((w) => w.proc.pid === progress.worker);
      assert.ok(victim >= 0, `the trial's worker ${progress.worker} is one of ours`);
      process.kill(progress.worker, 'SIGKILL');
      process.kill(progress.pid!, 'SIGKILL');
      await waitFor('the killed processes to be gone', 10, () => !processAlive(progress.worker) && !processAlive(progress.pid!));
      // The checkpoint it left (read before another worker can take the trial: that takes lockDuration, 2 s).
      const victimDir = path.join(dir, 'shared', 'sweep', s.trials.find((x) => x.id === id)!.name);
      const onDisk: number = JSON.parse(fs.readFileSync(path.join(victimDir, 'checkpoints', 'last', 'checkpoint.json'), 'utf8')).epoch;
      assert.ok(onDisk >= 1 && onDisk < 40, `a checkpoint part-way: epoch ${onDisk}`);

      // Redis killed (-9) while the other worker trains, and started again on the same files.
      await waitFor(
        'the other worker to train',
        60,
        async () => (await queuedResult(s)).rows.some((r) => r.status === 'running' && r.progress?.worker !== progress.worker),
        logs,
      );
      redis.kill('SIGKILL');
      await new Promise((r) => redis.once('exit', r));
      redis = startRedis(port, redisDir);
      await waitFor('redis-server to restart', 20, () => redisUp(url));

      // Submitting again adds nothing: every trial survived the restart.
      const again = hyperlab([...sweepArgs, '--no-follow'], dir);
      assert.match(again.out, /submitted 0 trials .*\(3 already there, left as they are\)/, again.out);

      // --results waits until every trial has ended and writes the table.
      const results = spawnSync(process.execPath, [cli, ...sweepArgs, '--results'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      assert.equal(results.status, 0, `${results.stdout}${results.stderr}${logs()}`);
      const csv = fs.readFileSync(path.join(sweepDir, 'results.csv'), 'utf8').trim().split('\n');
      assert.equal(csv.length, 4);
      assert.match(csv[1], new RegExp(`^0,0\\.003,40,.*,ok,[0-9.]+,${path.join(sweepDir, 'trial-000')},$`), 'the uploaded run directory');
      assert.match(csv[2], /^1,0\.01,40,.*,ok,/);
      assert.match(csv[3], /^2,1e\+30,.*,failed,.*non-finite loss: the loss became NaN/);

      // The killed trial: taken over by the other worker, resumed from a checkpoint at most a few epochs behind.
      const job = (await s.queue.getJob(id))!;
      assert.equal(await job.getState(), 'completed');
      const run = job.returnvalue.run!;
      assert.notEqual(job.returnvalue.worker.pid, progress.worker, 'finished by the other worker');
      assert.equal(run.resumedFrom, onDisk, 'resumed from the checkpoint the killed trainer left');
      t.diagnostic(`killed with epoch ${progress.epoch} of 40 reported; resumed from the checkpoint of epoch ${onDisk} (checkpoints every 0.2 s)`);
      const survivorLog = fs.readFileSync(workers[1 - victim].out, 'utf8');
      assert.match(survivorLog, new RegExp(`attempt 2, last seen at epoch \\d+ on ${os.hostname()}`));
      // The dead trainer's run lock: the job's progress names its process, which is gone; the worker takes the lock over.
      assert.match(survivorLog, new RegExp(`took over the run lock of process ${progress.pid} on ${os.hostname()}: its worker stopped renewing the job`));
      assert.ok(!fs.existsSync(path.join(victimDir, '.lock')), 'the lock is released at the end');

      // The NaN trial failed once, with its message (no retry can mend it).
      const nan = (await s.queue.getJob(s.trials[2].id))!;
      assert.equal(await nan.getState(), 'failed');
      assert.equal(nan.attemptsMade, 1);
      assert.match(nan.failedReason, /non-finite loss: the loss became NaN at step \d+ \(epoch 1\)/);

      // Every good trial: exactly the per-epoch losses of its run file trained alone.
      for (const trial of s.trials.slice(0, 2)) {
        const j = (await s.queue.getJob(trial.id))!;
        const doc = parseDocument(trial.text);
        doc.setIn(['hyperlab', 'runs_dir'], path.join(dir, 'alone'));
        const alone = await runFromText(doc.toString(), trial.runFile, { verbose: false });
        try {
          for (const k of ['loss', 'val_loss']) {
            assert.deepEqual(j.returnvalue.run!.history[k], alone.history[k], `${trial.name} ${k}`);
          }
          assert.equal(alone.history.loss.length, 40);
        } finally {
          alone.dispose();
        }
        const shared = path.join(dir, 'shared', 'sweep', trial.name);
        assert.equal(j.returnvalue.run!.runDir, shared);
        const csvText = fs.readFileSync(path.join(shared, 'metrics.csv'), 'utf8');
        assert.equal(csvText.trim().split('\n').length, 41, `${trial.name}: metrics.csv has each epoch once`);
        // The upload: the run directory written into the sweep folder by --results, without checkpoints/last.
        assert.equal(fs.readFileSync(path.join(trial.runDir, 'metrics.csv'), 'utf8'), csvText);
        for (const f of ['run.yaml', 'config.json', 'report.html', 'split.json', 'checkpoints/history.jsonl', 'checkpoints/best/checkpoint.json']) {
          assert.ok(fs.existsSync(path.join(trial.runDir, f)), `${trial.name}: uploaded ${f}`);
        }
        assert.ok(
          fs.readdirSync(path.join(trial.runDir, 'checkpoints', 'best')).some((f) => f.endsWith('.safetensors')),
          'the weights',
        );
        assert.ok(!fs.existsSync(path.join(trial.runDir, 'checkpoints', 'last')), 'the resume point stays on the worker');
      }
    } finally {
      await s.close().catch(() => {});
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      redis.kill('SIGKILL');
    }
  },
);
