// Worker-thread entry of the orchestrator's calibration (workers/calibrate.ts): workerData is a
// CalibrationRequest; posts { report } or { error } and ends.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
try {
  const { calibrate } = await import('./calibrate.ts');
  parentPort.postMessage({ report: await calibrate(workerData) });
} catch (err) {
  parentPort.postMessage({ error: err instanceof Error ? err.message : String(err) });
}
