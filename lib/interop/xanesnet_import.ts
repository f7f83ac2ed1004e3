/**
 * `hyperlab import-xanesnet MODEL_DIR`: an original XANESNET model directory (model.pt, the whole
 * module pickled by torch.save, and metadata.yaml) plus the input file it was trained with ->
 * a hyperlab run directory that `hyperlab predict` and `export` read:
 *
 *     runs/<name>/run.yaml            the input file, paths made absolute, with a hyperlab block:
 *                                     mode (from metadata.yaml), coordinates float32 and
 *                                     row_order xanesnet (as the original reads and splits), and
 *                                     the original's forward where it differs (lstm, ae_cnn)
 *     runs/<name>/config.json         the resolved settings
 *     runs/<name>/checkpoints/{last,best}   the weights as safetensors (a strict load checked them)
 *     runs/<name>/imported.json       where they came from
 *
 * model.pt is a pickle: reading it needs Python with PyTorch (Debian's python3-torch), which
 * scripts/read_torch_model.py drives. Without it, convert elsewhere with that script and give
 * the result with `--weights FILE.safetensors`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { runSpecFromText, RunSpec, XanesDataSpec } from '../config';
import { makeDescriptor } from '../data/descriptors';
import { readSpectrum } from '../data/xanes';
import { buildModel } from '../models/registry';
import { loadSafetensors } from '../io/safetensors';
import { saveCheckpoint } from '../io/checkpoint';

export interface ImportOptions {
  /** The input (run) file the model was trained with; default: the one .yaml in MODEL_DIR besides metadata.yaml. */
  input?: string;
  /** The state dict as safetensors (skips Python): scripts/read_torch_model.py's output. */
  weights?: string;
  /** Where runs live (default ./runs). */
  runsDir?: string;
  /** The run's name (default: MODEL_DIR's folder name). */
  name?: string;
  /** Python with PyTorch (default: $HYPERLAB_PYTHON, /usr/bin/python3, python3). */
  python?: string;
}

export interface ImportResult {
  runDir: string;
  name: string;
  messages: string[];
}

/** The reader script, shipped beside lib/ (dist/lib/interop -> scripts/). */
export const READER_SCRIPT = path.resolve(__dirname, '..', '..', '..', 'scripts', 'read_torch_model.py');

/** A Python that imports torch, or null with the reason (for tests and `hyperlab device`-style checks). */
export function findTorchPython(preferred?: string): { python: string | null; reason: string } {
  const tried: string[] = [];
  for (const py of pythonCandidates(preferred)) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
    if (r.status === 0) return { python: py, reason: '' };
    tried.push(`${py}: ${r.error ? 'not found' : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { python: null, reason: tried.join('; ') };
}

/** The Pythons to try, in order. */
function pythonCandidates(preferred?: string): string[] {
  return preferred ? [preferred] : [process.env.HYPERLAB_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p);
}

/** model.pt -> safetensors through the first Python that has torch; returns the script's summary. */
function readPickledModel(modelPt: string, out: string, python?: string): { class: string | null; stubbed: string[]; torch: string } {
  const tried: string[] = [];
  for (const py of pythonCandidates(python)) {
    const r = spawnSync(py, [READER_SCRIPT, modelPt, out], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
    if (r.error || /No module named '?torch'?/.test(r.stderr ?? '')) {
      tried.push(`${py}: ${r.error ? 'not found' : 'no torch module'}`);
      continue;
    }
    if (r.status !== 0) {
      throw new Error(`import-xanesnet: ${py} could not read ${modelPt}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
    }
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  }
  throw new Error(
    `import-xanesnet: ${modelPt} is a PyTorch pickle and reading it needs Python with PyTorch, which was not found (${tried.join('; ')}). ` +
      "Install Debian's python3-torch (sudo apt-get install python3-torch) or set HYPERLAB_PYTHON to a python that has torch; " +
      `or convert it on a machine with torch (python3 ${path.relative(process.cwd(), READER_SCRIPT)} model.pt model.safetensors) and pass --weights model.safetensors`,
  );
}

function readYaml(file: string, what: string): any {
  try {
    return parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`import-xanesnet: ${file} (${what}) is not readable YAML: ${(err as Error).message}`, { cause: err });
  }
}

