/**
 * A run file and a few changed fields: the base YAML with a patch merged in, so a
 * notebook shows the whole run file once and then only what each run changes.
 *
 *     const base = 'hyperparams: {lr: 0.003, epochs: 4}\nmodel: {type: mlp}';
 *     mergeRunText(base, 'model: {type: cnn}\nhyperparams: {epochs: 3}');
 *     // hyperparams: {lr: 0.003, epochs: 3}, model: {type: cnn} (as block YAML)
 *
 * The merge is RFC 7386's JSON merge patch on the parsed documents: a mapping merges
 * key by key, `null` deletes a key, anything else (a number, a string, a list)
 * replaces the base's value. The result is plain YAML text for `runFromText`.
 */
import { parse, stringify } from 'yaml';

type Yaml = unknown;
const isMap = (v: Yaml): v is Record<string, Yaml> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386: merge `patch` into `target` (neither is changed; a new value is returned). */
export function mergePatch(target: Yaml, patch: Yaml): Yaml {
  if (!isMap(patch)) return patch;
  const out: Record<string, Yaml> = isMap(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function parseMapping(text: string | Record<string, unknown>, what: string): Record<string, Yaml> {
  if (isMap(text)) return text;
  let doc: Yaml;
  try {
    doc = parse(text);
  } catch (e) {
    throw new Error(`mergeRunText: the ${what} is not valid YAML (${(e as Error).message.split('\n')[0]}); check its indentation and brackets`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isMap(doc)) throw new Error(`mergeRunText: the ${what} must be a YAML mapping (key: value lines), got ${Array.isArray(doc) ? 'a list' : typeof doc}`);
  return doc;
}

/** The run text `base` with `patch` (YAML text or an object) merged in; see the top of this file. */
export function mergeRunText(base: string | Record<string, unknown>, patch: string | Record<string, unknown>): string {
  const merged = mergePatch(parseMapping(base, 'base run text'), parseMapping(patch, 'patch'));
  return stringify(merged, { lineWidth: 0 });
}
