/** The bar shown while every image of a dataset is decoded (data inspect, orchestrate's check), on stderr. */
import cliProgress from 'cli-progress';

/** A progress callback drawing the bar, and stop(); `show: false` draws nothing (e.g. under --json). */
export function decodingProgress(show: boolean): { onProgress?: (done: number, total: number) => void; stop(): void } {
  if (!show) return { stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: '  decoding {bar} {value}/{total} images', stream: process.stderr, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  return {
    onProgress(done, total) {
      if (done === 1) bar.start(total, 0);
      bar.update(done);
    },
    stop: () => bar.stop(),
  };
}
