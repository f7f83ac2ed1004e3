/** The lesson checks (lib/notebook/expect.ts): what passes, and what the message says when a number is wrong. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { tf, expectClose, expectTrue } from '../lib';

test('expectClose passes numbers, arrays, nested arrays and tensors within the tolerance', () => {
  expectClose('a number', 0.1 + 0.2, 0.3);
  expectClose('an array', [1, 2.000001], [1, 2]);
  expectClose(
    'a matrix',
    [
      [7, 10],
      [15, 22],
    ],
    [7, 10, 15, 22],
  );
  const t = tf.tensor1d([2, 2, 2]);
  expectClose('a tensor', t, [2, 2, 2]);
  expectClose('against a tensor', [2, 2, 2], t);
  assert.equal(t.isDisposed, false, 'the tensor is read, not disposed');
  t.dispose();
  expectClose('relative for large values', 1e6 + 5, 1e6, 1e-5); // 5 <= 1e-5 * (1 + 1e6)
  expectClose('a looser tolerance', 14.0003, 14, 1e-3);
});

test('expectClose names the number, the values and the element that is off', () => {
  assert.throws(() => expectClose('x.grad', [2, 2, 3], [2, 2, 2]), /x\.grad is \[2, 2, 3\], expected \[2, 2, 2\] within 0\.00001 \(element 2: 3 vs 2\)/);
  assert.throws(() => expectClose('loss', 1.1, 1), /loss is 1\.1, expected 1 within/);
  assert.throws(() => expectClose('shape', [1, 2], [1, 2, 3]), /shape has 2 values \[1, 2\], expected 3/);
  assert.throws(() => expectClose('grad', null, [2]), /grad is null, expected 2/);
  assert.throws(() => expectClose('nan', NaN, 0), /nan is NaN/);
});

test('expectTrue throws its name and detail', () => {
  expectTrue('ok', true);
  assert.throws(() => expectTrue('the loss falls', false, 'before 1, after 2'), /^Error: the loss falls does not hold: before 1, after 2$/);
});

test('expectClose with relative: small numbers are compared digit for digit', () => {
  assert.doesNotThrow(() => expectClose('a', 4.5416e-5, 4.5417e-5, 1e-4, { relative: true }));
  assert.throws(() => expectClose('a', 4.5396e-5, 4.5417e-5, 1e-4, { relative: true }), /a is 0\.000045396, expected 0\.000045417 within 0\.0001 relative/);
  assert.doesNotThrow(() => expectClose('a', 4.5396e-5, 4.5417e-5, 1e-4), 'the default mixed tolerance is absolute near zero');
});
