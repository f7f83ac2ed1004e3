/**
 * State-dict keys that hyperlab used before its mlp and lstm keys matched XANESNET's
 * (2026-12): the mlp's output Linear was `dense_layers.<last>.*` (XANESNET:
 * `dense_layers.<last>.0.*`) and the lstm's head was `dense_layers.*` (XANESNET: `fc.*`).
 * Run directories and .safetensors files written then still load: the old keys are
 * renamed on the way in, with one note on stderr per model kind and process.
 */
import type { StateDict } from '../../nn/module';

const noted = new Set<string>();

/**
 * `state` with each old key of `renames` (old -> new) under its new name, where the new
 * name is absent. The tensors are the same objects (nothing is copied or freed).
 */
export function renameLegacyKeys(state: StateDict, renames: Record<string, string> | ((key: string) => string | null), model: string): StateDict {
  const rename = typeof renames === 'function' ? renames : (k: string) => renames[k] ?? null;
  const out: StateDict = {};
  const moved: string[] = [];
  for (const [k, v] of Object.entries(state)) {
    const to = rename(k);
    if (to !== null && !(to in state)) {
      out[to] = v;
      moved.push(`${k} -> ${to}`);
    } else {
      out[k] = v;
    }
  }
  if (moved.length && !noted.has(model)) {
    noted.add(model);
    console.warn(
      `${model}: these weights use hyperlab's keys from before 2026-12 (${moved.slice(0, 2).join(', ')}${moved.length > 2 ? ', ...' : ''}); ` +
        "they are read under XANESNET's names. Save them again (or export --what weights) to write the new keys.",
    );
  }
  return out;
}
