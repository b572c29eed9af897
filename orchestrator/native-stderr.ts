/**
 * What a slot's process writes to its native stderr, passed on line by line to the orchestrator's. Dawn writes two
 * warnings there each time a process opens a Vulkan adapter (lavapipe included); they say nothing a user can act on,
 * and no JavaScript in that process can silence them, so GPU slots run in processes of their own whose stderr comes
 * through here, where those lines are dropped unless `verbose` (`orchestrate --verbose`).
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/** e.g. "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit." */
export const DAWN_ADAPTER_WARNING = /^Warning: max\w+ artificially reduced from \d+ to \d+/;

/** Passes every line of `from` on to `to`, less Dawn's adapter warnings unless `verbose`; resolves when `from` ends. */
export function forwardStderr(from: Readable, to: Writable, verbose: boolean): Promise<void> {
  const lines = createInterface({ input: from, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (line) => {
    if (verbose || !DAWN_ADAPTER_WARNING.test(line)) to.write(`${line}\n`);
  });
  return new Promise((resolve) => lines.once('close', resolve));
}
