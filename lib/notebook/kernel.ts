/**
 * A tslab kernel driven the way Jupyter drives it: start `tslab kernel` with a
 * connection file, then talk the Jupyter messaging protocol over ZeroMQ
 * (https://jupyter-client.readthedocs.io/en/latest/messaging.html). No Python.
 *
 * - shell (DEALER -> kernel's ROUTER): we send execute_request, get execute_reply;
 * - iopub (SUB <- kernel's PUB): the kernel publishes what a cell prints and
 *   displays (stream, display_data, update_display_data) and its status.
 *
 * Every message is a list of frames: '<IDS|MSG>', an HMAC-SHA256 signature,
 * then the JSON header, parent header, metadata and content.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zmq from 'zeromq';

const DELIM = '<IDS|MSG>';

export interface Message {
  header: { msg_id: string; msg_type: string; [k: string]: unknown };
  parent_header: { msg_id?: string; [k: string]: unknown };
  metadata: Record<string, unknown>;
  content: any;
}

export interface ExecuteReply {
  status: 'ok' | 'error' | 'abort';
  executionCount: number | null;
}

/** A free TCP port on the loopback interface (asked from the OS, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const timeout = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref());

export interface KernelOptions {
  /** The kernel's working directory (Jupyter uses the notebook's folder). */
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** How long the kernel may take to answer its first message (default 60 s). */
  startTimeoutMs?: number;
}

export class TslabKernel {
  private readonly key = randomBytes(32).toString('hex');
  private readonly session = randomUUID();
  private shell!: zmq.Dealer;
  private iopub!: zmq.Subscriber;
  private process!: ChildProcess;
  private connectionFile!: string;
  /** Messages by the msg_id of the request they answer. */
  private readonly listeners = new Map<string, (channel: 'shell' | 'iopub', msg: Message) => void>();
  /** The last execute request and its output callback: output that comes after its reply still belongs to that cell. */
  private lastExecute: { id: string; onOutput: (msg: Message) => void } | null = null;
  /** Answers to requests on the IPC channel (kernel_agent.ts), by id. */
  private readonly agentRequests = new Map<number, (answer: { memory: unknown; error?: string }) => void>();
  private agentNextId = 0;
  /** What the kernel process printed outside any cell (start-up errors). */
  private processOutput = '';
  private exited: string | null = null;

  private constructor() {}

  /** Start a tslab kernel and wait until it answers. */
  static async start(opts: KernelOptions): Promise<TslabKernel> {
    const kernel = new TslabKernel();
    await kernel.launch(opts);
    return kernel;
  }

