/**
 * XANESNET input files that hyperlab recognises but does not train, each refused with one
 * message that says what to do instead (before the schema, whose "unknown key" list would
 * bury the point):
 * - descriptors other than wacsf and rdc (soap, mbtr, lmbtr come from DScribe; pdos and xtb
 *   from xtb-python; msr, armsr, direct from later XANESNET versions);
 * - prediction input files (in_predict.yaml): hyperlab predicts from a run directory;
 * - the 2025 layout (a `dataset:` block).
 * Optuna (`optuna_params.tune` / `optuna: True`) is refused in checks.ts, after validation.
 */
export const XANESNET_ONLY_DESCRIPTORS: Record<string, string> = {
  soap: 'DScribe',
  mbtr: 'DScribe',
  lmbtr: 'DScribe',
  pdos: 'xtb-python',
  xtb: 'xtb-python',
  msr: 'a later XANESNET version',
  armsr: 'a later XANESNET version',
  direct: 'a later XANESNET version',
};

/** Keys only XANESNET's prediction input files hold. */
const PREDICT_KEYS = ['plot_save', 'result_save', 'monte_carlo', 'mc_iter', 'ensemble_combine', 'shap', 'shap_params'];

/** One message per refused feature, with `at(path)` giving "field (line N)". */
export function refusedFeatures(raw: Record<string, any>, at: (path: string[]) => string): string[] {
  const problems: string[] = [];
  const type = String(raw.descriptor?.type ?? '').toLowerCase();
  if (XANESNET_ONLY_DESCRIPTORS[type]) {
    problems.push(
      `${at(['descriptor', 'type'])}: the '${type}' descriptor comes from ${XANESNET_ONLY_DESCRIPTORS[type]}, which hyperlab does not include; ` +
        "hyperlab computes XANESNET's wacsf and rdc descriptors: set descriptor.type to wacsf (params r_min, r_max, n_g2, n_g4) or rdc (r_min, r_max, dr, alpha)",
    );
  }
  const predictKeys = PREDICT_KEYS.filter((k) => k in raw);
  const trains = 'hyperparams' in raw || 'model' in raw || 'epochs' in raw || 'model_params' in raw;
  if (predictKeys.length && !trains) {
    problems.push(
      `${at([predictKeys[0]])}: this is a XANESNET prediction input file (in_predict.yaml: ${predictKeys.join(', ')}), not a training run file. ` +
        'hyperlab predicts from a run directory: `hyperlab predict runs/<name> --data FOLDER` (--mc-dropout N for monte_carlo, --combine weight for ensemble_combine); ' +
        'for a XANESNET model directory run `hyperlab import-xanesnet MODEL_DIR` first',
    );
  }
  if (raw.dataset && typeof raw.dataset === 'object' && !('xyz_path' in raw) && !('x_path' in raw)) {
    problems.push(
      `${at(['dataset'])}: this is a XANESNET input file of its 2025 layout (a dataset: block, descriptors: list); hyperlab reads the 2023 layout ` +
        '(x_path, y_path, hyperparams.model) and the 2024 layout (xyz_path, xanes_path, model: {type, params}, hyperparams): rewrite it in one of those (README, "Run files")',
    );
  }
  return problems;
}
