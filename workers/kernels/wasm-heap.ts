/**
 * Kernels that loop over tensors in place on the wasm backend's WebAssembly heap. Views are taken after the
 * output is allocated: an allocation can grow the heap, which detaches earlier views.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export function heapView(backend: BackendWasm, info: TensorInfo): Float32Array {
  if (info.dtype !== 'float32') throw new Error(`training kernel: expected float32, got ${info.dtype}`);
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** A new float32 output holding `values`. */
export function outputFrom(backend: BackendWasm, shape: number[], values: Float32Array): TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  heapView(backend, out).set(values);
  return out;
}

/** A new zero-filled float32 output. */
export function zeroOutput(backend: BackendWasm, shape: number[]): TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  heapView(backend, out).fill(0);
  return out;
}
