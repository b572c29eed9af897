#!/usr/bin/env node
// Loads the TypeScript sources through tsx, so the CLI runs straight from a checkout without a build step. The
// commands that open a compute backend in their own process (serve: in its upload-predict thread) run the CLI in a
// child of this process, whose native stderr passes a filter that drops Dawn's adapter warnings unless --verbose or
// MELANOMA_VERBOSE=1 (cli/filtered-child.mjs). This process stays plain JavaScript, so tsx loads once, in the child.
import { adoptFilteredStderr, FILTERED_COMMANDS, runFilteredChild } from '../cli/filtered-child.mjs';

const args = process.argv.slice(2);
const command = args.find((arg) => !arg.startsWith('-'));
if (!adoptFilteredStderr() && FILTERED_COMMANDS.includes(command ?? '')) {
  const verbose = args.includes('--verbose') || process.env.MELANOMA_VERBOSE === '1';
  await runFilteredChild(process.argv[1], args, verbose);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/melanoma.ts');
}
