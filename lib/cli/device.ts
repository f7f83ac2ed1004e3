/** `hyperlab device`: which backend runs, why, and why the others were passed over. */
import { Command } from 'commander';
import { autoBackend, useBackend, releaseWebGPU, BackendName, DeviceReport } from '../engine/backend';

/** The report as the lines `hyperlab device` prints. */
export function formatDeviceReport(report: DeviceReport): string[] {
  const lines = [`backend: ${report.backend} (${report.reason})`];
  if (report.adapter) {
    const a = report.adapter;
    lines.push(
      `  adapter: ${[a.vendor, a.architecture].filter(Boolean).join(' ') || '(vendor not reported)'}` +
        `${a.device ? `, ${a.device}` : ''}${a.description ? ` (${a.description})` : ''}`,
      `  software adapter: ${a.software ? 'yes (CPU emulation: slow, for testing the GPU code path)' : 'no'}` +
        `${a.isFallbackAdapter ? ', isFallbackAdapter' : ''}; via ${a.api === 'opengl' ? 'OpenGL (EGL)' : "Dawn's default API (Vulkan / Metal / D3D12)"}`,
    );
  }
  if (report.tensorflow) lines.push(`  tensorflow: ${report.tensorflow}`);
  if (report.backend === 'wasm') lines.push(`  native kernels (wasm): ${report.native}`);
  if (report.passedOver.length) {
    lines.push('passed over:');
    for (const p of report.passedOver) lines.push(`  ${p.backend}: ${p.why}`);
  }
  return lines;
}

export function registerDevice(program: Command): void {
  program
    .command('device')
    .description('show the backend hyperlab would use here, why, and why the others were passed over')
    .option('--backend <name>', 'try this backend instead of choosing (cpu, wasm, webgpu, tensorflow)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nOrder when none is named: tensorflow (tfjs-node-gpu, CUDA) > webgpu on a real GPU > tensorflow (tfjs-node)' +
        " > wasm with native kernels > wasm > cpu.\nHYPERLAB_BACKEND=<name> or the run file's `hyperlab: {backend: <name>}` picks one;" +
        ' HYPERLAB_WEBGPU_SOFTWARE=1 lets webgpu use the software adapter.',
    )
    .action(async (opts: { backend?: string; json?: boolean }) => {
      const report =
        opts.backend && opts.backend !== 'auto' ? await useBackend(opts.backend as BackendName, 'asked for on the command line') : await autoBackend();
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else for (const line of formatDeviceReport(report)) console.log(line);
      if (report.backend === 'webgpu') await releaseWebGPU();
    });
}
