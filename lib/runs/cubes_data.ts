/**
 * The data of a RACCOON/PENGUIN run (`data_params` of a seed-style run file):
 * train on seeds [0, train_seeds), test on [train_seeds, train_seeds + test_seeds)
 * of one cube file (lib/data/cubes.ts), batches counted in cubes.
 *
 *   train:      DataLoader over CubeDataset, shuffled every epoch (the seed's
 *               DistributedSampler(shuffle=True)), seeded with train.seed (42, the
 *               seed's manual_seed), batch size from the run spec (the seed's table)
 *   validation: the test seeds in file order (the order changes no number in eval mode)
 *   metrics:    'binary' from the logits: accuracy, precision, recall, f1, tpr, fpr
 *
 * Each batch is {cube: (N, S, S, S), label: (N, 1)}; the task (lib/runs/tasks/raccoon_task.ts)
 * slices it into images. The model's input_size must equal the cubes' side S.
 *
 * Only types come from ./run, so run.ts can import this module without a cycle.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CubeDataSpec, RunSpec } from '../config';
import { CubeDataset } from '../data/cubes';
import { DataLoader } from '../data/loader';
import type { PreparedData } from './prepared';

export async function prepareCubes(spec: RunSpec, runDir: string | null): Promise<PreparedData> {
  const d = spec.data as CubeDataSpec;
  if (d.kind !== 'cubes') throw new Error(`prepareCubes: run ${spec.name} has '${d.kind}' data, not cubes`);
  const split = await CubeDataset.openSplit(d.datafile, {
    nTrain: d.trainSeeds,
    nTest: d.testSeeds,
    newtonAugmentation: d.newtonAugmentation,
    targetNoise: d.targetNoise,
  });
  try {
    const S = split.train.cubeSize;
    const inputSize = Number(spec.model.params.input_size ?? 256);
    if (inputSize !== S) {
      throw new Error(
        `run ${spec.name}: the cubes in ${d.datafile} are ${S}^3 but the model is built for ${inputSize} x ${inputSize} images; ` +
          `set model_params.input_size: ${S} in ${spec.file}`,
      );
    }
    if (runDir) {
      fs.writeFileSync(
        path.join(runDir, 'split.json'),
        JSON.stringify({ datafile: d.datafile, cubeSize: S, trainSeeds: split.train.seeds, testSeeds: split.test.seeds }, null, 1),
      );
    }
    const train = new DataLoader(split.train, { batchSize: spec.train.batchSize, shuffle: true, seed: spec.train.seed });
    const validation = new DataLoader(split.test, { batchSize: spec.train.batchSize });
    return {
      train,
      validation,
      nIn: 1,
      nOut: 1,
      metrics: 'binary',
      stateful: [train],
      extra: { cubeSize: S, nTrainCubes: split.train.length, nTestCubes: split.test.length, close: split.close },
    };
  } catch (e) {
    split.close();
    throw e;
  }
}
