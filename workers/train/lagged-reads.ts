/**
 * Reads a loop's outputs back into one array, one batch late: a batch's read starts when its work is issued and
 * is awaited only once the next batch's work is issued, so that a GPU computes one batch while the host issues
 * the next. Awaiting each read before issuing more work leaves the GPU idle while the host works, and the other
 * way round (`melanoma bench` reports train images/s both ways). On wasm and cpu a read is ready at once, and
 * this changes nothing. Disposes the tensors it reads.
 */
import type * as tf from '@tensorflow/tfjs-core';

export class LaggedReads {
  private pending: { tensor: tf.Tensor; values: Promise<unknown>; at: number } | null = null;

  constructor(readonly into: Float32Array) {}

  /** Starts reading `tensor` into `into` at offset `at`; finishes the previous read. */
  async push(tensor: tf.Tensor, at: number): Promise<void> {
    const values = tensor.data();
    // A read that fails is reported by flush; until then it must not count as an unhandled rejection.
    values.catch(() => undefined);
    await this.flush();
    this.pending = { tensor, values, at };
  }

  /** Finishes the last read; `into` is complete after it. */
  async flush(): Promise<void> {
    if (this.pending === null) return;
    const { tensor, values, at } = this.pending;
    this.pending = null;
    try {
      this.into.set((await values) as Float32Array, at);
    } finally {
      tensor.dispose();
    }
  }
}
