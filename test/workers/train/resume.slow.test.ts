/**
 * A run stopped after epoch 2 of 4 and continued from its saved state (OUT/resume) gives the same history and
 * final numbers, bit for bit, as the run never stopped, on the wasm backend at 48 px: baseline (no randomness in training
 * but the data order), augmented (augmentation and dropout) and mobilenet (a transfer model, head trained on the
 * frozen base's cached activations).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isUserError } from '../../../common/errors.ts';
import type { ModelName, RunEvent, RunResult, RunSpec } from '../../../study/run.ts';
import { executeRun } from '../../../workers/train/run.ts';
import { specFromFlags } from '../../../cli/commands/run-command.ts';
import { realDataOrSkip, realSubset, sharedWeightsOrSkip } from '../../helpers/real-data.ts';

let subset: string | null = null;

function specFor(t: TestContext, model: ModelName, weights: string | null = null): RunSpec | null {
  // The extended protocol trains a transfer model's head on cached frozen-base activations (no augmentation).
  const protocol = weights ? 'extended' : 'seed';
  if (!realDataOrSkip(t)) return null;
  subset ??= realSubset({ train: 10, test: 4 }); // 20 train images (16 train + 4 val), 8 test
  const out = mkdtempSync(join(tmpdir(), `resume-${model}-`));
  return specFromFlags({
    model,
    protocol,
    data: subset,
    epochs: 4,
    imageSize: 48,
    batchSize: 4,
    seed: 7,
    patience: 10,
    backend: 'wasm',
    out,
    cache: true,
    weights: weights ?? undefined,
  });
}

async function run(spec: RunSpec): Promise<{ result: RunResult; events: RunEvent[] }> {
  const events: RunEvent[] = [];
  const result = await executeRun(spec, { emit: (e) => void events.push(e) });
  return { result, events };
}

/** What must not differ between the two runs: everything but the times and the output folders. */
function numbers(r: RunResult) {
  return {
    history: r.history.map(({ seconds: _, ...rest }) => rest),
    bestEpoch: r.bestEpoch,
    stoppedEarly: r.stoppedEarly,
    final: r.final,
  };
}

async function interruptedEqualsUninterrupted(t: TestContext, model: ModelName, weights: string | null = null): Promise<void> {
  const whole = specFor(t, model, weights);
  if (!whole) return;
  const reference = await run(whole);
  assert.equal(reference.result.history.length, 4);

  const cut = specFor(t, model, weights)!;
  await assert.rejects(run({ ...cut, failAtEpoch: 3 }), /injected failure at epoch 3/);
  assert.deepEqual(readdirSync(join(cut.outDir, 'resume')), ['epoch-0002']);

  const continued = await run(cut);
  const started = continued.events.find((e) => e.type === 'started')!;
  assert.equal(started.type === 'started' && started.resumedFrom?.epoch, 2);
  assert.deepEqual(
    continued.events.flatMap((e) => (e.type === 'epoch' ? [e.record.epoch] : [])),
    [3, 4],
    'only epochs 3 and 4 train again',
  );
  assert.deepEqual(numbers(continued.result), numbers(reference.result));
  assert.ok(!existsSync(join(cut.outDir, 'resume')), 'the resume state goes once the run has finished');
}

test('baseline: stopped after epoch 2 of 4 and continued = never stopped (wasm)', async (t) => {
  await interruptedEqualsUninterrupted(t, 'baseline');
});

test('augmented (augmentation + dropout): stopped after epoch 2 of 4 and continued = never stopped (wasm)', async (t) => {
  await interruptedEqualsUninterrupted(t, 'augmented');
});

test('mobilenet (transfer, real ImageNet weights): stopped after epoch 2 of 4 and continued = never stopped (wasm)', async (t) => {
  const weights = sharedWeightsOrSkip(t, 'mobilenet_v2_035_224');
  if (!weights) return;
  await interruptedEqualsUninterrupted(t, 'mobilenet', weights);
});

test('a saved state of a run with other settings is refused with one line naming the setting; nothing is lost', async (t) => {
  const spec = specFor(t, 'baseline');
  if (!spec) return;
  await assert.rejects(run({ ...spec, failAtEpoch: 3 }), /injected failure/);
  const err = await run({ ...spec, learningRate: spec.learningRate * 2 }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(isUserError(err), String(err));
  assert.match((err as Error).message, /^\S+resume holds epoch 2 of a run with learningRate [\d.e-]+, not [\d.e-]+: .*delete that folder to start over\.$/);
  assert.deepEqual(readdirSync(join(spec.outDir, 'resume')), ['epoch-0002']);
  // A different output folder or image cache setting is not another run.
  const continued = await run({ ...spec, cacheImages: false });
  assert.deepEqual(
    continued.result.history.map((r) => r.epoch),
    [1, 2, 3, 4],
  );
});
