/**
 * ImageBatch (new): a batch of images from uint8 bytes to float32 input in [0, 1], augmented when given each
 * image's source map. Inputs {bytes: int32, the NHWC bytes packed four to a value; maps?: float32 [n, 8]}, attrs
 * {shape}. Registered for webgpu (wgsl/image-batch.ts), where expanding and augmenting on the CPU could not keep
 * up with the GPU; workers/train/image-tensor.ts uses it wherever it is registered.
 */
import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { TO_UNIT } from '../../study/data/pixels.ts';
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
