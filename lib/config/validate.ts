/**
 * Reading a run file: YAML -> schema check -> a normalized `RunSpec`.
 *
 * A bad file fails before any work with every problem listed, each with the
 * field path, the line in the file, the bad value and what is allowed; an
 * unknown key comes with the closest valid name.
 */
import * as fs from 'node:fs';
import Ajv, { ErrorObject } from 'ajv';
import { closest } from 'fastest-levenshtein';
import { refusedFeatures } from './refused';
import { isMap, isSeq, LineCounter, parseDocument, Node as YamlNode } from 'yaml';
import { raccoon, xanesnet2023, xanesnet2024 } from './schema';

export type RunStyle = 'xanesnet-2023' | 'xanesnet-2024' | 'raccoon';

export class RunFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`}`);
    this.name = 'RunFileError';
  }
}

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
ajv.addKeyword({
  keyword: 'ciEnum',
  type: 'string',
  schemaType: 'array',
  validate: (allowed: string[], value: string) => allowed.includes(value.toLowerCase()),
  error: { message: 'is not an allowed value' },
});
const validators = {
  'xanesnet-2023': ajv.compile(xanesnet2023),
  'xanesnet-2024': ajv.compile(xanesnet2024),
  raccoon: ajv.compile(raccoon),
};
const schemas = { 'xanesnet-2023': xanesnet2023, 'xanesnet-2024': xanesnet2024, raccoon } as Record<RunStyle, any>;

/** Which seed style a parsed run file is written in. */
export function detectStyle(raw: Record<string, unknown>): RunStyle | null {
  if ('model_params' in raw || ('data_params' in raw && typeof raw.data_params === 'object') || 'train_params' in raw) return 'raccoon';
  if ('xyz_path' in raw || 'xanes_path' in raw) return 'xanesnet-2024';
  if ('x_path' in raw || 'y_path' in raw) return 'xanesnet-2023';
  return null;
}

/** The schema node at a JSON-pointer-like path (for allowed keys / values in messages). */
function schemaAt(root: any, path: string[]): any {
  let s = root;
  for (const key of path) {
    if (!s) return null;
    if (s.anyOf) s = s.anyOf[0];
    if (s.properties) s = s.properties[key];
    else if (s.items) s = s.items;
    else return null;
  }
  return s?.anyOf ? s.anyOf[0] : s;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

function lineOf(doc: ReturnType<typeof parseDocument>, lc: LineCounter, path: string[]): string {
  let node: unknown = doc.contents;
  let last = node;
  for (const key of path) {
    if (isMap(node)) node = node.get(key, true);
    else if (isSeq(node)) node = node.get(Number(key), true);
    else break;
    if (node) last = node;
  }
  const range = (last as YamlNode | null)?.range;
  return range ? `line ${lc.linePos(range[0]).line}` : '';
}

function explain(e: ErrorObject, style: RunStyle, value: (p: string[]) => unknown, where: (p: string[]) => string): string {
  const path = e.instancePath.split('/').filter(Boolean);
  const field = path.join('.') || '(top level)';
  const at = (p: string[]) => {
    const line = where(p);
    return line ? ` (${line})` : '';
  };
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys(schemaAt(schemas[style], path)?.properties ?? {});
      const guess = allowed.length ? closest(key, allowed) : null;
      return `unknown key '${key}' in ${field}${at([...path, key])}` + (guess ? `; did you mean '${guess}'?` : '') + ` Allowed keys: ${allowed.join(', ')}`;
    }
    case 'required':
      return `${field}${at(path)}: missing required key '${(e.params as { missingProperty: string }).missingProperty}'`;
    case 'ciEnum':
    case 'enum': {
      const allowed = (e.keyword === 'ciEnum' ? e.parentSchema?.ciEnum : (e.params as { allowedValues: unknown[] }).allowedValues) as unknown[];
      return `${field}${at(path)}: ${describe(value(path))} is not allowed; use one of: ${allowed.join(', ')}`;
    }
    case 'type':
      return `${field}${at(path)}: expected ${(e.params as { type: string }).type}, got ${describe(value(path))}`;
    default:
      return `${field}${at(path)}: ${describe(value(path))} ${e.message}`;
  }
}

export interface ParsedRunFile {
  file: string;
  style: RunStyle;
  raw: Record<string, any>;
  /** 'line N' of a field path in the file ('' when unknown), for later checks' messages. */
  where?: (path: string[]) => string;
}

/** Parse and validate YAML text; `file` is used in messages. */
export function parseRunFile(text: string, file = '<run file>'): ParsedRunFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  if (doc.errors.length) {
    throw new RunFileError(
      file,
      doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0]} (line ${e.linePos?.[0].line ?? '?'})`),
    );
  }
  const raw = doc.toJS() as Record<string, any>;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new RunFileError(file, ['the file must be a YAML mapping of settings (key: value lines)']);
  }
  const refused = refusedFeatures(raw, (p) => {
    const line = lineOf(doc, lc, p);
    return `${p.join('.')}${line ? ` (${line})` : ''}`;
  });
  if (refused.length) throw new RunFileError(file, refused);
  const style = detectStyle(raw);
  if (!style) {
    throw new RunFileError(file, [
      'cannot tell the run-file style: expected x_path + y_path (XANESNET 2023), xyz_path + xanes_path + model (XANESNET 2024), ' +
        'or model_params + data_params + train_params (RACCOON/PENGUIN). See README, "Run files".',
    ]);
  }
  const validate = validators[style];
  if (!validate(raw)) {
    const value = (p: string[]) => p.reduce<any>((o, k) => (o == null ? o : o[k]), raw);
    const where = (p: string[]) => lineOf(doc, lc, p);
    // anyOf produces one error per branch: keep the first, informative one per path.
    const seen = new Set<string>();
    const problems: string[] = [];
    for (const e of validate.errors ?? []) {
      if (e.keyword === 'anyOf') continue;
      const key = `${e.instancePath}|${e.keyword === 'type' ? 'type' : e.keyword + JSON.stringify(e.params)}`;
      if (seen.has(e.instancePath + '|type') && e.keyword === 'type') continue;
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push(explain(e, style, value, where));
    }
    throw new RunFileError(file, problems);
  }
  return { file, style, raw, where: (p: string[]) => lineOf(doc, lc, p) };
}

/** Read, parse and validate a run file from disk. */
export function readRunFile(file: string): ParsedRunFile {
  if (!fs.existsSync(file)) {
    throw new RunFileError(file, ['file not found; give the path of a YAML run file (examples: runfiles/ in the hyperlab package)']);
  }
  return parseRunFile(fs.readFileSync(file, 'utf8'), file);
}
