/**
 * Runs from a run file: data preparation per model family, the model-specific tasks,
 * load_guess, training with the run's callbacks, the run directory, model_eval,
 * sweeps and predictions.
 */
export * from './run';
export * from './sweep';
export { metricsFromHistory, runFileTrial, serveTrial } from './sweep_worker';
export type { TrialMessage } from './sweep_worker';
export { predictRun, meanSquaredError } from './predict';
export type { PredictOptions, PredictResult } from './predict';
export { openRunDir, checkpointDir, runScaler, runSplit, runEnergyGrid } from './run_dir';
export type { RunDir, CheckpointName } from './run_dir';
export { runModelEval, formatModelEval, TEST_NAMES } from './model_eval';
export type { ModelEvalResults, ModelEvalSets, TestResult } from './model_eval';
export * from './tasks';
