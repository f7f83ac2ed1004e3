/**
 * XANESNET's `model_eval` (src/core_eval.py, v2023-08): invariance tests of a trained
 * model on a held-out evaluation split. With `model_eval: True` the data are split
 * 75/15/10 into training, validation and evaluation rows (lib/runs/run.ts); after
 * training, every test below computes a per-sample loss on the evaluation rows and
 * asks whether the trained model's true loss is significantly lower:
 *
 *     loss of a sample = sum over its features of (output - target)^2   (MSELoss(reduction='none').sum(1))
 *     passed           = ttest_ind(true_losses, other_losses, alternative='less').pvalue < 0.05
 *
 * scipy's ttest_ind with its default equal_var=True: Student's t with the pooled
 * variance (lib/data/stats.ts), as core_eval.loss_ttest calls it.
 *
 * The tests, for an output head compared with a target of domain x (the input) or y:
 *
 *     Shuffle Input           the model on the inputs shuffled within each batch
 *     Shuffle Output          the model's outputs against targets shuffled within each batch
 *     Mean Train Input        the model on the mean training input (one row, repeated)
 *     Mean Train Output       the mean training target as the output
 *     Mean Std. Train Input   the model on mean + N(0, std) training inputs
 *     Mean Std. Train Output  mean + N(0, std) of the training targets as the output
 *     Random Valid Input      the model on validation inputs instead of the evaluation inputs
 *     Random Valid Output     validation targets as the output
 *
 * Heads and result groups, by model (XANESNET's names; its AE key's stray ':' dropped):
 *
 *     mlp, cnn, lstm    ModelEvalResults-Prediction            model(x) vs y
 *     ae_mlp, ae_cnn    ModelEvalResults-Reconstruction        recon vs x
 *                       ModelEvalResults-Prediction            pred vs y
 *     aegan_mlp         ModelEvalResults-Reconstruction-XYZ / -Xanes   recon of x / of y
 *                       ModelEvalResults-Prediction-XYZ / -Xanes       x from y / y from x
 *
 * Differences from core_eval.py, each on purpose:
 * - XANESNET computes the training std as sqrt(0 / n_batches): always 0, so its "Mean Std."
 *   tests add no noise and repeat the mean tests. hyperlab uses the per-feature standard
 *   deviation of the training rows (ddof 1), which is what the tests are named for.
 * - The training mean is the mean over the training rows; XANESNET averages the batch means,
 *   which weighs the smaller last batch too much.
 * - XANESNET's lstm is not tested (core_eval returns None for it); hyperlab tests it as mlp.
 * - Shuffles and noise come from a Generator seeded with the run's seed, so the results are
 *   reproducible (XANESNET draws from torch's global generator). For ae models XANESNET
 *   shuffles the reconstruction rows instead of the targets: the same pairing at random.
 * - "Random Valid": evaluation row i is paired with validation row i (batch k of both
 *   loaders, as XANESNET iterates them); where the validation rows run out, XANESNET stops
 *   with an error and hyperlab wraps around to the first validation rows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../engine/tf';
import { noGrad } from '../engine/autograd';
import { Generator } from '../engine/random';
import { Module } from '../nn/module';
import { ttestInd } from '../data/stats';

/** Rows of inputs x [n, nIn] and targets y [n, nOut], as the model sees them (after any scaling). */
export interface EvalRows {
  x: Float32Array;
  y: Float32Array;
  n: number;
}

export interface ModelEvalSets {
  train: EvalRows;
  validation: EvalRows;
  evaluation: EvalRows;
  nIn: number;
  nOut: number;
}

export interface ModelEvalOptions {
  /** The run's model type: mlp, cnn, lstm, ae_mlp, ae_cnn or aegan_mlp. */
  type: string;
  /** XANESNET evaluates in batches of the run's batch size (it matters for the original lstm). */
  batchSize: number;
  /** Seeds the shuffles and the noise. */
  seed: number;
  /** Significance level of the one-sided tests (XANESNET: 0.05). */
  alpha?: number;
}

