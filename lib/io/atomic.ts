/**
 * Atomic file writes: a reader sees the old file or the new one, never half of one.
 *
 * The data goes to a hidden temp file in the same directory (`.name.tmp-<pid>-<random>`),
 * is flushed to disk (fsync), and is then renamed over the target. A rename within one
 * directory replaces the target in one step, so a crash or Ctrl-C during the write leaves
 * the previous file intact (plus, at worst, a stray temp file that `removeStaleTemps` deletes).
 *
 * Writing several files as one unit (a checkpoint) uses the two halves separately:
 * `stageFile` every file first, then `commitFile` them, the one that marks completion last.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Names of the temp files made here: `.<name>.tmp-<pid>-<8 hex digits>`. */
export const TEMP_FILE_PATTERN = /^\..+\.tmp-\d+-[0-9a-f]{8}$/;

/** A fresh temp-file path next to `file` (same directory, so the final rename is atomic). */
export function tempPathFor(file: string): string {
  const name = `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  return path.join(path.dirname(file), name);
}

/**
 * Write `data` to a new temp file next to `file` and flush it to disk; returns the temp path.
 * The directory is created if needed. `file` itself is not touched until `commitFile`.
 */
export function stageFile(file: string, data: string | Uint8Array): string {
  const temp = tempPathFor(file);
  let fd: number | undefined;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fd = fs.openSync(temp, 'wx');
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    return temp;
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    removeQuietly(temp);
    throw new Error(`could not write ${file} (via temp file ${path.basename(temp)}): ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Delete a temp file if it exists, never throwing (cleanup on an error path must not hide the error). */
function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // nothing to remove, or no access: the original error is the one to report
  }
}

/** Rename a staged temp file over `file` and make the rename durable. */
export function commitFile(temp: string, file: string): void {
  try {
    fs.renameSync(temp, file);
  } catch (err) {
    removeQuietly(temp);
    throw new Error(`could not replace ${file} with its new version: ${(err as Error).message}`, { cause: err });
  }
  syncDirectory(path.dirname(file));
}

/** Replace `file` with `data` atomically (creating the directory if needed). */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  commitFile(stageFile(file, data), file);
}

/** `writeFileAtomic` for a JSON value, pretty-printed, ending with a newline. */
export function writeJsonAtomic(file: string, value: unknown, indent = 2): void {
  writeFileAtomic(file, JSON.stringify(value, null, indent) + '\n');
}

/**
 * Flush a directory's entries (the renames in it) to disk. Best effort: some systems
 * (Windows, some network file systems) cannot open a directory, and then this does nothing.
 */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // not supported here: the rename is still atomic, only its durability on power loss is weaker
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Delete temp files left in `dir` by interrupted writes; returns the names removed. */
export function removeStaleTemps(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const stale = fs.readdirSync(dir).filter((name) => TEMP_FILE_PATTERN.test(name));
  for (const name of stale) fs.rmSync(path.join(dir, name), { force: true });
  return stale;
}
