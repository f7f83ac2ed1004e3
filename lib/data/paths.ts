/**
 * Where the embedded datasets live: `datasets/` at the package root.
 *
 * The compiled code runs from `dist/lib/data/`, a notebook or ts-node from `lib/data/`, so we walk
 * up from this file to the first folder holding hyperlab's package.json. The environment variable
 * HYPERLAB_DATASETS overrides the search (for a copy of the data kept elsewhere).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

let cached: string | undefined;

/** The package root: the nearest ancestor folder of this file with hyperlab's package.json. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'hyperlab') return dir;
      } catch {
        // an unreadable package.json is not ours: keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`hyperlab's package.json was not found above ${__dirname}; set HYPERLAB_DATASETS to the datasets folder`);
    }
    dir = parent;
  }
}

/** The folder of embedded datasets (HYPERLAB_DATASETS, or <package root>/datasets). */
export function datasetsDir(): string {
  const env = process.env.HYPERLAB_DATASETS;
  if (env) return path.resolve(env);
  if (cached === undefined) cached = path.join(packageRoot(), 'datasets');
  return cached;
}

/** A path inside the datasets folder, checked to exist, with an error that says how to fix it. */
export function datasetPath(...parts: string[]): string {
  const p = path.join(datasetsDir(), ...parts);
  if (!fs.existsSync(p)) {
    throw new Error(
      `dataset file ${p} is missing: the embedded datasets ship in hyperlab's datasets/ folder ` +
        `(see datasets/README.md); restore it, or point HYPERLAB_DATASETS at a copy`,
    );
  }
  return p;
}
