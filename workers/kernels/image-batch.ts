/**
 * ImageBatch (new): a batch of images from uint8 bytes to float32 input in [0, 1], augmented when given each
 * image's source map. Inputs {bytes: int32, the NHWC bytes packed four to a value; maps?: float32 [n, 8]}, attrs
 * {shape}. Registered for webgpu (wgsl/image-batch.ts), where expanding and augmenting on the CPU could not keep
 * up with the GPU; workers/train/image-tensor.ts uses it wherever it is registered.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { TO_UNIT } from '../data/pixels.ts';
import { imageBatch } from './wgsl/image-batch.ts';

export const IMAGE_BATCH = 'ImageBatch';

// The v / 255 table on each device, uploaded once and kept.
const unitTables = new WeakMap<WebGPUBackend, TensorInfo>();

export const imageBatchWebgpuConfig: KernelConfig = {
  kernelName: IMAGE_BATCH,
  backendName: 'webgpu',
  kernelFunc: (({ inputs, attrs, backend }: { inputs: NamedTensorInfoMap; attrs: { shape: number[] }; backend: unknown }) => {
    const webgpu = backend as WebGPUBackend;
    let unit = unitTables.get(webgpu);
    if (unit === undefined) {
      unit = webgpu.makeTensorInfo([TO_UNIT.length], 'float32', TO_UNIT.slice());
      unitTables.set(webgpu, unit);
    }
    return imageBatch(webgpu, inputs.bytes as TensorInfo, unit, (inputs.maps as TensorInfo | undefined) ?? null, attrs.shape);
  }) as unknown as KernelFunc,
};

// One upload buffer per device and byte size (a run has a few batch sizes: the full one and each split's last).
const uploadBuffers = new WeakMap<WebGPUBackend, Map<number, GPUBuffer>>();

/**
 * `values` as a 1-D tensor on the current webgpu device, for the inputs of ImageBatch. tfjs' own upload (a
 * tensor made from a typed array) creates a new mapped staging buffer for every tensor: 20 ms for one batch's
 * 4.8 MB of bytes on Dawn here, where queue.writeBuffer into a kept buffer takes 0.4 ms. tfjs copies that buffer
 * into a tensor of its own and submits the copy at once, so the next write to it cannot overtake the copy.
 */
export function uploadToDevice(values: Int32Array<ArrayBuffer> | Float32Array<ArrayBuffer>): tf.Tensor1D {
  const backend = tf.backend() as WebGPUBackend;
  let buffers = uploadBuffers.get(backend);
  if (buffers === undefined) {
    buffers = new Map();
    uploadBuffers.set(backend, buffers);
  }
  let buffer = buffers.get(values.byteLength);
  if (buffer === undefined) {
    buffer = backend.device.createBuffer({ size: values.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    buffers.set(values.byteLength, buffer);
  }
  backend.device.queue.writeBuffer(buffer, 0, values);
  return tf.tensor({ buffer }, [values.length], values instanceof Int32Array ? 'int32' : 'float32');
}
