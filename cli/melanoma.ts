/** `melanoma`: the command tree of cli/program.ts, run as a CLI. */
import { runProgram } from './main.ts';
import { melanomaProgram } from './program.ts';

await runProgram(melanomaProgram());
