// Worker-thread body for preflight.ts: asks the model code where a pretrained model's weights are, in a thread of
// its own because that code loads tfjs and the orchestrator's main thread stays free of it.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { locatePretrained } = await import('../workers/models/pretrained.ts');
const missing = [];
for (const name of workerData.names) {
  try {
    locatePretrained(name, workerData.weights);
  } catch (err) {
    missing.push({ name, message: err instanceof Error ? err.message : String(err) });
  }
}
parentPort.postMessage(missing);