export interface TestResult {
  /** p < alpha: the true loss is significantly lower than this alternative's. */
  passed: boolean;
  statistic: number;
  pvalue: number;
  df: number;
  meanTrueLoss: number;
  meanOtherLoss: number;
}

export const TEST_NAMES = [
  'Shuffle Input',
  'Shuffle Output',
  'Mean Train Input',
  'Mean Train Output',
  'Mean Std. Train Input',
  'Mean Std. Train Output',
  'Random Valid Input',
  'Random Valid Output',
] as const;
export type TestName = (typeof TEST_NAMES)[number];

/** group name -> test name -> result. */
export type ModelEvalResults = Record<string, Record<TestName, TestResult>>;

/** What the model puts out, head by head, and which domain each head is compared with. */
interface Heads {
  groups: string[];
  domains: ('x' | 'y')[];
  /** aegan_mlp's "Random Valid Output" uses shuffled validation rows for its prediction heads. */
  shuffleValidOutput: boolean[];
  run(x: tf.Tensor, y: tf.Tensor): tf.Tensor[];
}

/** The model types model_eval knows. */
export const MODEL_EVAL_TYPES = ['mlp', 'cnn', 'lstm', 'ae_mlp', 'ae_cnn', 'aegan_mlp'];

function headsOf(model: Module, type: string): Heads {
  if (type === 'mlp' || type === 'cnn' || type === 'lstm') {
    return {
      groups: ['ModelEvalResults-Prediction'],
      domains: ['y'],
      shuffleValidOutput: [false],
      run: (x) => [model.forward(x) as tf.Tensor],
    };
  }
  if (type === 'ae_mlp' || type === 'ae_cnn') {
    return {
      groups: ['ModelEvalResults-Reconstruction', 'ModelEvalResults-Prediction'],
      domains: ['x', 'y'],
      shuffleValidOutput: [false, false],
      run: (x) => model.forward(x) as unknown as tf.Tensor[],
    };
  }
  if (type === 'aegan_mlp') {
    const m = model as unknown as { generateAll(a: tf.Tensor, b: tf.Tensor): Record<'reconA' | 'reconB' | 'predA' | 'predB', tf.Tensor> };
    return {
      groups: [
        'ModelEvalResults-Reconstruction-XYZ',
        'ModelEvalResults-Reconstruction-Xanes',
        'ModelEvalResults-Prediction-XYZ',
        'ModelEvalResults-Prediction-Xanes',
      ],
      domains: ['x', 'y', 'x', 'y'],
      shuffleValidOutput: [false, false, true, true],
      run: (x, y) => {
        const o = m.generateAll(x, y);
        return [o.reconA, o.reconB, o.predA, o.predB];
      },
    };
  }
  throw new Error(`model_eval: no invariance tests for model '${type}'; they exist for ${MODEL_EVAL_TYPES.join(', ')}`);
}

/** Per-feature mean and standard deviation (ddof 1) of n rows of width w. */
function columnStats(data: Float32Array, n: number, w: number): { mean: Float32Array; std: Float32Array } {
  const mean = new Float64Array(w);
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) mean[j] += data[i * w + j];
  for (let j = 0; j < w; j++) mean[j] /= n;
  const ss = new Float64Array(w);
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) ss[j] += (data[i * w + j] - mean[j]) ** 2;
  return { mean: Float32Array.from(mean), std: Float32Array.from(ss, (s) => (n > 1 ? Math.sqrt(s / (n - 1)) : 0)) };
}

/** Rows `idx` of a row-major [*, w] array. */
function pick(data: Float32Array, w: number, idx: ArrayLike<number>): Float32Array {
  const out = new Float32Array(idx.length * w);
  for (let i = 0; i < idx.length; i++) out.set(data.subarray(idx[i] * w, idx[i] * w + w), i * w);
  return out;
}

/** b copies of one row. */
function repeatRow(row: Float32Array, b: number): Float32Array {
  const out = new Float32Array(b * row.length);
  for (let i = 0; i < b; i++) out.set(row, i * row.length);
  return out;
}

