// Worker thread for db/read-only.ts: TypeScript support first (as bin/melanoma.mjs does), then the query.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { workerMain } = await import('./read-only.ts');
await workerMain(workerData, (reply) => parentPort.postMessage(reply));
