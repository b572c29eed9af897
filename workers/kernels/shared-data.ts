/**
 * Identity, and Cast to the tensor's own dtype, for wasm without copying: the output shares the input's data
 * (a reference more on it), as on the cpu and webgl backends; tfjs kernels never write into their inputs. The
 * stock wasm kernels copy, and tfjs-layers and the ReLU gradient call them on every activation of a training
 * step (up to 0.3 s of copies per baseline step at 224 px, batch 32).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CastAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

function share(backend: BackendWasm, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export function identityWasmConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; backend: BackendWasm }) =>
    args.inputs.x.dtype === 'string' ? stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) : share(args.backend, args.inputs.x);
  return { kernelName: tf.Identity, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function castWasmConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; attrs: CastAttrs; backend: BackendWasm }) =>
    args.inputs.x.dtype === args.attrs.dtype && args.attrs.dtype !== 'string'
      ? share(args.backend, args.inputs.x)
      : stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
  return { kernelName: tf.Cast, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
