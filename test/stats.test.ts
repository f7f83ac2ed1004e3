/**
 * lib/data/stats.ts against scipy (test/parity/gen_stats.py -> test/fixtures/stats.json):
 * ttest_ind (pooled and Welch, three alternatives) and the Student-t cdf / sf,
 * plus hand-checked values that need no fixture.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { incompleteBeta, logGamma, studentTCdf, studentTSf, ttestInd } from '../lib/data/stats';

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'stats.json'), 'utf8'));

/** |a - b| <= atol + rtol |b|, NaN equal to NaN, infinities equal to themselves. */
function close(a: number, b: number, rtol: number, atol: number, what: string): void {
  if (Number.isNaN(b) || !Number.isFinite(b)) return assert.ok(Object.is(a, b) || a === b, `${what}: ${a} vs ${b}`);
  assert.ok(Math.abs(a - b) <= atol + rtol * Math.abs(b), `${what}: ${a} vs scipy ${b} (diff ${Math.abs(a - b)})`);
}

test('hand-checked values: log-gamma, incomplete beta, the t distribution', () => {
  close(logGamma(1), 0, 0, 1e-14, 'lnΓ(1)');
  close(logGamma(5), Math.log(24), 1e-14, 0, 'lnΓ(5)');
  close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14, 0, 'lnΓ(1/2)');
  // I_x(1, 1) = x; I_x(a, 1) = x^a
  close(incompleteBeta(1, 1, 0.3), 0.3, 1e-13, 0, 'I_0.3(1,1)');
  close(incompleteBeta(3, 1, 0.6), 0.216, 1e-13, 0, 'I_0.6(3,1)');
  // t with 1 df is Cauchy: cdf(t) = 1/2 + atan(t)/pi; with 2 df: 1/2 + t / (2 sqrt(2 + t^2))
  for (const t of [-3, -0.5, 0, 0.8, 12]) {
    close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-13, 1e-15, `cdf(${t}; 1)`);
    close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-13, 1e-15, `cdf(${t}; 2)`);
  }
  assert.equal(studentTCdf(Infinity, 5), 1);
  assert.equal(studentTCdf(-Infinity, 5), 0);
  // A hand-computed pooled t: a = [1, 2, 3], b = [4, 5, 6]: means 2 and 5, variances 1, sp2 = 1, t = -3 / sqrt(2/3)
  const r = ttestInd([1, 2, 3], [4, 5, 6]);
  close(r.statistic, -3 / Math.sqrt(2 / 3), 1e-14, 0, 't');
  assert.equal(r.df, 4);
});

test('the Student-t cdf and sf match scipy.stats.t', () => {
  for (const c of fixture.t_dist) {
    close(studentTCdf(c.t, c.df), c.cdf, 1e-11, 1e-300, `cdf(${c.t}; ${c.df})`);
    close(studentTSf(c.t, c.df), c.sf, 1e-11, 1e-300, `sf(${c.t}; ${c.df})`);
  }
});

test('ttestInd matches scipy.stats.ttest_ind (equal_var True/False, every alternative)', () => {
  assert.ok(fixture.ttest_ind.length >= 40);
  for (const c of fixture.ttest_ind) {
    const r = ttestInd(c.a, c.b, { equalVar: c.equal_var, alternative: c.alternative });
    const what = `${c.name}, equal_var=${c.equal_var}, ${c.alternative}`;
    close(r.statistic, c.statistic, 1e-12, 1e-14, `${what}: t`);
    close(r.pvalue, c.pvalue, 1e-10, 1e-300, `${what}: p`);
    if (c.df !== null) close(r.df, c.df, 1e-12, 0, `${what}: df`);
  }
});

test('degenerate samples behave as scipy: constant samples, fewer than two values', () => {
  const same = ttestInd([1, 1, 1], [1, 1, 1], { alternative: 'less' });
  assert.ok(Number.isNaN(same.statistic) && Number.isNaN(same.pvalue), 'equal constants: t and p are NaN');
  const lower = ttestInd([0, 0, 0], [1, 1, 1], { alternative: 'less' });
  assert.equal(lower.statistic, -Infinity);
  assert.equal(lower.pvalue, 0);
  const welch = ttestInd([0, 0], [1, 1], { equalVar: false });
  assert.equal(welch.df, 1, "Welch's df is 1 when both variances are zero (scipy)");
  assert.ok(Number.isNaN(ttestInd([1], [1, 2, 3]).pvalue), 'one value: NaN');
  assert.throws(() => ttestInd([1, 2], [3, 4], { alternative: 'smaller' as any }), /alternative must be/);
});
