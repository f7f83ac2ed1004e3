/** `hyperlab import-xanesnet MODEL_DIR`: an original XANESNET model directory -> a hyperlab run directory (lib/interop). */
import { Command } from 'commander';
import { useBackend } from '../engine/backend';
import { importXanesnet } from '../interop/xanesnet_import';

export function registerImportXanesnet(program: Command): void {
  program
    .command('import-xanesnet')
    .description(
      'turn an original XANESNET model directory (model.pt + metadata.yaml, and its input file) into a hyperlab run directory with safetensors weights; then `hyperlab predict` it',
    )
    .argument('<model_dir>', 'the XANESNET model directory (model/model_001, or models/model_mlp_001 in the 2024 layout)')
    .option('--input <file>', 'the XANESNET input file the model was trained with (default: the one .yaml in model_dir besides metadata.yaml)')
    .option(
      '--weights <file>',
      'the state dict as .safetensors instead of reading model.pt (scripts/read_torch_model.py converts one where PyTorch is installed)',
    )
    .option('--runs-dir <dir>', 'where to write the run directory (default ./runs)')
    .option('--name <name>', 'the run name (default: the model directory name)')
    .option('--python <exe>', 'a python with PyTorch (default: $HYPERLAB_PYTHON, /usr/bin/python3, python3)')
    .action(async (modelDir: string, o: { input?: string; weights?: string; runsDir?: string; name?: string; python?: string }) => {
      await useBackend('cpu', 'importing weights needs no speed');
      const r = importXanesnet(modelDir, o);
      for (const m of r.messages) console.log(`note: ${m}`);
      console.log(`run directory: ${r.runDir}`);
      console.log(`predict with: hyperlab predict ${r.runDir} --data FOLDER`);
    });
}
