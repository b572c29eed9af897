/**
 * A pointwise (1x1, stride 1) convolution with few input channels -- the baseline's first pointwise layer
 * reads the 3 channels of the depthwise output -- plus its bias and ReLU: each thread computes 4 neighbouring
 * output channels of one pixel as a vec4. The stock webgpu kernel runs it as a tiled matrix product whose tiles
 * are 32 deep, so with 3 input channels most of its work is padding. Its input gradient likewise.
 */
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { runWgsl } from './run.ts';

/** Up to this many input channels the direct kernel beats the tiled product. */
export const POINTWISE_MAX_CHANNELS = 8;

const main = (cin: number, bias: boolean, relu: boolean) => /* wgsl */ `
fn main(index : i32) {
  if (index >= uniforms.threads) { return; }
  let quads = uniforms.outChannels / 4;
  let q = index % quads;
  let pixel = index / quads;
  var acc = ${bias ? 'bias[q]' : 'vec4<f32>(0.0)'};
  for (var k = 0; k < ${cin}; k++) {
    acc += x[pixel * ${cin} + k] * w[k * quads + q];
  }
  result[index] = ${relu ? 'max(acc, vec4<f32>(0.0))' : 'acc'};
}`;

/** out [N, H, W, cout] = x [N, H, W, cin] W [cin, cout] (+ bias) (ReLU); cin <= 8, cout a multiple of 4. */
export function pointwiseConv(
  backend: WebGPUBackend,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | undefined,
  relu: boolean,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { inChannels: cin, outChannels } = info;
  const inputs: Record<string, TensorInfo> = { x, w: filter };
  if (bias !== undefined) inputs.bias = bias;
  return runWgsl(backend, {
    key: `pointwise_conv_${cin}_${bias !== undefined}_${relu}`,
    inputs,
    outputShape: info.outShape,
    components: { output: 4, inputs: { x: 1, w: 4, bias: 4 } },
    threads: (info.batchSize * info.outHeight * info.outWidth * outChannels) / 4,
    uniforms: { outChannels },
    main: main(cin, bias !== undefined, relu),
  });
}

const inputGradMain = (cin: number) => /* wgsl */ `
fn main(index : i32) {
  if (index >= uniforms.threads) { return; }
  let quads = uniforms.outChannels / 4;
  var acc : array<f32, ${cin}>;
  for (var q = 0; q < quads; q++) {
    let g = dy[index * quads + q];
    for (var k = 0; k < ${cin}; k++) {
      acc[k] += dot(g, w[k * quads + q]);
    }
  }
  for (var k = 0; k < ${cin}; k++) {
    result[index * ${cin} + k] = acc[k];
  }
}`;

/**
 * The input gradient of the same convolution, dx [N, H, W, cin] = dy W^T: a thread per pixel reads its row of dy
 * as vec4s and keeps the cin sums in registers (cin <= 8, cout a multiple of 4).
 */
export function pointwiseConvInputGrad(backend: WebGPUBackend, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { inChannels: cin, outChannels } = info;
  return runWgsl(backend, {
    key: `pointwise_conv_input_grad_${cin}`,
    inputs: { dy, w: filter },
    outputShape: info.inShape,
    components: { output: 1, inputs: { dy: 4, w: 4 } },
    threads: info.batchSize * info.inHeight * info.inWidth,
    uniforms: { outChannels },
    main: inputGradMain(cin),
  });
}
