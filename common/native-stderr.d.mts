import type { Readable, Writable } from 'node:stream';

export const DAWN_ADAPTER_WARNING: RegExp;
export function forwardStderr(from: Readable, to: Writable, verbose: boolean): Promise<void>;
