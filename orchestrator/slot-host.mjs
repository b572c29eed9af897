// A GPU slot's process (slot-runner.ts, hostedSlot): holds the slot's piscina worker thread, argv[2] its task file,
// argv[3] the slot as JSON. Runs each RunSpec it receives over IPC, one at a time, and sends back the run's events
// and then its result or error (slot-runner.ts, ChildMessage). It ends when the orchestrator disconnects or exits.
// It runs in a process group of its own, which Ctrl-C at the terminal does not reach: the orchestrator decides.
import { register } from 'tsx/esm/api';
import { errorMessage } from './child-error.mjs';

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
    await send(errorMessage(err));
  }
});
process.once('disconnect', () => runner.close().finally(() => process.exit(0)));
