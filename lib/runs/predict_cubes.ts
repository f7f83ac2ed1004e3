/**
 * Predictions of a RACCOON/PENGUIN run: the probability that each test cube is GR.
 *
 * The models classify (1, S, S) images. A cube is cut into its 3S slices as in training
 * (sliceCubes, with the run's slicing); with the run's `transforms` each slice is also seen
 * under the 8 symmetries of the square, as the seed's evaluation does. The cube's
 * probability is the mean of sigmoid(logit) over all of them; >= 0.5 reads as GR.
 * The MSE against the labels is the Brier score.
 */
import * as path from 'node:path';
import { tf } from '../engine/tf';
import { noGrad } from '../engine/autograd';
import { Module } from '../nn/module';
import { MODELS } from '../models/registry';
import { sliceCubes, Slicing, TRANSFORMS } from './tasks/raccoon_task';
import { CubeDataSpec } from '../config';
import { DATA_PREPARERS } from './run';
import { BatchSource } from '../train/trainer';
import { checkpointDir, RunDir } from './run_dir';
import { cubeCsv, writePredictionFiles } from './predict_output';
import { loadModel, manifestOf, meanSquaredError, PredictOptions, PredictResult, say, splitOutput } from './predict_common';

type AnyBatch = Record<string, tf.Tensor> | tf.Tensor[];

async function* batchesOf(source: BatchSource): AsyncGenerator<AnyBatch> {
  if (Symbol.asyncIterator in source) for await (const b of source as AsyncIterable<AnyBatch>) yield b;
  else for (const b of source as Iterable<AnyBatch>) yield b;
}

/** Mean GR probability of one cube (1, S, S, S) over its slices (and transforms), in chunks of `chunk` images. */
function cubeProbability(model: Module, type: string, cube: tf.Tensor, slicing: Slicing, transforms: boolean, chunk: number): number {
  const images = sliceCubes(cube, slicing);
  let sum = 0;
  try {
    const ts = transforms ? TRANSFORMS : [TRANSFORMS[0]];
    const M = images.shape[0];
    for (const t of ts) {
      for (let s = 0; s < M; s += chunk) {
        sum += tf.tidy(() =>
          noGrad(() => {
            const x = t.apply(tf.slice(images, s, Math.min(chunk, M - s)));
            return tf.sum(tf.sigmoid(splitOutput(model.forward(x), type).pred)).dataSync()[0];
          }),
        );
      }
    }
    return sum / (M * ts.length);
  } finally {
    images.dispose();
  }
}

/** Predict every test cube of a RACCOON/PENGUIN run (see the top of this file). */
/**
 * The model's probability for every test cube (each cube sliced into images and, with transforms,
 * averaged over the 8 symmetries, as in training) and the cubes' labels. Frees the model.
 */
async function testCubeProbabilities(
  run: RunDir,
  model: Module,
  test: BatchSource,
  how: { slicing: Slicing; transforms: boolean; chunk: number },
): Promise<{ probs: number[]; labels: number[] }> {
  const type = run.spec.model.type;
  const probs: number[] = [];
  const labels: number[] = [];
  try {
    model.eval();
    for await (const b of batchesOf(test)) {
      const tensors = Array.isArray(b) ? b : Object.values(b);
      try {
        const cubes = Array.isArray(b) ? b[0] : (b.cube ?? b.x);
        const y = Array.isArray(b) ? b[1] : (b.label ?? b.y);
        if (!cubes || cubes.rank !== 4) {
          throw new Error(
            `run ${run.spec.name}: expected test batches of cubes (N, S, S, S) under 'cube' or 'x', got ${Array.isArray(b) ? 'an array' : Object.keys(b).join(', ')}`,
          );
        }
        for (let c = 0; c < cubes.shape[0]; c++) {
          const one = tf.slice(cubes, c, 1);
          try {
            probs.push(cubeProbability(model, type, one, how.slicing, how.transforms, how.chunk));
          } finally {
            one.dispose();
          }
        }
        if (y) labels.push(...y.dataSync());
      } finally {
        for (const t of tensors) t.dispose();
      }
    }
  } finally {
    model.dispose();
  }
  return { probs, labels };
}

export async function predictCubes(run: RunDir, opts: PredictOptions): Promise<PredictResult> {
  const type = run.spec.model.type;
  if (!MODELS[type]) {
    throw new Error(
      `run ${run.spec.name}: model '${type}' is not in this hyperlab's zoo (it has ${Object.keys(MODELS).join(', ')}); update hyperlab, or check model_params.architecture`,
    );
  }
  const prepare = DATA_PREPARERS.cubes;
  if (!prepare) throw new Error(`run ${run.spec.name}: this hyperlab cannot read cube data yet (no 'cubes' data preparer); update hyperlab`);
  if (opts.data && opts.data !== 'validation') {
    throw new Error(
      `run ${run.spec.name}: a cube run predicts on its own test seeds (data_params.test_seeds of ${path.basename(run.spec.file)}); leave out --data`,
    );
  }
  const which = opts.checkpoint ?? 'best';
  const ckDir = checkpointDir(run, which);
  const d = run.spec.data as CubeDataSpec & { slicing?: Slicing; microBatch?: number };
  const raw = run.spec.raw ?? {};
  const slicing: Slicing = d.slicing ?? raw.data_params?.slicing ?? 'axes';
  const chunk = opts.batchSize ?? (d.microBatch || raw.train_params?.micro_batch || 256);
  const data = await prepare(run.spec, null);
  const { model, epoch } = loadModel(run, { nIn: data.nIn, nOut: data.nOut }, ckDir);
  let probs: number[];
  let labels: number[];
  try {
    ({ probs, labels } = await testCubeProbabilities(run, model, data.validation, { slicing, transforms: d.transforms ?? true, chunk }));
  } finally {
    (data.extra.close as (() => void) | undefined)?.(); // the cube file
  }
  const n = probs.length;
  const p = Float32Array.from(probs);
  const y = labels.length === n ? Float32Array.from(labels) : null;
  const ids = Array.from({ length: n }, (_, i) => `cube${String(i).padStart(4, '0')}`);
  const { mse } = meanSquaredError(p, y, 1);
  say(opts, `predicted ${n} test cube(s) of ${run.spec.name} (checkpoint ${which}, epoch ${epoch ?? '?'})`);
  if (y && mse !== null) {
    const acc = y.reduce((a, l, i) => a + Number(p[i] >= 0.5 === l >= 0.5), 0) / n;
    say(opts, `MSE (Brier score): ${mse.toPrecision(6)}; accuracy at 0.5: ${(100 * acc).toFixed(1)}%`);
  }
  const result: PredictResult = {
    run: run.spec.name,
    runDir: run.dir,
    checkpoint: { which, dir: ckDir, epoch },
    direction: 'cube->probability',
    source: `the test cubes of ${run.spec.name}`,
    label: 'validation',
    ids,
    predictions: p,
    shape: [n, 1],
    targets: y,
    nTargets: y ? n : 0,
    mse,
    reconstructions: null,
    mseRecon: null,
    energies: null,
    out: null,
    files: [],
  };
  if (opts.out) {
    result.out = path.resolve(opts.out);
    const contents = new Map([['predictions.csv', cubeCsv(ids, p, y)]]);
    result.files = writePredictionFiles(result.out, contents, manifestOf(result, run, opts.previewSamples ?? 4), opts.overwrite);
    say(opts, `wrote ${result.out}`);
  }
  return result;
}