/** b rows of mean + N(0, std) per feature. */
function noisyMean(g: Generator, mean: Float32Array, std: Float32Array, b: number): Float32Array {
  const w = mean.length;
  const out = new Float32Array(b * w);
  for (let i = 0; i < b; i++) for (let j = 0; j < w; j++) out[i * w + j] = mean[j] + std[j] * g.normal();
  return out;
}

/** Per-sample sum of squared errors of two [b, w] arrays. */
function sampleLoss(out: Float32Array | ArrayLike<number>, target: Float32Array, b: number, w: number): number[] {
  const losses: number[] = [];
  for (let i = 0; i < b; i++) {
    let s = 0;
    for (let j = 0; j < w; j++) s += (out[i * w + j] - target[i * w + j]) ** 2;
    losses.push(s);
  }
  return losses;
}

/** Run the invariance tests (see the top of this file); the model is left in the mode it was in. */
export function runModelEval(model: Module, sets: ModelEvalSets, opts: ModelEvalOptions): ModelEvalResults {
  const heads = headsOf(model, opts.type);
  if (sets.evaluation.n < 2)
    throw new Error(`model_eval: the evaluation split has ${sets.evaluation.n} sample(s); the t-tests need at least 2 (use more data)`);
  if (sets.validation.n < 1) throw new Error('model_eval: the validation split is empty');
  return tTests(heads, evaluationLosses(model, heads, sets, opts), opts.alpha ?? 0.05);
}

/**
 * The per-sample losses of every test, head by head (losses[test][head]; 'true' is the trained
 * model on the real pairs), over the evaluation rows in batches, in eval mode and without gradients.
 */
