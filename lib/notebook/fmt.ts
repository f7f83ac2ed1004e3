/**
 * `fmt`: numbers for reading, not for checking. A lesson prints what it teaches
 * rounded to a few significant digits, so float32 noise (0.05000000074505806)
 * never reaches the page; the exact values are checked in the check cells.
 *
 *     hl.fmt(0.05000000074505806)        // '0.05'
 *     hl.fmt(x.grad)                     // '[2, 2, 2]' (a tensor is read, not disposed)
 *     hl.fmt([1.23456e-7, 25300000])     // '[1.235e-7, 2.53e+7]'
 *     hl.fmt(w, 3)                       // 3 significant digits; 2-D tensors print one row a line
 */
import { tf } from '../engine/tf';

type Formattable = number | bigint | boolean | null | undefined | tf.Tensor | ArrayLike<unknown> | unknown[];

/** One number to `digits` significant digits, without trailing zeros; very large or small ones in e-notation. */
function fmtNumber(v: number, digits: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) {
    const [m, e] = v.toExponential(digits - 1).split('e');
    return `${m.includes('.') ? m.replace(/\.?0+$/, '') : m}e${e}`;
  }
  if (a >= 10 ** digits) return String(Math.round(v));
  const s = v.toPrecision(digits);
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : String(Number(s));
}

/** Nested lists of numbers, at most `maxItems` a row (the rest shown as '…'). */
function fmtNested(v: unknown, digits: number, maxItems: number, depth: number): string {
  if (typeof v === 'number') return fmtNumber(v, digits);
  if (Array.isArray(v)) {
    const shown = v.slice(0, maxItems).map((x) => fmtNested(x, digits, maxItems, depth + 1));
    if (v.length > maxItems) shown.push(`… (${v.length} in all)`);
    const nested = v.length > 0 && Array.isArray(v[0]);
    return nested && depth === 0 ? `[${shown.join(',\n ')}]` : `[${shown.join(', ')}]`;
  }
  return String(v);
}

/**
 * A number, an array (nested too) or a tensor as short text: `digits` significant
 * digits (default 4), at most `maxItems` entries a row (default 10).
 */
export function fmt(value: Formattable, digits = 4, maxItems = 10): string {
  if (value instanceof tf.Tensor) {
    if (value.isDisposed) return '(disposed tensor)';
    return fmtNested(value.arraySync(), digits, maxItems, 0);
  }
  if (typeof value === 'number') return fmtNumber(value, digits);
  if (value === null || value === undefined || typeof value !== 'object') return String(value);
  const list = Array.isArray(value) ? value : Array.from(value as ArrayLike<unknown>);
  return fmtNested(list, digits, maxItems, 0);
}
