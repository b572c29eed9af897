// A GPU slot's process (slot-runner.ts, hostedSlot): holds the slot's piscina worker thread, argv[2] its task file,
// argv[3] the slot as JSON. Runs each RunSpec it receives over IPC, one at a time, and sends back the run's events
// and then its result or error (slot-runner.ts, ChildMessage). It ends when the orchestrator disconnects or exits.
// It runs in a process group of its own, which Ctrl-C at the terminal does not reach: the orchestrator decides.
import { register } from 'tsx/esm/api';

register();
const { threadSlot } = await import('./slot-runner.ts');
const runner = threadSlot(JSON.parse(process.argv[3]), process.argv[2]);
const send = (msg) => new Promise((resolve) => process.send(msg, () => resolve()));

process.on('message', async ({ spec }) => {
  const sent = [];
  try {
    const result = await runner.run(spec, (event) => sent.push(send({ type: 'event', event })));
    await Promise.all(sent);
    await send({ type: 'result', result });
  } catch (err) {
    await Promise.all(sent);
    // The cause travels too: it marks a failure the orchestrator does not retry (common/errors.ts, forTransfer).
    const cause = err instanceof Error && typeof err.cause === 'string' ? err.cause : undefined;
    await send({ type: 'error', message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined, cause });
  }
});
process.once('disconnect', () => runner.close().finally(() => process.exit(0)));