function evaluationLosses(model: Module, heads: Heads, sets: ModelEvalSets, opts: ModelEvalOptions): Record<string, number[][]> {
  const { nIn, nOut, train, validation, evaluation } = sets;
  const width = { x: nIn, y: nOut };
  const statsX = columnStats(train.x, train.n, nIn);
  const statsY = columnStats(train.y, train.n, nOut);
  const stat = { x: statsX, y: statsY };
  const g = new Generator(opts.seed);
  const names = TEST_NAMES;
  // losses[test][head]: per-sample losses; 'true' is the trained model on the real pairs.
  const losses: Record<string, number[][]> = Object.fromEntries(['true', ...names].map((t) => [t, heads.groups.map(() => [])]));
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => {
      // The model on inputs (x, y) of b rows: its outputs as arrays, head by head.
      const outputs = (x: Float32Array, y: Float32Array, b: number): Float32Array[] =>
        tf.tidy(() => heads.run(tf.tensor2d(x, [b, nIn]), tf.tensor2d(y, [b, nOut])).map((t) => t.reshape([b, -1]).dataSync() as Float32Array));
      const record = (test: string, outs: (Float32Array | null)[], targets: { x: Float32Array; y: Float32Array }, b: number) =>
        outs.forEach((o, h) => {
          const d = heads.domains[h];
          losses[test][h].push(...sampleLoss(o!, targets[d], b, width[d]));
        });
      // The model's outputs for the mean training input (and output), one row, computed once.
      const meanOut = outputs(statsX.mean, statsY.mean, 1);
      for (let s = 0; s < evaluation.n; s += opts.batchSize) {
        const b = Math.min(opts.batchSize, evaluation.n - s);
        const rows = Int32Array.from({ length: b }, (_, i) => s + i);
        const X = pick(evaluation.x, nIn, rows);
        const Y = pick(evaluation.y, nOut, rows);
        const real = { x: X, y: Y };
        record('true', outputs(X, Y, b), real, b);
        // Shuffle Input / Output: one permutation for x, another for y (XANESNET's idx, jdx).
        const idx = g.permutation(b);
        const jdx = g.permutation(b);
        const shuffled = { x: pick(X, nIn, idx), y: pick(Y, nOut, jdx) };
        record('Shuffle Input', outputs(shuffled.x, shuffled.y, b), real, b);
        record('Shuffle Output', outputs(X, Y, b), shuffled, b);
        // Mean Train Input / Output.
        record(
          'Mean Train Input',
          meanOut.map((o) => repeatRow(o, b)),
          real,
          b,
        );
        record(
          'Mean Train Output',
          heads.domains.map((d) => repeatRow(stat[d].mean, b)),
          real,
          b,
        );
        // Mean Std. Train Input / Output.
        const noisyX = noisyMean(g, statsX.mean, statsX.std, b);
        const noisyY = noisyMean(g, statsY.mean, statsY.std, b);
        record('Mean Std. Train Input', outputs(noisyX, noisyY, b), real, b);
        record(
          'Mean Std. Train Output',
          heads.domains.map((d) => noisyMean(g, stat[d].mean, stat[d].std, b)),
          real,
          b,
        );
        // Random Valid Input / Output: validation row s+i for evaluation row s+i.
        const alt = Int32Array.from({ length: b }, (_, i) => (s + i) % validation.n);
        const altRows = { x: pick(validation.x, nIn, alt), y: pick(validation.y, nOut, alt) };
        record('Random Valid Input', outputs(altRows.x, altRows.y, b), real, b);
        record(
          'Random Valid Output',
          heads.domains.map((d, h) => (heads.shuffleValidOutput[h] ? pick(altRows[d], width[d], g.permutation(b)) : altRows[d])),
          real,
          b,
        );
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return losses;
}

/** Each test's one-sided t-test (pooled variance): does the trained model beat it at level alpha? */
function tTests(heads: Heads, losses: Record<string, number[][]>, alpha: number): ModelEvalResults {
  const names = TEST_NAMES;
  const results: ModelEvalResults = {};
  heads.groups.forEach((group, h) => {
    const truth = losses.true[h];
    results[group] = Object.fromEntries(
      names.map((name) => {
        const r = ttestInd(truth, losses[name][h], { alternative: 'less', equalVar: true });
        return [name, { passed: r.pvalue < alpha, statistic: r.statistic, pvalue: r.pvalue, df: r.df, meanTrueLoss: r.mean1, meanOtherLoss: r.mean2 }];
      }),
    ) as Record<TestName, TestResult>;
  });
  return results;
}

/** The results as XANESNET prints them (">>> Shuffle Input : True"), with the p-values. */
export function formatModelEval(results: ModelEvalResults, nEval: number): string {
  const lines = [`${'='.repeat(20)} Model evaluation tests (${nEval} evaluation samples) ${'='.repeat(20)}`];
  for (const [group, tests] of Object.entries(results)) {
    lines.push(`    ${group.replace(/^ModelEvalResults-/, '')}:`);
    for (const [name, r] of Object.entries(tests)) {
      lines.push(
        `>>> ${name.padEnd(25)}: ${r.passed ? 'True ' : 'False'}  (p = ${r.pvalue.toPrecision(3)}, true loss ${r.meanTrueLoss.toPrecision(4)} vs ${r.meanOtherLoss.toPrecision(4)})`,
      );
    }
  }
  return lines.join('\n');
}

/** Run the tests after training, print them and write model_eval.json into the run directory. */
export function modelEvalAfterTraining(
  model: Module,
  sets: ModelEvalSets,
  opts: ModelEvalOptions & { runDir: string; say?: (msg: string) => void },
): ModelEvalResults {
  const results = runModelEval(model, sets, opts);
  opts.say?.(formatModelEval(results, sets.evaluation.n));
  const file = path.join(opts.runDir, 'model_eval.json');
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        test: "scipy.stats.ttest_ind(true_loss, other_loss, alternative='less') (pooled variance); passed = p < alpha",
        alpha: opts.alpha ?? 0.05,
        loss: 'per sample: sum over features of squared error',
        samples: { train: sets.train.n, validation: sets.validation.n, evaluation: sets.evaluation.n },
        seed: opts.seed,
        results,
      },
      (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v),
      1,
    ),
  );
  opts.say?.(`model evaluation written to ${file}`);
  return results;
}
