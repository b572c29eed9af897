// A run in its own process (see slot-runner.ts): loads the task file given as argv[2], receives one RunSpec over
// IPC, forwards the task's events and then its result or error, and exits.
import { pathToFileURL } from 'node:url';
import { errorMessage } from './child-error.mjs';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';

const task = (await import(pathToFileURL(process.argv[2]).href)).default;

const send = (msg) => new Promise((resolve) => process.send(msg, () => resolve()));

// It runs in a process group of its own, which Ctrl-C at the terminal does not reach: the orchestrator decides
// (aborting the run kills this process), and a gone orchestrator ends it.
process.once('disconnect', () => process.exit(1));

process.once('message', async ({ spec }) => {
  const { port1, port2 } = new MessageChannel();
  const sent = [];
  port1.on('message', (event) => sent.push(send({ type: 'event', event })));
  const flush = async () => {
    for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) sent.push(send({ type: 'event', event: m.message }));
    port1.close();
    await Promise.all(sent);
  };
  let code = 0;
  try {
    const result = await task({ spec, port: port2 });
    await flush();
    await send({ type: 'result', result });
  } catch (err) {
    await flush();
    await send(errorMessage(err));
    code = 1;
  }
  process.exit(code);
});
