import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../common/errors.ts';
import { checkModels, planRuns, runSeed } from '../../orchestrator/plan.ts';

test('run i of every model gets seed experimentSeed + i', () => {
  const plan = planRuns(['augmented', 'baseline'], 3, 40);
  assert.deepEqual(
    plan.map((r) => `${r.model}#${r.runIndex}:${r.seed}`),
    ['baseline#0:40', 'augmented#0:40', 'baseline#1:41', 'augmented#1:41', 'baseline#2:42', 'augmented#2:42'],
  );
  assert.equal(runSeed(7, 0), 7);
});

test('a -ft model comes right after its base, with the same seed, and names its base', () => {
  const plan = planRuns(['xception-ft', 'baseline', 'xception'], 2, 1);
  assert.deepEqual(
    plan.map((r) => r.model),
    ['baseline', 'xception', 'xception-ft', 'baseline', 'xception', 'xception-ft'],
  );
  const ft = plan.filter((r) => r.model === 'xception-ft');
  assert.deepEqual(
    ft.map((r) => [r.baseModel, r.seed]),
    [
      ['xception', 1],
      ['xception', 2],
    ],
  );
  assert.equal(plan[0]!.baseModel, null);
});

test('a -ft model without its base is a usage error; duplicates collapse', () => {
  assert.throws(
    () => checkModels(['baseline', 'mobilenet-ft']),
    (e: unknown) => e instanceof UsageError && /'mobilenet' must be in --models/.test(e.message),
  );
  assert.deepEqual(checkModels(['baseline', 'baseline', 'mobilenet', 'mobilenet-ft']), ['baseline', 'mobilenet', 'mobilenet-ft']);
  assert.equal(planRuns(['baseline', 'baseline'], 2, 0).length, 2);
});
