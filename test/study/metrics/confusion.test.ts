import assert from 'node:assert/strict';
import { test } from 'node:test';
import { confusionAt, rates, specificity } from '../../../study/metrics/confusion.ts';

test('p exactly at the threshold is predicted negative (Keras: p > 0.5)', () => {
  // label 1 p 0.5 -> fn; label 0 p 0.5 -> tn; label 1 p 0.5000001 -> tp; label 0 p 0.4999999 -> tn.
  assert.deepEqual(confusionAt([1, 0, 1, 0], [0.5, 0.5, 0.5000001, 0.4999999]), { tp: 1, fp: 0, tn: 2, fn: 1 });
});

test('another threshold', () => {
  // at 0.2: 0.3 (label 0) -> fp, 0.2 (label 1) -> fn, 0.1 (label 0) -> tn, 0.9 (label 1) -> tp.
  assert.deepEqual(confusionAt([0, 1, 0, 1], [0.3, 0.2, 0.1, 0.9], 0.2), { tp: 1, fp: 1, tn: 1, fn: 1 });
  assert.throws(() => confusionAt([1], [0.5], Number.NaN), /threshold = NaN/);
});

test('rates: precision 0 without predicted positives, recall 0 without positives', () => {
  assert.deepEqual(rates({ tp: 3, fp: 3, tn: 1, fn: 1 }), { accuracy: 0.5, precision: 0.5, recall: 0.75 });
  assert.deepEqual(rates({ tp: 0, fp: 0, tn: 2, fn: 2 }), { accuracy: 0.5, precision: 0, recall: 0 });
  assert.deepEqual(rates({ tp: 0, fp: 1, tn: 3, fn: 0 }), { accuracy: 0.75, precision: 0, recall: 0 });
});

test('specificity as scikit-learn recall_score(y, p > 0.5, pos_label=0) gives it, 0 without a benign lesion', () => {
  // y = [0, 0, 0, 0, 1, 1, 1], p = [0.1, 0.6, 0.5, 0.2, 0.9, 0.4, 0.3]: the benign 0.1, 0.5, 0.2 are called benign,
  // 0.6 malignant; recall_score([0, 0, 0, 0, 1, 1, 1], [0, 1, 0, 0, 1, 0, 0], pos_label=0) = 3/4.
  const c = confusionAt([0, 0, 0, 0, 1, 1, 1], [0.1, 0.6, 0.5, 0.2, 0.9, 0.4, 0.3]);
  assert.deepEqual(c, { tp: 1, fp: 1, tn: 3, fn: 2 });
  assert.equal(specificity(c), 0.75);
  // recall_score([1, 1], [1, 0], pos_label=0, zero_division=0) = 0: no benign lesion to recall.
  assert.equal(specificity({ tp: 1, fp: 0, tn: 0, fn: 1 }), 0);
  assert.equal(specificity({ tp: 0, fp: 0, tn: 5, fn: 0 }), 1);
});
