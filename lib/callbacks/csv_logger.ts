/**
 * One CSV row per epoch (`epoch,loss,val_loss,...,lr`), like Keras' CSVLogger.
 * On resume the file is truncated to the epochs the checkpoint holds and continued,
 * so the CSV and the checkpoint never disagree.
 */
import * as fs from 'node:fs';
import { Callback, Logs } from '../train/callback';

/** Write or append, naming the file when the disk is full or the folder is gone (ENOSPC, EACCES, ...). */
function writeOrSay(file: string, how: 'w' | 'a', text: string): void {
  try {
    if (how === 'w') fs.writeFileSync(file, text);
    else fs.appendFileSync(file, text);
  } catch (err) {
    throw new Error(`could not write ${file}: ${(err as Error).message} (free disk space or fix the folder's permissions, then rerun to resume)`, {
      cause: err,
    });
  }
}

export class CSVLogger extends Callback {
  private columns: string[] | null = null;

  constructor(
    readonly file: string,
    readonly options: { overwrite?: boolean } = {},
  ) {
    super();
  }

  onTrainBegin(): void {
    const done = this.trainer.epoch;
    if (done === 0 || !fs.existsSync(this.file)) {
      if (fs.existsSync(this.file) && !this.options.overwrite) {
        throw new Error(`CSVLogger: ${this.file} already exists; pass { overwrite: true } to replace it, or log to another file`);
      }
      fs.rmSync(this.file, { force: true });
      this.columns = null;
      return;
    }
    const lines = fs.readFileSync(this.file, 'utf8').split('\n').filter(Boolean);
    this.columns = lines[0].split(',');
    const keep = [lines[0], ...lines.slice(1).filter((l) => Number(l.split(',')[0]) < done)];
    writeOrSay(this.file, 'w', keep.join('\n') + '\n');
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    if (!this.columns) {
      this.columns = ['epoch', ...Object.keys(logs)];
      writeOrSay(this.file, 'w', this.columns.join(',') + '\n');
    } else {
      // A value seen for the first time (validation every n epochs): widen the file,
      // earlier rows get an empty cell.
      const added = Object.keys(logs).filter((k) => !this.columns!.includes(k));
      if (added.length) {
        const lines = fs.readFileSync(this.file, 'utf8').split('\n').filter(Boolean);
        this.columns = [...this.columns, ...added];
        const rows = lines.slice(1).map((l) => l + ','.repeat(added.length));
        writeOrSay(this.file, 'w', [this.columns.join(','), ...rows].join('\n') + '\n');
      }
    }
    const row = this.columns.map((c) => (c === 'epoch' ? String(epoch) : logs[c] === undefined ? '' : String(logs[c])));
    writeOrSay(this.file, 'a', row.join(',') + '\n');
  }
}
