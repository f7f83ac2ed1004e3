/**
 * A terminal progress bar per epoch with the running loss, the rate and the ETA
 * (cli-progress). Where stdout is not a terminal (CI logs, files) it prints one
 * line per epoch instead, so logs stay readable.
 */
import { SingleBar } from 'cli-progress';
import { Callback, Logs } from '../train/callback';

const fmt = (v: number) => (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4) : v.toExponential(3));

export function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .filter(([k]) => k !== 'epoch')
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join('  ');
}

export class ProgressBar extends Callback {
  private bar: SingleBar | null = null;
  private start = 0;
  private batches = 0;
  private lossSum = 0;

  constructor(
    readonly stream: NodeJS.WriteStream = process.stdout,
    readonly options: { bar?: boolean } = {},
  ) {
    super();
  }

  /** A live bar only on a terminal (and unless `bar: false`); otherwise one line per epoch. */
  private get interactive(): boolean {
    return this.options.bar !== false && Boolean(this.stream.isTTY);
  }

  onEpochBegin(epoch: number): void {
    this.start = Date.now();
    this.batches = 0;
    this.lossSum = 0;
    if (!this.interactive) return;
    this.bar = new SingleBar({
      format: `epoch ${epoch + 1}/${this.trainer.targetEpochs} [{bar}] {value}/{total} batches  loss {loss}  {rate} batch/s  ETA {eta_formatted}`,
      stream: this.stream,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    });
    this.bar.start(this.trainer.batchesPerEpoch ?? 0, 0, { loss: '-', rate: '-' });
  }

  onBatchEnd(_step: number, logs: Logs): void {
    this.batches++;
    this.lossSum += logs.loss ?? 0;
    if (!this.bar) return;
    const secs = (Date.now() - this.start) / 1000;
    if (this.trainer.batchesPerEpoch === null) this.bar.setTotal(this.batches);
    this.bar.update(this.batches, { loss: fmt(this.lossSum / this.batches), rate: secs > 0 ? (this.batches / secs).toFixed(1) : '-' });
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    this.bar?.stop();
    this.bar = null;
    const secs = ((Date.now() - this.start) / 1000).toFixed(1);
    this.stream.write(`epoch ${epoch + 1}/${this.trainer.targetEpochs}  ${formatLogs(logs)}  (${secs} s)\n`);
  }

  onTrainEnd(): void {
    this.bar?.stop();
    this.bar = null;
    if (this.trainer.stopReason) this.stream.write(`stopped: ${this.trainer.stopReason}\n`);
  }
}
