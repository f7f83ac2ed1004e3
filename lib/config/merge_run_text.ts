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
 * replaces the base's value. The result is YAML text for `runFromText`, with the
 * base's comments and layout kept where the patch leaves them alone.
 */
import { Document, isMap as isYamlMap, parseDocument } from 'yaml';

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

function parseBase(text: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new Error(`mergeRunText: the base run text is not valid YAML (${doc.errors[0].message.split('\n')[0]}); check its indentation and brackets`);
  }
  if (doc.contents !== null && !isYamlMap(doc.contents)) throw new Error('mergeRunText: the base run text must be a YAML mapping (key: value lines)');
  return doc;
}

function parsePatch(patch: string | Record<string, unknown>): Record<string, Yaml> {
  if (isMap(patch)) return patch;
  const doc = parseDocument(patch);
  if (doc.errors.length > 0) {
    throw new Error(`mergeRunText: the patch is not valid YAML (${doc.errors[0].message.split('\n')[0]}); check its indentation and brackets`);
  }
  const value = doc.toJS() as Yaml;
  if (value === null || value === undefined) return {};
  if (!isMap(value))
    throw new Error(`mergeRunText: the patch must be a YAML mapping (key: value lines), got ${Array.isArray(value) ? 'a list' : typeof value}`);
  return value;
}

/** Apply an RFC 7386 patch to the mapping at `at` inside a YAML document, node by node. */
function patchDocument(doc: Document, at: string[], patch: Record<string, Yaml>): void {
  for (const [key, value] of Object.entries(patch)) {
    const where = [...at, key];
    if (value === null) doc.deleteIn(where);
    else if (isMap(value) && isYamlMap(doc.getIn(where, true))) patchDocument(doc, where, value);
    else doc.setIn(where, doc.createNode(mergePatch(undefined, value))); // a new mapping loses its nulls
  }
}

/** The run text `base` with `patch` (YAML text or an object) merged in; see the top of this file. */
export function mergeRunText(base: string | Record<string, unknown>, patch: string | Record<string, unknown>): string {
  const doc = typeof base === 'string' ? parseBase(base) : new Document(base);
  if (doc.contents === null) doc.contents = doc.createNode({}) as never;
  patchDocument(doc, [], parsePatch(patch));
  return doc.toString({ lineWidth: 0 });
}
