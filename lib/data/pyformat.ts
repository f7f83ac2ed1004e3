/**
 * Python's `f"{x:>W.Pf}"` and `f"{x:>W.PE}"` for a number, digit for digit.
 *
 * JavaScript's toFixed / toExponential break exact ties upwards (0.125 -> "0.13") and drop the
 * sign of -0; Python rounds the exact binary value half to even ("0.12") and keeps "-0.00". So
 * we take the exact decimal expansion of the double (every double is m * 2^e, and
 * m * 2^-k = m * 5^k / 10^k) with BigInt arithmetic and round that. Used by the FDMNES writer
 * so that a spectrum written here is byte-identical to one written by XANESNET.
 */

/** |x| = D * 10^-k exactly, for finite x. */
function exactDecimal(x: number): { D: bigint; k: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (biased === 0) {
    e = -1074; // subnormal
  } else {
    m |= 1n << 52n;
    e = biased - 1075;
  }
  if (e >= 0) return { D: m << BigInt(e), k: 0 };
  return { D: m * 5n ** BigInt(-e), k: -e };
}

/** round(D / div) with ties to even. */
function divRoundHalfEven(D: bigint, div: bigint): bigint {
  const q = D / div;
  const r2 = (D % div) * 2n;
  if (r2 > div || (r2 === div && q % 2n === 1n)) return q + 1n;
  return q;
}

function signOf(x: number): string {
  return x < 0 || Object.is(x, -0) ? '-' : '';
}

/** Python's format(x, '.{decimals}f'). */
export function pyFixed(x: number, decimals: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const { D, k } = exactDecimal(x);
  const N = k > decimals ? divRoundHalfEven(D, 10n ** BigInt(k - decimals)) : D * 10n ** BigInt(decimals - k);
  let s = N.toString();
  if (decimals > 0) {
    s = s.padStart(decimals + 1, '0');
    s = `${s.slice(0, s.length - decimals)}.${s.slice(s.length - decimals)}`;
  }
  return signOf(x) + s;
}

/** Python's format(x, '.{decimals}E'): one digit, the point, `decimals` digits, E, sign, at least 2 exponent digits. */
export function pyExp(x: number, decimals: number): string {
  if (Number.isNaN(x)) return 'NAN';
  if (!Number.isFinite(x)) return x > 0 ? 'INF' : '-INF';
  const { D, k } = exactDecimal(x);
  let N: bigint;
  let exp: number;
  if (D === 0n) {
    N = 0n;
    exp = 0;
  } else {
    const L = D.toString().length;
    const keep = decimals + 1; // significant digits
    N = L > keep ? divRoundHalfEven(D, 10n ** BigInt(L - keep)) : D * 10n ** BigInt(keep - L);
    exp = L - 1 - k;
    if (N.toString().length > keep) {
      // rounding carried into a new digit: 9.99..95 -> 10.00..0
      N /= 10n;
      exp += 1;
    }
  }
  const digits = N.toString().padStart(decimals + 1, '0');
  const mantissa = decimals > 0 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const expStr = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return `${signOf(x)}${mantissa}E${expStr}`;
}