/** The input file: given, or the one .yaml in the model directory that is not metadata.yaml. */
function inputFile(modelDir: string, given?: string): string {
  if (given) {
    if (!fs.existsSync(given)) throw new Error(`import-xanesnet: the input file ${given} does not exist`);
    return path.resolve(given);
  }
  const found = fs.readdirSync(modelDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'metadata.yaml');
  if (found.length !== 1) {
    throw new Error(
      `import-xanesnet: ${found.length ? `${modelDir} holds several input files (${found.join(', ')})` : `${modelDir} holds no input file besides metadata.yaml`}; ` +
        'give the XANESNET input file the model was trained with: --input inputs/in_mlp.yaml (it holds the model settings metadata.yaml lacks)',
    );
  }
  return path.join(modelDir, found[0]);
}

const PATH_KEYS = ['x_path', 'y_path', 'xyz_path', 'xanes_path'];

/** The input file's document, completed from metadata.yaml and set up to read and predict as the original. */
function runDocument(doc: any, meta: any, input: string, name: string, runsDir: string | undefined, messages: string[]): any {
  const out = JSON.parse(JSON.stringify(doc ?? {}));
  for (const k of PATH_KEYS) {
    if (typeof out[k] === 'string' && !out[k].startsWith('hyperlab:')) out[k] = path.resolve(path.dirname(input), out[k]);
  }
  const style2024 = out.model !== undefined || out.xyz_path !== undefined;
  const metaType = meta?.model_mode ?? meta?.model_type;
  if (!style2024) {
    out.hyperparams = out.hyperparams ?? {};
    if (out.hyperparams.model === undefined && metaType) out.hyperparams.model = metaType;
  }
  const type = String(style2024 ? out.model?.type : out.hyperparams?.model).toLowerCase();
  if (metaType && String(metaType).toLowerCase() !== type) {
    throw new Error(
      `import-xanesnet: metadata.yaml says the model is a ${metaType}, the input file ${input} describes a ${type}: give the input file this model was trained with`,
    );
  }
  for (const k of ['kfold', 'bootstrap', 'ensemble']) {
    if (out[k] === true) {
      out[k] = false;
      messages.push(`${k}: True in the input file: this directory holds one model, imported as a single run`);
    }
  }
  if (out.standardscaler === true) {
    throw new Error(
      `import-xanesnet: ${input} sets standardscaler: True. XANESNET fits a new scaler on whatever it predicts from, and the model directory keeps no ` +
        'training scaler, so hyperlab cannot reproduce those predictions; import a model trained without standardscaler',
    );
  }
  const hl = { ...(out.hyperlab ?? {}) };
  hl.name = name;
  if (runsDir) hl.runs_dir = path.resolve(runsDir);
  if (meta?.mode && hl.mode === undefined) hl.mode = meta.mode;
  hl.coordinates = 'float32';
  hl.row_order = 'xanesnet';
  const bugs = new Set<string>((hl.original_bugs ?? []).map((b: string) => String(b).toLowerCase()));
  if (type === 'lstm' && !bugs.has('lstm_batch_sequence')) {
    bugs.add('lstm_batch_sequence');
    messages.push(
      'lstm: the original reads each batch as one sequence; the imported run does the same (original_bugs: [lstm_batch_sequence]), so predict with --batch-size covering all inputs to match its predictions',
    );
  }
  if (type === 'ae_cnn' && !bugs.has('ae_cnn_padding')) {
    bugs.add('ae_cnn_padding');
    messages.push("ae_cnn: the imported run keeps the original's decoder padding (original_bugs: [ae_cnn_padding])");
  }
  if (bugs.size) hl.original_bugs = [...bugs];
  out.hyperlab = hl;
  return out;
}

/** (nIn, nOut) as predict computes them: descriptor length and energy-grid length. */
function dimsOf(spec: RunSpec): { nIn: number; nOut: number } {
  const d = spec.data as XanesDataSpec;
  const nDesc = makeDescriptor(d.descriptor).length;
  const dir = d.xanesPath;
  const first =
    fs.existsSync(dir) && fs.statSync(dir).isDirectory()
      ? fs
          .readdirSync(dir)
          .filter((f) => f.endsWith('.txt'))
          .sort()[0]
      : undefined;
  if (!first)
    throw new Error(
      `import-xanesnet: the spectra folder of the input file (${dir}) is missing or holds no .txt spectrum; the run needs it for its energy grid: fix the path in the input file`,
    );
  const nE = readSpectrum(path.join(dir, first)).energies.length;
  const spectra = d.fourier?.enabled ? (d.fourier.concat ? 3 : 2) * nE : nE;
  return spec.mode === 'train_xanes' ? { nIn: spectra, nOut: nDesc } : { nIn: nDesc, nOut: spectra };
}

