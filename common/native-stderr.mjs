// What a child process writes to its native stderr, passed on line by line. Dawn writes two warnings there each time
// a process opens a Vulkan adapter (lavapipe included); they say nothing a user can act on, and no JavaScript in that
// process can silence them. So the processes that may open one run as children whose stderr comes through here, where
// those lines are dropped unless `verbose`: orchestrate's GPU slots and its estimate's calibration, and the melanoma
// commands that open a backend (cli/filtered-child.mjs). Plain JavaScript, which bin/melanoma.mjs loads without tsx;
// its types are in native-stderr.d.mts.
import { createInterface } from 'node:readline';

/** e.g. "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit." */
export const DAWN_ADAPTER_WARNING = /^Warning: max\w+ artificially reduced from \d+ to \d+/;

/** Passes every line of `from` on to `to`, less Dawn's adapter warnings unless `verbose`; resolves when `from` ends. */
export function forwardStderr(from, to, verbose) {
  const lines = createInterface({ input: from, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (line) => {
    if (verbose || !DAWN_ADAPTER_WARNING.test(line)) to.write(`${line}\n`);
  });
  return new Promise((resolve) => lines.once('close', resolve));
}
