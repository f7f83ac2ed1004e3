/**
 * Two-sample t-tests as `scipy.stats.ttest_ind` computes them, and the Student-t
 * distribution they need. Small and dependency-free; checked against scipy in
 * test/stats.test.ts (fixture test/fixtures/ttest.json, made by test/parity/gen_ttest.py).
 *
 *     ttestInd(a, b)                                   // Student's t, pooled variance, two-sided
 *     ttestInd(a, b, { alternative: 'less' })          // H1: mean(a) < mean(b)
 *     ttestInd(a, b, { equalVar: false })              // Welch's t
 *
 * Definitions (n = sizes, m = means, v = sample variances with ddof 1):
 *
 *     pooled (equalVar, scipy's default):  df = n1 + n2 - 2
 *                                          sp2 = ((n1-1) v1 + (n2-1) v2) / df
 *                                          t = (m1 - m2) / sqrt(sp2 (1/n1 + 1/n2))
 *     Welch:                               t = (m1 - m2) / sqrt(v1/n1 + v2/n2)
 *                                          df = (v1/n1 + v2/n2)^2 / ((v1/n1)^2/(n1-1) + (v2/n2)^2/(n2-1))
 *
 * p-values: 'less' = P(T <= t), 'greater' = P(T >= t), 'two-sided' = 2 P(T >= |t|),
 * T Student-t with df degrees of freedom. As in scipy: a zero denominator gives
 * t = +-Infinity (or NaN when the means are equal too), Welch's df is 1 when it is
 * undefined (both variances zero), and a sample with fewer than 2 values gives NaN.
 *
 * The Student-t CDF comes from the regularized incomplete beta function,
 * P(T <= t) = 1 - I_x(df/2, 1/2) / 2 for t > 0 (x = df / (df + t^2)), evaluated with
 * the continued fraction of Numerical Recipes (Press et al., 3rd ed., 6.4) and
 * Lanczos' log-gamma: about 1e-14 relative accuracy, far below what a 5% test needs.
 */

export type Alternative = 'two-sided' | 'less' | 'greater';

export interface TTestOptions {
  /** Pooled variance, Student's t (true, scipy's default) or Welch's t (false). */
  equalVar?: boolean;
  alternative?: Alternative;
}

export interface TTestResult {
  statistic: number;
  pvalue: number;
  df: number;
  /** The two sample means, for reports. */
  mean1: number;
  mean2: number;
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new Error(`logGamma: x must be positive, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x); // reflection
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The continued fraction of I_x(a, b) (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const TINY = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) return h;
  }
  return h; // converged to double precision long before this for the a, b a t-test uses
}

/** The regularized incomplete beta function I_x(a, b), for a, b > 0 and 0 <= x <= 1. */
export function incompleteBeta(a: number, b: number, x: number): number {
  if (!(a > 0 && b > 0)) throw new Error(`incompleteBeta: a and b must be positive, got a=${a}, b=${b}`);
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** The upper tail P(T >= t) of Student's t, for t >= 0. */
function upperTail(t: number, df: number): number {
  if (t === Infinity) return 0;
  // For t >= 0: P(T >= t) = I_x(df/2, 1/2) / 2 with x = df / (df + t^2).
  return 0.5 * incompleteBeta(df / 2, 0.5, df / (df + t * t));
}

/** The Student-t cumulative distribution P(T <= t) with df > 0 degrees of freedom (scipy.stats.t.cdf). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) return NaN;
  if (Number.isNaN(t)) return NaN;
  return t >= 0 ? 1 - upperTail(t, df) : upperTail(-t, df);
}

/** The Student-t survival function P(T >= t) (scipy.stats.t.sf), accurate in the upper tail. */
export function studentTSf(t: number, df: number): number {
  if (!(df > 0)) return NaN;
  if (Number.isNaN(t)) return NaN;
  return t >= 0 ? upperTail(t, df) : 1 - upperTail(-t, df);
}

/** Mean and sample variance (ddof 1) in float64. */
export function meanVar(a: ArrayLike<number>): { n: number; mean: number; variance: number } {
  const n = a.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i];
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (a[i] - mean) ** 2;
  return { n, mean, variance: n > 1 ? ss / (n - 1) : NaN };
}

/** `scipy.stats.ttest_ind(a, b, equal_var=..., alternative=...)`; see the top of this file. */
export function ttestInd(a: ArrayLike<number>, b: ArrayLike<number>, options: TTestOptions = {}): TTestResult {
  const equalVar = options.equalVar ?? true;
  const alternative = options.alternative ?? 'two-sided';
  if (!['two-sided', 'less', 'greater'].includes(alternative)) {
    throw new Error(`ttestInd: alternative must be 'two-sided', 'less' or 'greater', got '${alternative}'`);
  }
  const A = meanVar(a);
  const B = meanVar(b);
  const result = (statistic: number, df: number, pvalue: number): TTestResult => ({ statistic, pvalue, df, mean1: A.mean, mean2: B.mean });
  if (A.n < 2 || B.n < 2) return result(NaN, NaN, NaN);
  let df: number;
  let denom: number;
  if (equalVar) {
    df = A.n + B.n - 2;
    const sp2 = ((A.n - 1) * A.variance + (B.n - 1) * B.variance) / df;
    denom = Math.sqrt(sp2 * (1 / A.n + 1 / B.n));
  } else {
    const vn1 = A.variance / A.n;
    const vn2 = B.variance / B.n;
    df = (vn1 + vn2) ** 2 / (vn1 ** 2 / (A.n - 1) + vn2 ** 2 / (B.n - 1));
    if (Number.isNaN(df)) df = 1; // scipy: both variances zero
    denom = Math.sqrt(vn1 + vn2);
  }
  const diff = A.mean - B.mean;
  const t = denom === 0 ? (diff === 0 ? NaN : diff > 0 ? Infinity : -Infinity) : diff / denom;
  let p: number;
  if (alternative === 'less') p = studentTCdf(t, df);
  else if (alternative === 'greater') p = studentTSf(t, df);
  else p = Number.isNaN(t) ? NaN : Math.min(1, 2 * studentTSf(Math.abs(t), df));
  return result(t, df, p);
}
