import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at, first, last } from '../../common/indexing.ts';

test('at, first and last read the item at a position, counting from the end for a negative one', () => {
  const items = ['a', 'b', 'c'];
  assert.equal(at(items, 1), 'b');
  assert.equal(at(items, -1), 'c');
  assert.equal(first(items), 'a');
  assert.equal(last(new Float32Array([1, 2, 3.5])), 3.5);
});

test('at names what is missing and where, instead of handing back undefined', () => {
  assert.throws(() => at(['a'], 1, 'epoch'), { name: 'RangeError', message: 'no epoch at index 1 of 1' });
  assert.throws(() => at(['a'], -2), /no item at index -2 of 1/);
  assert.throws(() => at(['a'], 0.5), /no item at index 0.5 of 1/);
  assert.throws(() => first([], 'row'), /no row at index 0 of 0/);
  assert.throws(() => last([], 'row'), /no row at index -1 of 0/);
});

test('at keeps an item that is itself undefined in a list that allows it', () => {
  assert.equal(at([undefined, 1], 0), undefined);
});
