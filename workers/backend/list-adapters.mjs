// Prints the WebGPU adapters Dawn finds as one JSON array on stdout ([] when Dawn cannot start), then exits:
// the orchestrator runs this file in a process of its own (orchestrator/slots.ts).
import { register } from 'tsx/esm/api';

register();
const { listAdapters } = await import('./adapters.ts');
const adapters = await listAdapters().catch(() => []);
process.stdout.write(JSON.stringify(adapters) + '\n', () => process.exit(0));
