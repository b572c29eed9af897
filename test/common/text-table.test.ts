import assert from 'node:assert/strict';
import { test } from 'node:test';
import { columnWidths, padCells } from '../../common/text-table.ts';

test('columns are as wide as their longest cell, header included; cells pad on the side asked for', () => {
  const header = ['model', 'n'];
  const body = [
    ['baseline', '10'],
    ['x', '2'],
  ];
  const widths = columnWidths(header, body);
  assert.deepEqual(widths, [8, 2]);
  assert.deepEqual(
    [header, ...body].map((row) => padCells(row, widths, (i) => i === 1, ' | ')),
    ['model    |  n', 'baseline | 10', 'x        |  2'],
  );
});

test('a row missing a cell counts it empty', () => {
  assert.deepEqual(columnWidths(['a', 'bb'], [['abc']]), [3, 2]);
});
