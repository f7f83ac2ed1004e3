/**
 * What the XANESNET structure descriptors share: the descriptor interface, numpy's linspace, the
 * cosine cutoff, the atoms around the absorber, and the optional [q][S] prefix.
 *
 * All arithmetic is float64, in the same order as XANESNET's numpy code where that matters.
 */
import type { Structure } from '../structure';

/** A descriptor turns a structure (absorber = atom 0) into a fixed-length feature vector. */
export interface StructureDescriptor {
  /** 'wacsf' or 'rdc'. */
  readonly type: string;
  /** Number of features (XANESNET's get_len()). */
  readonly length: number;
  /** The feature vector of one structure. */
  transform(s: Structure): Float64Array;
  /** {type, params} with XANESNET's parameter names: what a run file says, and what is saved with a model. */
  toConfig(): DescriptorConfig;
}

/** A descriptor as a run file (XANESNET's `descriptor:` block) writes it. */
export interface DescriptorConfig {
  type: string;
  params?: Record<string, unknown>;
}

/**
 * numpy.linspace(start, stop, num): x_i = i * step + start with step = (stop - start) / (num - 1),
 * and the last point set to `stop` exactly. num = 1 gives [start].
 */
export function numpyLinspace(start: number, stop: number, num: number): Float64Array {
  if (!Number.isInteger(num) || num < 0) throw new Error(`linspace: the number of points must be an integer >= 0, got ${num}`);
  const out = new Float64Array(num);
  const div = num - 1;
  const step = (stop - start) / div;
  for (let i = 0; i < num; i++) out[i] = div > 0 ? i * step + start : start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** fc(r) = (cos(pi r / r_max) + 1) / 2; deliberately not clamped to 0 beyond r_max (as in XANESNET). */
export function cosineCutoff(r: number, rMax: number): number {
  return (Math.cos((Math.PI * r) / rMax) + 1.0) / 2.0;
}

/** |a - b| for atoms a and b of a positions array (n x 3, row-major), computed as numpy's norm does. */
export function distance(pos: Float64Array, a: number, b: number): number {
  const dx = pos[3 * b] - pos[3 * a];
  const dy = pos[3 * b + 1] - pos[3 * a + 1];
  const dz = pos[3 * b + 2] - pos[3 * a + 2];
  return Math.sqrt(dx * dx + dy * dy + dz * dz);
}

/**
 * The atoms with r0j < rMax (the absorber, atom 0, always among them), in file order:
 * their atomic numbers and positions.
 */
export function atomsInRange(s: Structure, rMax: number): { z: number[]; pos: Float64Array } {
  const keep: number[] = [];
  for (let j = 0; j < s.nAtoms; j++) if (distance(s.positions, 0, j) < rMax) keep.push(j);
  const pos = new Float64Array(keep.length * 3);
  keep.forEach((j, i) => pos.set(s.positions.subarray(3 * j, 3 * j + 3), 3 * i));
  return { z: keep.map((j) => s.numbers[j]), pos };
}

/** [q][S]: the charge and spin from the .xyz comment line (`q = 0 | S = 2`), when asked for. */
export function infoPrefix(s: Structure, useCharge: boolean, useSpin: boolean, who: string): number[] {
  const out: number[] = [];
  for (const [use, key, what] of [
    [useCharge, 'q', 'use_charge'],
    [useSpin, 'S', 'use_spin'],
  ] as const) {
    if (!use) continue;
    const v = s.info[key];
    if (typeof v !== 'number') {
      throw new Error(
        `${who} with ${what}: ${s.source ?? 'the structure'} has no numeric "${key}" in its comment line ` +
          `("${s.comment}"); write it as \`q = 0 | S = 2\`, or turn ${what} off`,
      );
    }
    out.push(v);
  }
  return out;
}

export function checkRadii(rMin: number, rMax: number, who: string): void {
  if (!(typeof rMin === 'number' && rMin >= 0)) throw new Error(`${who}: r_min must be a number >= 0, got ${rMin}`);
  if (!(typeof rMax === 'number' && rMax > rMin)) throw new Error(`${who}: r_max must be a number > r_min (${rMin}), got ${rMax}`);
}

export function checkFlag(v: unknown, what: string): void {
  if (typeof v !== 'boolean') throw new Error(`${what} must be true or false, got ${JSON.stringify(v)}`);
}

/**
 * Options from a XANESNET params block ({r_min: 1, n_g2: 16, ...}) or from camelCase keys: `names`
 * maps each XANESNET name to our option name. Unknown keys are an error that lists the known ones.
 */
export function optionsFromParams<T>(params: Record<string, unknown>, names: Record<string, keyof T & string>, who: string): T {
  const known = new Map<string, string>();
  for (const [snake, camel] of Object.entries(names)) {
    known.set(snake, camel);
    known.set(camel, camel);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    const name = known.get(k);
    if (!name) throw new Error(`${who}: unknown parameter "${k}"; known: ${Object.keys(names).join(', ')}`);
    out[name] = v;
  }
  return out as T;
}
