/**
 * JSON Schemas of the run files hyperlab reads, in the three styles of its seeds:
 *
 * - XANESNET 2023 (`x_path`, `y_path`, `hyperparams{n_hl, hl_ini_dim, ...}`),
 * - XANESNET 2024 (`xyz_path`, `xanes_path`, `model{type, params}`, renamed hyperparameters),
 * - RACCOON / PENGUIN (`model_params`, `data_params`, `train_params`),
 *
 * each with an optional `hyperlab:` block for what the seeds set on the command line
 * or not at all (run name, backend, early stopping, checkpoints, ...). Every object
 * rejects unknown keys, so a typo is caught before any work starts.
 */

type Schema = Record<string, unknown>;

const num = { type: 'number' };
const int = { type: 'integer' };
const posInt = { type: 'integer', minimum: 1 };
const bool = { type: 'boolean' };
const str = { type: 'string', minLength: 1 };
const seedList = { type: 'array', items: int };
const count = { type: 'integer', minimum: 0 };
const nullable = (s: Schema) => ({ anyOf: [s, { type: 'null' }] });
const obj = (properties: Record<string, unknown>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

export const ACTIVATIONS = ['prelu', 'relu', 'tanh', 'sigmoid', 'elu', 'leakyrelu', 'selu', 'softmax'];
export const LOSSES = ['mse', 'l1', 'bce', 'emd', 'cosine', 'wcc', 'cross_entropy'];
export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop', 'adamw'];
export const INITIALIZERS = ['uniform', 'normal', 'xavier_uniform', 'xavier_normal', 'kaiming_uniform', 'kaiming_normal', 'zeros', 'ones', 'he_normal'];
export const SCHEDULERS = ['step', 'multistep', 'exponential', 'linear', 'constant', 'cosine', 'onecycle'];
export const XANES_MODELS = ['mlp', 'cnn', 'ae_mlp', 'ae_cnn', 'aegan_mlp', 'lstm'];
export const XANES_MODES = ['train_xyz', 'train_xanes', 'train_aegan'];

/** Case-insensitive enum: the value is checked after lower-casing (see validate.ts). */
const ciEnum = (values: string[]) => ({ type: 'string', ciEnum: values });

/** The parts of aegan_mlp that XANESNET's load_guess / freeze can freeze. */
export const AEGAN_PARTS = ['encoder1', 'encoder2', 'decoder1', 'decoder2', 'shared_encoder', 'shared_decoder', 'discrim1', 'discrim2'];

/** A 2023 freeze block: freeze_<part>: bool and n_freeze_<part>: count for each part. */
const freezeBlock = (parts: string[]) =>
  obj(
    Object.fromEntries(
      parts.flatMap((p) => [
        [`freeze_${p}`, bool],
        [`n_freeze_${p}`, count],
      ]),
    ),
  );

const loss2023 = obj({
  loss_fn: ciEnum(LOSSES),
  loss_args: nullable({ type: ['number', 'string'] }),
  loss_reg_type: nullable(ciEnum(['l1', 'l2', 'none'])),
  loss_reg_param: nullable(num),
});

const descriptor = obj(
  {
    type: ciEnum(['wacsf', 'rdc']),
    params: obj({
      r_min: num,
      r_max: num,
      n_g2: int,
      n_g4: int,
      l: { type: 'array', items: num },
      z: { type: 'array', items: num },
      dr: num,
      alpha: num,
      use_charge: bool,
      use_spin: bool,
      // wACSF's radial-function layouts; XANESNET passes them straight to its WACSF (DOI 10.1063/1.5019667).
      g2_parameterisation: { enum: ['shifted', 'centred'] },
      g4_parameterisation: { enum: ['shifted', 'centred'] },
    }),
  },
  ['type'],
);

const schedulerParam = obj({
  step_size: posInt,
  gamma: num,
  milestones: { type: 'array', items: int },
  start_factor: num,
  end_factor: num,
  total_iters: posInt,
  factor: num,
  T_max: posInt,
  eta_min: num,
  max_lr: num,
  total_steps: posInt,
  pct_start: num,
});

const earlyStopping = obj({
  monitor: str,
  min_delta: num,
  patience: { type: 'integer', minimum: 0 },
  mode: { enum: ['auto', 'min', 'max'] },
  baseline: nullable(num),
  restore_best_weights: bool,
  start_from_epoch: { type: 'integer', minimum: 0 },
});

/** Settings hyperlab adds to every style (the seeds pass these on the command line or hard-code them). */
export const hyperlabBlock = obj({
  name: { type: 'string', pattern: '^[A-Za-z0-9._-]+$' },
  runs_dir: str,
  backend: { enum: ['auto', 'cpu', 'wasm', 'webgpu', 'tensorflow'] },
  mode: { enum: XANES_MODES },
  model: { enum: XANES_MODELS },
  val_split: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
  max_samples: posInt,
  // XANESNET's row order (numpy RandomState(seed) shuffle, scikit-learn split with random_state 42)
  // instead of hyperlab's generator; and its float32 reading of .xyz coordinates.
  row_order: { enum: ['hyperlab', 'xanesnet'] },
  coordinates: { enum: ['float64', 'float32'] },
  early_stopping: earlyStopping,
  checkpoint_every: posInt,
  grad_clip: obj({ max_norm: num, value: num }),
  tensorboard: bool,
  progress: bool,
  original_bugs: {
    type: 'array',
    items: ciEnum(['cosine', 'lstm_batch_sequence', 'aegan_double_sigmoid', 'ae_cnn_padding', 'xavier_normal', 'raccoon_slicing']),
  },
});

export const xanesnet2023 = obj(
  {
    x_path: str,
    y_path: str,
    descriptor,
    load_guess: bool,
    // XANESNET 2023's load_guess (sphinx example_load_guess.rst, src/freeze_fn.py): which first
    // layers of each part to freeze, one block per model type; n_freeze is learn.py's lstm rule.
    loadguess_params: obj({
      model_dir: str,
      n_freeze: count,
      freeze_mlp_params: freezeBlock(['dense']),
      freeze_cnn_params: freezeBlock(['conv', 'dense']),
      freeze_lstm_params: freezeBlock(['lstm', 'dense']),
      freeze_ae_mlp_params: freezeBlock(['encoder', 'decoder', 'dense']),
      freeze_ae_cnn_params: freezeBlock(['encoder', 'decoder', 'dense']),
      freeze_params: freezeBlock(AEGAN_PARTS),
    }),
    bootstrap: bool,
    bootstrap_params: obj({ n_boot: posInt, n_size: num, seed_boot: seedList }),
    ensemble: bool,
    ensemble_params: obj({ n_ens: posInt, weight_init_seed: seedList }),
    data_params: bool,
    augment: obj({
      augment_type: ciEnum(['random_noise', 'random_combination']),
      augment_mult: posInt,
      augment_params: obj({ normal_mean: num, normal_sd: num }),
    }),
    kfold: bool,
    kfold_params: obj({ n_splits: posInt, n_repeats: posInt, loss: loss2023 }),
    lr_scheduler: obj({ scheduler: bool, scheduler_type: ciEnum(SCHEDULERS), scheduler_param: schedulerParam }),
    hyperparams: obj(
      {
        model: ciEnum(XANES_MODELS.concat(['aegan'])),
        batch_size: posInt,
        n_hl: posInt,
        hl_ini_dim: posInt,
        hl_shrink: num,
        n_cl: posInt,
        out_channel: posInt,
        channel_mul: posInt,
        hidden_layer: posInt,
        hidden_size: posInt,
        num_layers: posInt,
        kernel_size: posInt,
        stride: posInt,
        n_hl_gen: posInt,
        n_hl_shared: posInt,
        n_hl_dis: posInt,
        activation: ciEnum(ACTIVATIONS),
        loss: loss2023,
        loss_gen: loss2023,
        loss_dis: loss2023,
        lr: num,
        lr_gen: num,
        lr_dis: num,
        optim_fn: ciEnum(OPTIMIZERS),
        optim_fn_gen: ciEnum(OPTIMIZERS),
        optim_fn_dis: ciEnum(OPTIMIZERS),
        dropout: { type: 'number', minimum: 0, maximum: 1 },
        weight_init_seed: int,
        kernel_init: ciEnum(INITIALIZERS),
        bias_init: ciEnum(INITIALIZERS),
      },
      ['batch_size'],
    ),
    seed: int,
    epochs: posInt,
    variance_threshold: { type: 'number', minimum: 0 },
    model_eval: bool,
    fourier_transform: bool,
    // Optuna search (tune, n_trials, tune_*): tune: True is refused (use `hyperlab sweep`); with
    // tune: False XANESNET does no search either, so the block is accepted and ignored.
    optuna_params: { type: 'object' },
    hyperlab: hyperlabBlock,
  },
  ['x_path', 'y_path', 'hyperparams', 'epochs'],
);

export const xanesnet2024 = obj(
  {
    mode: { enum: XANES_MODES },
    xyz_path: str,
    xanes_path: str,
    descriptor,
    model: obj(
      {
        type: ciEnum(XANES_MODELS),
        params: obj({
          hidden_size: posInt,
          dropout: { type: 'number', minimum: 0, maximum: 1 },
          num_hidden_layers: posInt,
          shrink_rate: num,
          activation: ciEnum(ACTIVATIONS),
          num_conv_layers: posInt,
          out_channel: posInt,
          channel_mul: posInt,
          kernel_size: posInt,
          stride: posInt,
          hidden_out_size: posInt,
          num_layers: posInt,
          num_hidden_layers_gen: posInt,
          num_hidden_layers_shared: posInt,
          num_hidden_layers_dis: posInt,
          // aegan_mlp as XANESNET 2024-03 (6fd195f9) writes it: its own names, and its optimisers
          // and losses inside model.params (inputs/in_aegan_mlp.yaml).
          n_hl_gen: posInt,
          n_hl_shared: posInt,
          n_hl_dis: posInt,
          lr_gen: num,
          lr_dis: num,
          optim_fn_gen: ciEnum(OPTIMIZERS),
          optim_fn_dis: ciEnum(OPTIMIZERS),
          loss_gen: loss2023,
          loss_dis: loss2023,
        }),
      },
      ['type'],
    ),
    hyperparams: obj(
      {
        batch_size: posInt,
        lr: num,
        lr_gen: num,
        lr_dis: num,
        epochs: posInt,
        optim_fn: ciEnum(OPTIMIZERS),
        kernel_init: ciEnum(INITIALIZERS),
        bias_init: ciEnum(INITIALIZERS),
        model_eval: bool,
        seed: int,
        weight_seed: int,
        loss: loss2023,
        loss_gen: loss2023,
        loss_dis: loss2023,
      },
      ['batch_size', 'epochs'],
    ),
    kfold: bool,
    kfold_params: obj({ n_splits: posInt, n_repeats: posInt, loss: loss2023, seed: int }),
    lr_scheduler: bool,
    scheduler_params: obj({ type: ciEnum(SCHEDULERS), ...(schedulerParam.properties as object) }),
    data_augment: bool,
    // normal_mean / normal_sd at the top of augment_params, or nested in augment_params.augment_params
    // as XANESNET 2024's inputs/in_aegan_mlp.yaml writes them.
    augment_params: obj({
      type: ciEnum(['random_noise', 'random_combination']),
      augment_mult: posInt,
      normal_mean: num,
      normal_sd: num,
      augment_params: obj({ normal_mean: num, normal_sd: num }),
    }),
    bootstrap: bool,
    bootstrap_params: obj({ n_boot: posInt, n_size: num, weight_seed: seedList }),
    ensemble: bool,
    ensemble_params: obj({ n_ens: posInt, weight_seed: seedList }),
    freeze: bool,
    // XANESNET 2024's freeze (xanesnet/freeze.py): the model directory and n_<part> first layers to freeze.
    // `n__encoder2` is the spelling in XANESNET 2024's own inputs/in_aegan_mlp.yaml (with freeze: False);
    // with freeze: True it is refused (lib/config/load_guess.ts), as XANESNET fails on it too.
    freeze_params: obj({
      model_path: str,
      n__encoder2: count,
      ...Object.fromEntries(['dense', 'conv', 'lstm', 'encoder', 'decoder', ...AEGAN_PARTS].map((p) => [`n_${p}`, count])),
    }),
    fourier_transform: bool,
    fourier_params: obj({ concat: bool }),
    standardscaler: bool,
    // Optuna search (xanesnet/optuna.py): accepted when off; `optuna: True` is refused in checks.ts.
    optuna: bool,
    optuna_params: { type: 'object' },
    hyperlab: hyperlabBlock,
  },
  ['xyz_path', 'xanes_path', 'model', 'hyperparams'],
);

export const raccoon = obj(
  {
    model_params: obj(
      {
        architecture: str,
        layer_param: posInt,
        dropout: { type: 'number', minimum: 0, maximum: 1 },
        name: { type: 'string', pattern: '^[A-Za-z0-9._-]+$' },
        activation: ciEnum(['relu', 'leakyrelu']),
        input_size: posInt,
      },
      ['layer_param'],
    ),
    data_params: obj(
      {
        datafile: str,
        train_seeds: posInt,
        test_seeds: posInt,
        newton_augmentation: num,
        target_noise: { type: 'number', minimum: 0, maximum: 0.5 },
        batch_size: posInt,
        slicing: { enum: ['axes', 'seed'] },
      },
      ['datafile', 'train_seeds', 'test_seeds'],
    ),
    train_params: obj({ epochs: posInt, lr: num, log_dir: str, test_every: posInt, transforms: bool, micro_batch: { type: 'integer', minimum: 0 } }, [
      'epochs',
      'lr',
    ]),
    hyperlab: hyperlabBlock,
  },
  ['model_params', 'data_params', 'train_params'],
);