  private async launch(opts: KernelOptions): Promise<void> {
    const ports = await Promise.all([0, 1, 2, 3, 4].map(() => freePort()));
    const connection = {
      transport: 'tcp',
      ip: '127.0.0.1',
      shell_port: ports[0],
      iopub_port: ports[1],
      stdin_port: ports[2],
      control_port: ports[3],
      hb_port: ports[4],
      key: this.key,
      signature_scheme: 'hmac-sha256',
      kernel_name: 'tslab',
    };
    this.connectionFile = path.join(os.tmpdir(), `hyperlab-kernel-${randomBytes(6).toString('hex')}.json`);
    fs.writeFileSync(this.connectionFile, JSON.stringify(connection));

    let tslabBin: string;
    try {
      tslabBin = path.join(path.dirname(require.resolve('tslab/package.json')), 'bin', 'tslab');
    } catch {
      throw new Error('the tslab kernel is not installed: run `npm install` in the hyperlab folder (tslab is one of its dependencies)');
    }
    // kernel_agent.js answers the runner's questions (memory after a cell) over the IPC channel.
    const agent = path.join(__dirname, 'kernel_agent.js');
    this.process = spawn(process.execPath, ['--require', agent, tslabBin, 'kernel', '--config-path', this.connectionFile], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.process.on('message', (m: { id: number; memory: unknown; error?: string }) => {
      const answer = this.agentRequests.get(m?.id);
      this.agentRequests.delete(m?.id);
      answer?.(m);
    });
    this.process.channel?.unref();
    const keep = (b: Buffer) => (this.processOutput = (this.processOutput + b.toString()).slice(-20000));
    this.process.stdout!.on('data', keep);
    this.process.stderr!.on('data', keep);
    this.process.on('exit', (code, signal) => (this.exited = signal ? `killed by ${signal}` : `exited with code ${code}`));

    this.shell = new zmq.Dealer({ linger: 0 });
    this.shell.connect(`tcp://127.0.0.1:${connection.shell_port}`);
    this.iopub = new zmq.Subscriber({ linger: 0 });
    this.iopub.connect(`tcp://127.0.0.1:${connection.iopub_port}`);
    this.iopub.subscribe();
    void this.receive(this.shell, 'shell');
    void this.receive(this.iopub, 'iopub');

    // Ask for kernel_info until the kernel answers on shell AND its status
    // messages reach us on iopub (a subscriber misses what was published
    // before it had connected, so a cell's output could otherwise be lost).
    const deadline = Date.now() + (opts.startTimeoutMs ?? 60000);
    while (Date.now() < deadline) {
      if (this.exited) break;
      let sawShell = false;
      let sawIopub = false;
      const done = new Promise<void>((resolve) => {
        const id = this.send('kernel_info_request', {}, (channel) => {
          if (channel === 'shell') sawShell = true;
          else sawIopub = true;
          if (sawShell && sawIopub) {
            this.listeners.delete(id);
            resolve();
          }
        });
      });
      if ((await Promise.race([done, timeout(1000)])) !== 'timeout') return;
    }
    const why = this.exited ? `the kernel ${this.exited}` : `no answer within ${(opts.startTimeoutMs ?? 60000) / 1000} s`;
    await this.shutdown();
    throw new Error(`could not start the tslab kernel in ${opts.cwd}: ${why}.\n${this.processOutput.trim()}`);
  }

  private sign(frames: string[]): string {
    const hmac = createHmac('sha256', this.key);
    for (const f of frames) hmac.update(f);
    return hmac.digest('hex');
  }

  /** Send a request on shell; `onMessage` gets every reply and iopub message it causes. Returns its msg_id. */
  private send(msgType: string, content: unknown, onMessage: (channel: 'shell' | 'iopub', msg: Message) => void): string {
    const header = { msg_id: randomUUID(), msg_type: msgType, session: this.session, username: 'hyperlab', date: new Date().toISOString(), version: '5.3' };
    const frames = [JSON.stringify(header), '{}', '{}', JSON.stringify(content)];
    this.listeners.set(header.msg_id, onMessage);
    void this.shell.send([DELIM, this.sign(frames), ...frames]).catch(() => {});
    return header.msg_id;
  }

  private async receive(socket: zmq.Dealer | zmq.Subscriber, channel: 'shell' | 'iopub'): Promise<void> {
    try {
      for await (const raw of socket) {
        const frames = raw.map((b) => b.toString());
        const at = frames.indexOf(DELIM); // iopub frames start with a topic, shell frames do not
        if (at < 0) continue;
        const [signature, header, parent, metadata, content] = frames.slice(at + 1);
        if (signature !== this.sign([header, parent, metadata, content])) continue; // not from our kernel
        const msg: Message = { header: JSON.parse(header), parent_header: JSON.parse(parent), metadata: JSON.parse(metadata), content: JSON.parse(content) };
        const parentId = msg.parent_header.msg_id;
        const listener = parentId ? this.listeners.get(parentId) : undefined;
        if (listener) listener(channel, msg);
        // Output a cell's own async work prints after its reply (Jupyter keeps it in that cell).
        else if (channel === 'iopub' && parentId === this.lastExecute?.id && msg.header.msg_type !== 'status') this.lastExecute?.onOutput(msg);
      }
    } catch {
      // The socket was closed: shutdown() does that.
    }
  }

  /**
   * Run `code` as one cell. `onOutput` receives each iopub message of the cell
   * (stream, display_data, update_display_data, error). Resolves when the kernel
   * has replied and gone idle; rejects on timeout or if the kernel dies.
   */
  execute(code: string, onOutput: (msg: Message) => void, timeoutMs = 600000): Promise<ExecuteReply> {
    return new Promise((resolve, reject) => {
      let reply: ExecuteReply | null = null;
      let idle = false;
      const finish = () => {
        if (!reply || !idle) return;
        cleanup();
        resolve(reply);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`the cell did not finish within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const onExit = () => {
        cleanup();
        reject(new Error(`the kernel ${this.exited ?? 'stopped'} while running the cell.\n${this.processOutput.trim()}`));
      };
      this.process.once('exit', onExit);
      const cleanup = () => {
        clearTimeout(timer);
        this.process.off('exit', onExit);
        this.listeners.delete(id);
      };
      const content = { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true };
      const id: string = this.send('execute_request', content, (channel, msg) => {
        if (channel === 'shell' && msg.header.msg_type === 'execute_reply') {
          reply = { status: msg.content.status, executionCount: msg.content.execution_count ?? null };
        } else if (channel === 'iopub' && msg.header.msg_type === 'status') {
          if (msg.content.execution_state === 'idle') idle = true;
        } else if (channel === 'iopub') {
          onOutput(msg);
        }
        finish();
      });
      this.lastExecute = { id, onOutput };
    });
  }

  /**
   * tf.memory() in the kernel after the automatic freeing has run, or null
   * while the notebook has not imported hyperlab. Asked over the IPC channel
   * (kernel_agent.ts), not as a cell: nothing is compiled or run in the
   * notebook's namespace.
   */
  memory(timeoutMs = 60000): Promise<{ numTensors: number; numBytes: number } | null> {
    return new Promise((resolve, reject) => {
      if (this.exited || !this.process.connected) {
        reject(new Error(`the kernel ${this.exited ?? 'closed its IPC channel'}: cannot read its memory.\n${this.processOutput.trim()}`));
        return;
      }
      const id = ++this.agentNextId;
      const timer = setTimeout(() => {
        this.agentRequests.delete(id);
        reject(new Error(`the kernel did not report its memory within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.agentRequests.set(id, (answer) => {
        clearTimeout(timer);
        if (answer.error) reject(new Error(`reading tf.memory() in the kernel failed: ${answer.error}`));
        else resolve(answer.memory as { numTensors: number; numBytes: number } | null);
      });
      this.process.send({ id, type: 'memory' });
    });
  }

  /**
   * The completions of `code` at its end (a Jupyter complete_request), as a
   * notebook frontend asks for them: tslab type-checks `code` after the cells
   * run so far, which reads every declaration file it imports, and runs
   * nothing. The runner does this with a notebook's import lines while the
   * kernel waits for its turn (runner.ts, startKernelFor), so that the first
   * import does not wait for hyperlab's type declarations to be read.
   */
  complete(code: string, timeoutMs = 120000): Promise<string[]> {
    return new Promise((resolve) => {
      let id = '';
      let matches: string[] = [];
      const done = () => {
        clearTimeout(timer);
        this.process.off('exit', done);
        this.listeners.delete(id);
        resolve(matches);
      };
      const timer = setTimeout(done, timeoutMs);
      this.process.once('exit', done);
      id = this.send('complete_request', { code, cursor_pos: code.length }, (channel, msg) => {
        if (channel === 'shell' && msg.header.msg_type === 'complete_reply') matches = msg.content.matches ?? [];
        // The idle status follows the reply, and comes even where tslab failed to answer.
        if (channel === 'iopub' && msg.header.msg_type === 'status' && msg.content.execution_state === 'idle') done();
      });
    });
  }

  /**
   * CPU seconds (user + system) the kernel process has used so far, from
   * /proc (Linux, 100 clock ticks a second); null elsewhere. On a shared
   * machine this moves much less with the load than wall-clock time.
   */
  cpuSeconds(): number | null {
    try {
      const stat = fs.readFileSync(`/proc/${this.process.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return null;
    }
  }

  /** Stop the kernel process and close the sockets. */
  async shutdown(): Promise<void> {
    if (this.process && !this.exited) {
      const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
      this.process.kill('SIGTERM');
      if ((await Promise.race([exited, timeout(3000)])) === 'timeout') this.process.kill('SIGKILL');
    }
    this.shell?.close();
    this.iopub?.close();
    if (this.connectionFile) fs.rmSync(this.connectionFile, { force: true });
  }
}
