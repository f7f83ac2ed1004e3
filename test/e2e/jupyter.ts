/**
 * What the browser tests share: a workspace with a copy of a lesson, the tslab
 * kernel registered in a temporary Jupyter path, a Jupyter server (Notebook 6
 * or hyperlab's JupyterLab) on 127.0.0.1 with a token, headless Chromium.
 */
import { strict as assert } from 'node:assert';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..'); // dist/test/e2e -> the repository
export const ARTIFACTS = path.join(ROOT, 'test', 'e2e', 'artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const PYTHON = '/usr/bin/python3';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Why Chromium cannot be driven here, or null. */
export function browserMissing(): string | null {
  if (!fs.existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set CHROMIUM_PATH)`;
  try {
    require.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A temp folder with lessons/<lesson> (changed by `edit` if given) and the repository's node_modules
 * (so `import 'hyperlab'` works there).
 */
export function workspace(lesson: string, edit?: (nb: { cells: unknown[] }) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-e2e-'));
  fs.mkdirSync(path.join(dir, 'lessons'));
  const nb = JSON.parse(fs.readFileSync(path.join(ROOT, 'lessons', lesson), 'utf8'));
  edit?.(nb);
  fs.writeFileSync(path.join(dir, 'lessons', lesson), JSON.stringify(nb, null, 1) + '\n');
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** Register the tslab kernel under dir/jupyter (not the user's own Jupyter folders); the environment to run Jupyter in. */
export function registerKernel(dir: string): NodeJS.ProcessEnv {
  const prefix = path.join(dir, 'jupyter');
  const tslab = path.join(ROOT, 'node_modules', '.bin', 'tslab');
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'tslab', 'bin', 'tslab'), 'install', `--python=${PYTHON}`, `--binary=${tslab}`, `--prefix=${prefix}`],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `registering the tslab kernel failed:\n${r.stdout}${r.stderr}`);
  return {
    ...process.env,
    JUPYTER_PATH: path.join(prefix, 'share', 'jupyter'),
    JUPYTER_CONFIG_DIR: path.join(dir, 'config'),
    JUPYTER_DATA_DIR: path.join(dir, 'data'),
    JUPYTER_RUNTIME_DIR: path.join(dir, 'runtime'),
    IPYTHONDIR: path.join(dir, 'ipython'),
  };
}

export interface Server {
  process: ChildProcess;
  port: number;
  log: () => string;
}

/**
 * Start `command args` (a Jupyter server) in its own process group, so that stopping it also stops the
 * kernels it started, and wait until it lists the tslab kernel.
 */
export async function startServer(command: string, args: string[], dir: string, env: NodeJS.ProcessEnv, port: number, token: string): Promise<Server> {
  const server = spawn(command, args, { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  server.stdout!.on('data', (b) => (output += b));
  server.stderr!.on('data', (b) => (output += b));
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) break;
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/kernelspecs?token=${token}`);
      if (r.ok) {
        const specs = (await r.json()) as { kernelspecs: Record<string, unknown> };
        assert.ok(specs.kernelspecs.tslab, `the server does not list the tslab kernel: ${Object.keys(specs.kernelspecs)}`);
        return { process: server, port, log: () => output };
      }
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  stopServer(server);
  throw new Error(`${command} ${args.join(' ')} did not start on 127.0.0.1:${port}:\n${output}`);
}

export function stopServer(server: ChildProcess): void {
  if (server.exitCode !== null || !server.pid) return;
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {
    server.kill('SIGTERM');
  }
}
