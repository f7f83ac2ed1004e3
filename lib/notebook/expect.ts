/**
 * Checks for lessons: a lesson asserts every number it teaches, and a wrong one
 * stops the notebook with a message that says which number, what it is and what
 * it should be.
 *
 *     expectClose('x.grad', x.grad, [2, 2, 2]);           // a tensor or numbers
 *     expectClose('numerical slope', slope, 14, 1e-3);    // with a tolerance
 *     expectTrue('the loss falls', after < before, `before ${before}, after ${after}`);
 *
 * Close means |actual - expected| <= tol * (1 + |expected|) for every element:
 * an absolute tolerance near zero and a relative one for large values (numpy's
 * allclose with atol = rtol = tol). The default tol, 1e-5, suits float32.
 * For small numbers whose digits matter (4.5417e-5 against 4.5396e-5), ask for a
 * purely relative check: `expectClose(name, a, e, 1e-4, { relative: true })`,
 * i.e. |actual - expected| <= tol * |expected|.
 */
import { tf } from '../engine/tf';

type Numbers = number | tf.Tensor | ArrayLike<number> | number[][];

/** The values as a flat list (a tensor is read, not disposed). */
function flat(v: Numbers): number[] {
  if (typeof v === 'number') return [v];
  if (v instanceof tf.Tensor) return Array.from(v.dataSync());
  return Array.from(v as ArrayLike<number | number[]>).flat() as number[];
}

const show = (xs: number[]) => (xs.length === 1 ? String(xs[0]) : `[${xs.join(', ')}]`);

/** Throw unless `actual` equals `expected` element by element within `tol` (see the file comment). */
export function expectClose(name: string, actual: Numbers | null | undefined, expected: Numbers, tol = 1e-5, options: { relative?: boolean } = {}): void {
  if (actual === null || actual === undefined) throw new Error(`${name} is ${actual}, expected ${show(flat(expected))}`);
  const a = flat(actual);
  const e = flat(expected);
  if (a.length !== e.length) {
    throw new Error(`${name} has ${a.length} values ${show(a)}, expected ${e.length}: ${show(e)}`);
  }
  const allowed = (x: number) => tol * (options.relative ? Math.abs(x) : 1 + Math.abs(x));
  const bad = a.findIndex((x, i) => !(Math.abs(x - e[i]) <= allowed(e[i])));
  if (bad >= 0) {
    const where = a.length > 1 ? ` (element ${bad}: ${a[bad]} vs ${e[bad]})` : '';
    throw new Error(`${name} is ${show(a)}, expected ${show(e)} within ${tol}${options.relative ? ' relative' : ''}${where}`);
  }
}

/** Throw `name: detail` unless `condition` holds (for claims like "the loss falls"). */
export function expectTrue(name: string, condition: boolean, detail = ''): void {
  if (!condition) throw new Error(`${name} does not hold${detail ? `: ${detail}` : ''}`);
}
