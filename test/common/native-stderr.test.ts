import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { forwardStderr } from '../../common/native-stderr.mjs';

const DAWN = [
  'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.',
  'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 12 to 8 to fit dynamic offset allocation limit.',
];
const OTHERS = ['warning: run 3 was taken back by another orchestrator', 'Warning: something else Dawn says', 'a last line without a newline'];

async function forwarded(chunks: string[], verbose: boolean): Promise<string> {
  const from = new PassThrough();
  const to = new PassThrough();
  let out = '';
  to.on('data', (d) => (out += d));
  const done = forwardStderr(from, to, verbose);
  for (const chunk of chunks) from.write(chunk);
  from.end();
  await done;
  return out;
}

// Lines split across chunks, as a pipe delivers them.
const text = [OTHERS[0], DAWN[0], OTHERS[1], DAWN[1], OTHERS[2]].join('\n');
const chunks = [text.slice(0, 30), text.slice(30, 130), text.slice(130)];

test("forwardStderr drops Dawn's adapter warnings and passes every other line, in order", async () => {
  assert.equal(await forwarded(chunks, false), `${OTHERS.join('\n')}\n`);
});

test('forwardStderr with verbose passes every line', async () => {
  assert.equal(await forwarded(chunks, true), `${text}\n`);
});
