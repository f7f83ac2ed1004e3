// ESLint 9 flat config (`npm run lint` runs it after dependency-cruiser): JavaScript's and
// typescript-eslint's recommended rules everywhere, plus, on the library only, the three
// type-aware rules that catch real bugs in an async trainer (a promise nobody awaits,
// awaiting something that is not a promise, a promise where a value is expected).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'datasets/', 'lib/engine/native/build/', 'lab/build/', 'lessons/', 'notebooks/', 'runs/', 'sweeps/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `_x` marks an argument a hook or an override must accept and does not use (Callback.onEpochEnd(_epoch, _logs)).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Run-file values (`Record<string, any>` read from YAML) are the remaining `any`s: shown, to be narrowed to `unknown` over time.
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    files: ['lib/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
    },
  },
  {
    // Loaded at run time on purpose: optional packages (tfjs backends, webgpu, polars, playwright), the native
    // addon, the package's own package.json from dist/, and the trainer a sweep worker loads with its first trial.
    files: ['lib/engine/**', 'lib/data/table.ts', 'lib/runs/sweep_worker.ts', 'bench/**', 'test/**'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests read PyTorch fixtures (JSON of any shape).
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The JupyterLab app's browser entry (an ES module that webpack bundles).
    files: ['lab/index.js'],
    languageOptions: { sourceType: 'module', globals: { window: 'readonly', console: 'readonly' } },
  },
);
