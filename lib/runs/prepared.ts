/**
 * What a run's data preparation hands the trainer (xanes_data.ts for XANESNET,
 * cubes_data.ts for RACCOON/PENGUIN): features in, targets out, with their sizes.
 */
import type { RunSpec } from '../config';
import type { BatchSource } from '../train/trainer';
import type { MetricTask } from '../train/metrics';

export interface PreparedData {
  train: BatchSource & { length: number };
  validation: BatchSource & { length: number };
  nIn: number;
  nOut: number;
  metrics: MetricTask | null;
  /** Loaders whose shuffling must be restored on resume. */
  stateful: { getState(): unknown; setState(s: any): void }[];
  extra: Record<string, unknown>;
}

/** Reads a run's data (and, given its directory, writes or reuses the split and the scaler there). */
export type DataPreparer = (spec: RunSpec, runDir: string | null) => PreparedData | Promise<PreparedData>;
