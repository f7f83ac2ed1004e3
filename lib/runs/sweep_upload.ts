/**
 * A run directory carried in a queue job's return value, for a submitting machine that cannot
 * see the worker's disk (`hyperlab worker --upload`, implied by --runs-dir): packRunDir on the
 * worker, unpackRunDir when `hyperlab sweep --queue ... --results` writes the table.
 *
 * Everything a finished run needs for `hyperlab predict`, `report` and `export` travels (run.yaml,
 * config.json, metrics.csv, report.html, split and scaler files, checkpoints/best with its
 * weights, checkpoints/history.jsonl), base64 in the job's JSON; TensorBoard files and
 * checkpoints/last (the resume point, of no use once the trial has ended) stay on the worker.
 * Files past `limitBytes` in all (default 32 MiB: the job lives in Redis's memory) stay too and
 * are listed as skipped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomic';

export const UPLOAD_LIMIT_BYTES = 32 * 1024 * 1024;

export interface PackedRunDir {
  /** Path relative to the run directory (forward slashes) -> base64 content. */
  files: Record<string, string>;
  /** Files left on the worker because of the size limit. */
  skipped: string[];
}

/** Left behind: TensorBoard files, the resume checkpoint, the run lock. */
function leftBehind(rel: string): boolean {
  const parts = rel.split('/');
  return parts.includes('tensorboard') || parts.some((p, i) => p === 'last' && parts[i - 1] === 'checkpoints') || parts[parts.length - 1] === '.lock';
}

function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (leftBehind(r)) continue;
    if (e.isDirectory()) out.push(...walk(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/** The run directory's files (small first, so the limit leaves out the largest). */
export function packRunDir(runDir: string, limitBytes = UPLOAD_LIMIT_BYTES): PackedRunDir {
  const files = walk(runDir)
    .map((rel) => ({ rel, size: fs.statSync(path.join(runDir, rel)).size }))
    .sort((a, b) => a.size - b.size);
  const packed: PackedRunDir = { files: {}, skipped: [] };
  let total = 0;
  for (const f of files) {
    if (total + f.size > limitBytes) packed.skipped.push(f.rel);
    else {
      packed.files[f.rel] = fs.readFileSync(path.join(runDir, f.rel)).toString('base64');
      total += f.size;
    }
  }
  return packed;
}

/** Write a packed run directory under `dest`; a path leading out of it is refused. Returns the files written. */
export function unpackRunDir(packed: PackedRunDir, dest: string): number {
  const root = path.resolve(dest);
  let n = 0;
  for (const [rel, b64] of Object.entries(packed.files)) {
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep)) throw new Error(`an uploaded run directory names '${rel}', which leads out of ${root}; nothing more was written`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, Buffer.from(b64, 'base64'));
    n++;
  }
  return n;
}
