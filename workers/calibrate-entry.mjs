// Entry of the orchestrator's calibration (workers/calibrate.ts), in a process of its own so that what the backend
// writes to the native stderr passes the orchestrator's filter (common/native-stderr.mjs). argv[2] is the
// CalibrationRequest as JSON; sends { report } or { error } over IPC and exits.
import { register } from 'tsx/esm/api';

register();
let message;
try {
  const { calibrate } = await import('./calibrate.ts');
  message = { report: await calibrate(JSON.parse(process.argv[2])) };
} catch (err) {
  message = { error: err instanceof Error ? err.message : String(err) };
}
process.send(message, () => process.exit(0));
