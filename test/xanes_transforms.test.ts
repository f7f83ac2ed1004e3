/** XANESNET's Fourier transform and augmentation, checked against numpy's FFT. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { fourierForward, fourierInverse, fourierRows, inverseFourierRows, augment } from '../lib/data/xanes_transforms';
import { Generator } from '../lib/engine/random';
import { loadFixture, assertClose } from './helpers';

const fx = loadFixture('xanes_transforms');

test('z = Re(FFT([x, reversed(x)])) and its inverse Re(IFFT(z))[:L] equal numpy', () => {
  const z = fourierForward(fx.x);
  assertClose(Array.from(z), fx.z, { rtol: 1e-9, atol: 1e-9 }, 'forward');
  // Not an exact inverse: Re drops the odd part, so x_j comes back as (x_j + x_{j-1}) / 2 (j > 0).
  assertClose(Array.from(fourierInverse(z)), fx.inverse, { rtol: 1e-9, atol: 1e-9 }, 'inverse');
  assert.ok(Math.abs(fx.inverse[5] - (fx.x[5] + fx.x[4]) / 2) < 1e-12);
  const rows = fourierRows(Float32Array.from([...fx.x, ...fx.x]), fx.x.length, true);
  assert.equal(rows.width, 3 * fx.x.length, 'concat gives [x, z]');
  const back = inverseFourierRows(rows.data, rows.width, true);
  assertClose(Array.from(back.data.subarray(0, fx.x.length)), fx.inverse, { rtol: 1e-5, atol: 1e-5 }, 'row inverse');
});

test('augmentation: n * mult samples, noise around a real sample (same sample for X and Y), combinations are means', () => {
  const x = Float32Array.from([0, 0, 10, 10, 20, 20]);
  const y = Float32Array.from([1, 11, 21]);
  const noisy = augment(x, 2, y, 1, { type: 'random_noise', mult: 3, mean: 0, sd: 0.001 }, new Generator(1));
  assert.equal(noisy.n, 9);
  for (let s = 3; s < 9; s++) {
    const base = Math.round(noisy.x[2 * s] / 10);
    assert.ok(Math.abs(noisy.x[2 * s] - 10 * base) < 0.01 && Math.abs(noisy.y[s] - (10 * base + 1)) < 0.01, 'X and Y rows of the same sample');
  }
  const comb = augment(x, 2, y, 1, { type: 'random_combination', mult: 2 }, new Generator(2));
  for (let s = 3; s < 6; s++) assert.ok(Math.abs(comb.y[s] - (comb.x[2 * s] + 1)) < 1e-5, 'y follows x in the mean');
  assert.throws(() => augment(x, 2, y, 1, { type: 'mixup' as any, mult: 2 }, new Generator(1)), /unknown augment_type 'mixup'/);
});
