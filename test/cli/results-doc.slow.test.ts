/** docs/results.md is generated: each experiment it reports is the `melanoma report --markdown` of its committed results file. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RESULTS_DOC, reportIn, reportOfResults, reportedExperiments } from '../../cli/results-doc.ts';

test("docs/results.md holds, for each committed results file it reports, exactly that file's `melanoma report --markdown`", async () => {
  const doc = readFileSync(RESULTS_DOC, 'utf8');
  const names = reportedExperiments(doc);
  assert.ok(names.includes('seed-224'), 'the reproduction of the seed protocol at 224 px is reported');
  for (const name of names) assert.equal(reportIn(doc, name), await reportOfResults(name), `the report of results/${name}.ndjson.gz`);
});
