/**
 * Logs every epoch's numbers to TensorBoard event files: `loss` and `val_loss`
 * become `loss/train` and `loss/test` (the RACCOON seed's tags), other metrics the
 * same way, and `lr` as `lr`. The step is the epoch (1-based, as the seed logs).
 */
import { Callback, Logs } from '../train/callback';
import { SummaryWriter } from '../io/tensorboard';

export function tensorboardTag(key: string): string {
  if (key === 'lr') return 'lr';
  if (key.startsWith('val_')) return `${key.slice(4)}/test`;
  return `${key}/train`;
}

export class TensorBoardLogger extends Callback {
  private writer: SummaryWriter | null = null;

  constructor(readonly logDir: string) {
    super();
  }

  onTrainBegin(): void {
    // A resumed run writes a new event file, as TensorBoard expects.
    this.writer = new SummaryWriter(this.logDir);
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    for (const [k, v] of Object.entries(logs)) if (Number.isFinite(v)) this.writer?.addScalar(tensorboardTag(k), v, epoch + 1);
    this.writer?.flush();
  }

  onTrainEnd(): void {
    this.writer?.close();
    this.writer = null;
  }
}
