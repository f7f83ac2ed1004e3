/**
 * The house rules, checked by `npm run lint` (dependency-cruiser).
 *
 * The floors, bottom to top (a folder imports only folders below it):
 *   engine < nn < losses, optim, models, data < config, io < train < callbacks, tune < runs < report < cli
 * (plot draws over nn; notebook's live plot is a train Callback; report uses both).
 * Type-only imports count too: a type lives on the lowest floor that needs it.
 */
const ours = (...folders) => `^lib/(${folders.join('|')})/`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle means a type or helper lives in the wrong file: move it down to where both sides can import it.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'engine-is-the-ground-floor',
      severity: 'error',
      comment: 'lib/engine (backend, random numbers, autograd, native kernels) imports nothing of ours above it.',
      from: { path: '^lib/engine/' },
      to: { path: '^lib/', pathNot: '^lib/engine/' },
    },
    {
      name: 'layers-stay-below-training',
      severity: 'error',
      comment: 'nn, losses and optim are PyTorch-like building blocks: they never import data, training, callbacks, tuning or runs.',
      from: { path: ours('nn', 'losses', 'optim') },
      to: { path: ours('data', 'train', 'runs', 'callbacks', 'tune', 'io', 'config', 'models', 'report', 'cli') },
    },
    {
      name: 'models-are-pure-modules',
      severity: 'error',
      comment: 'lib/models holds Modules only (as torch.nn.modules): how a model trains lives in lib/runs (its task) and lib/train.',
      from: { path: '^lib/models/' },
      to: { path: ours('train', 'runs', 'callbacks', 'tune', 'cli') },
    },
    {
      name: 'cli-is-the-top-floor',
      severity: 'error',
      comment: 'Nothing imports lib/cli: the hyperlab command sits on top of the library, never under it.',
      from: { path: '^lib/', pathNot: '^lib/cli/' },
      to: { path: '^lib/cli/' },
    },
    {
      name: 'data-and-config-stay-below-training',
      severity: 'error',
      comment: 'lib/data and lib/config read files and run files; they never import the trainer, callbacks, tuning or runs.',
      from: { path: ours('data', 'config') },
      to: { path: ours('train', 'callbacks', 'tune', 'io', 'runs', 'report', 'cli') },
    },
    {
      name: 'io-is-files-only',
      severity: 'error',
      comment: 'lib/io (safetensors, checkpoints, TensorBoard files, atomic writes) knows tensors and modules, not the trainer or runs.',
      from: { path: '^lib/io/' },
      to: { path: ours('train', 'callbacks', 'tune', 'runs', 'report', 'config', 'cli') },
    },
    {
      name: 'the-loop-knows-no-callback',
      severity: 'error',
      comment: 'lib/train (Trainer, Task, Callback, metrics) is the loop; the callbacks, tuning recipes and runs plug into it from above.',
      from: { path: '^lib/train/' },
      to: { path: ours('callbacks', 'tune', 'runs', 'report', 'cli') },
    },
    {
      name: 'callbacks-and-tune-below-runs',
      severity: 'error',
      comment: 'Callbacks and tuning recipes are used by runs, never the other way round.',
      from: { path: ours('callbacks', 'tune') },
      to: { path: ours('runs', 'report', 'cli') },
    },
    {
      name: 'runs-below-report',
      severity: 'error',
      comment: 'lib/report reads a finished run directory; runs never import it.',
      from: { path: '^lib/runs/' },
      to: { path: ours('report', 'cli') },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve to a file or a package (bench reads package.json from dist/ at run time).',
      from: {},
      to: { couldNotResolve: true, pathNot: 'package\\.json$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['cjs', 'es6'],
  },
};
