/**
 * One trainer per run directory: `train` takes `<run>/.lock` (its pid, host, start time and
 * command) before it writes anything, and a second process on the same run stops with a
 * message naming the first. A lock whose process is gone (kill -9, a crash, a reboot) is
 * stale: it is taken over with a note, so a killed run still resumes with a plain rerun.
 *
 * The lock file is created with O_EXCL ('wx'), so two processes cannot both take it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const LOCK_FILE = '.lock';

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

/** Is process `pid` running on this machine? (EPERM: it runs, as another user.) */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockInfo | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return null; // half-written or garbage: treated as stale below
  }
}

/**
 * Take the run directory's lock; returns a release function (idempotent) and the notes to print.
 * Throws when another live process holds it.
 */
export function lockRunDir(runDir: string): { release: () => void; notes: string[] } {
  const file = path.join(runDir, LOCK_FILE);
  const notes: string[] = [];
  const me: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), command: process.argv.slice(1).join(' ') };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.removeListener('exit', release);
        const now = readLock(file);
        if (now && now.pid === me.pid && now.startedAt === me.startedAt) fs.rmSync(file, { force: true });
      };
      process.on('exit', release);
      return { release, notes };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot lock ${runDir} (${file}): ${(err as Error).message}`, { cause: err });
    }
    const other = readLock(file);
    const sameHost = !other || other.host === me.host;
    if (other && sameHost && processAlive(other.pid)) {
      throw new Error(
        `${runDir} is in use: process ${other.pid} (${other.command || 'hyperlab'}, started ${other.startedAt}) is training this run. ` +
          `Wait for it to finish, or stop it (kill ${other.pid}) and rerun to resume; two trainers on one run would write the same checkpoints and metrics.csv. ` +
          `If no such process is running, remove ${file}`,
      );
    }
    if (other && !sameHost) {
      throw new Error(
        `${runDir} is locked by process ${other.pid} on ${other.host} (started ${other.startedAt}); hyperlab cannot tell from here whether it still runs. ` +
          `If it does not, remove ${file} and rerun`,
      );
    }
    notes.push(`took over a stale lock: ${other ? `process ${other.pid} (started ${other.startedAt}) is gone` : 'the lock file was unreadable'} (${file})`);
    fs.rmSync(file, { force: true });
  }
  throw new Error(`cannot lock ${runDir}: another process took ${file} at the same moment; rerun`);
}
