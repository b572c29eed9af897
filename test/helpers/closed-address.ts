import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An address on this machine where nothing listens: connecting to it is refused at once. */
export async function closedAddress(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return `http://127.0.0.1:${port}`;
}
