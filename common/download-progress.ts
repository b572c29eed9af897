/**
 * A download's progress on stderr: a cli-progress bar on a terminal; otherwise a plain line at every 10% (or every
 * 10 MB when the size is unknown), so that logs show it too.
 */
import cliProgress from 'cli-progress';

export interface ByteProgress {
  /** Bytes already on disk when this download started (a resumed download). */
  resumedFrom: number;
  received: number;
  total: number | null;
}

export const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

export function downloadProgress(label: string, stream: NodeJS.WriteStream = process.stderr): { update(p: ByteProgress): void; stop(): void } {
  let bar: cliProgress.SingleBar | null = null;
  let lastStep = -1;
  return {
    update(p) {
      if (stream.isTTY && p.total !== null) {
        if (bar === null) {
          bar = new cliProgress.SingleBar(
            { format: `${label} [{bar}] {percentage}% | {done}/{size} | ETA {eta}s`, stream, hideCursor: true },
            cliProgress.Presets.shades_classic,
          );
          bar.start(p.total, p.received, { done: megabytes(p.received), size: megabytes(p.total) });
        }
        bar.update(p.received, { done: megabytes(p.received), size: megabytes(p.total) });
        return;
      }
      const step = p.total ? Math.floor((10 * p.received) / p.total) : Math.floor(p.received / 10e6);
      if (step !== lastStep) {
        lastStep = step;
        const of = p.total ? ` of ${megabytes(p.total)} (${Math.floor((100 * p.received) / p.total)}%)` : '';
        stream.write(`${label}: ${megabytes(p.received)}${of}${p.resumedFrom > 0 ? `, resumed at ${megabytes(p.resumedFrom)}` : ''}\n`);
      }
    },
    stop() {
      bar?.stop();
    },
  };
}