export function importXanesnet(modelDir: string, opts: ImportOptions = {}): ImportResult {
  const dir = path.resolve(modelDir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(
      `import-xanesnet: ${dir} is not a directory: give an original XANESNET model directory (model/model_001, or models/model_mlp_001 in the 2024 layout)`,
    );
  }
  const modelPt = path.join(dir, 'model.pt');
  if (!opts.weights && !fs.existsSync(modelPt))
    throw new Error(`import-xanesnet: ${dir} holds no model.pt: give a XANESNET model directory (or --weights FILE.safetensors)`);
  const messages: string[] = [];
  const metaFile = path.join(dir, 'metadata.yaml');
  const meta = fs.existsSync(metaFile) ? readYaml(metaFile, 'XANESNET metadata') : null;
  if (!meta) messages.push(`${metaFile} is missing: the mode is taken from the input file (train_xyz unless it has hyperlab.mode)`);
  const input = inputFile(dir, opts.input);
  const name = opts.name ?? path.basename(dir).replace(/[^A-Za-z0-9._-]/g, '_');
  const doc = runDocument(readYaml(input, 'the input file'), meta, input, name, opts.runsDir, messages);
  const text = stringifyYaml(doc);
  const spec = runSpecFromText(text, input);
  if (spec.data.kind !== 'xanes') throw new Error(`import-xanesnet: ${input} is not a XANESNET input file`);
  const runDir = path.join(spec.runsDir, spec.name);
  if (fs.existsSync(runDir))
    throw new Error(`import-xanesnet: ${runDir} already exists; nothing was written. Give another --name, or remove that run directory first`);

  // The weights: the given safetensors, or model.pt read through Python.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-import-'));
  let summary: { class: string | null; stubbed: string[]; torch: string } | null = null;
  let weightsFile = opts.weights ? path.resolve(opts.weights) : path.join(tmp, 'model.safetensors');
  try {
    if (!opts.weights) summary = readPickledModel(modelPt, weightsFile, opts.python);
    const model = buildModel(spec.model.type, spec.model.params, dimsOf(spec), spec.originalBugs);
    const { tensors } = loadSafetensors(weightsFile);
    try {
      model.loadStateDict(tensors, true);
    } catch (err) {
      model.dispose();
      throw new Error(
        `import-xanesnet: the weights of ${opts.weights ? weightsFile : modelPt} do not fit the ${spec.model.type} that ${input} describes (${(err as Error).message}); ` +
          'give the input file this model was trained with',
        { cause: err },
      );
    } finally {
      Object.values(tensors).forEach((t) => t.dispose());
    }
    try {
      fs.mkdirSync(runDir, { recursive: true });
      fs.writeFileSync(path.join(runDir, 'run.yaml'), text);
      fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ ...spec, raw: undefined }, null, 2));
      const epoch = Number.isInteger(meta?.epoch) ? meta.epoch : Number.isInteger(meta?.hyperparams?.epochs) ? meta.hyperparams.epochs : 0;
      for (const which of ['last', 'best']) saveCheckpoint(path.join(runDir, 'checkpoints', which), { model, epoch, step: 0, extra: { importedFrom: dir } });
      fs.writeFileSync(
        path.join(runDir, 'imported.json'),
        JSON.stringify(
          {
            from: dir,
            input,
            weights: opts.weights ? weightsFile : modelPt,
            class: summary?.class ?? null,
            torch: summary?.torch ?? null,
            importedAt: new Date().toISOString(),
          },
          null,
          1,
        ),
      );
    } catch (err) {
      fs.rmSync(runDir, { recursive: true, force: true });
      throw err;
    } finally {
      model.dispose();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    weightsFile = '';
  }
  return { runDir, name: spec.name, messages };
}
