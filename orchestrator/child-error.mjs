// The error message a slot's process (child-runner.mjs, slot-host.mjs) sends for a run that failed (slot-runner.ts,
// ChildMessage). The cause travels too: it marks a failure the orchestrator does not retry (common/errors.ts,
// forTransfer).
export function errorMessage(err) {
  const cause = err instanceof Error && typeof err.cause === 'string' ? err.cause : undefined;
  return { type: 'error', message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined, cause };
}
