/**
 * Keras' SeparableConv2D with a ReLU, computed as a depthwise convolution followed by one fused op: the
 * pointwise convolution, its bias and the ReLU (pointwiseBiasRelu). tfjs-layers runs them as three ops (and
 * tfjs-core's fused conv2d falls back to three while gradients are recorded), each a full pass over the
 * layer's output, the largest tensor of the step: the fused op writes it once, and its gradient reads it once
 * for the ReLU (ReluGrad on wasm and webgpu). Same weights, same names, same serialised class: a model built with it loads
 * and saves as plain SeparableConv2D layers.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { hasReluGrad, RELU_GRAD } from '../kernels/relu-grad.ts';

const POINTWISE = { strides: [1, 1] as [number, number], pad: 'valid' as const, dataFormat: 'NHWC' as const, dimRoundingMode: undefined };

/** dy * step(y) for y = relu(x): y > 0 exactly where x > 0. One kernel on wasm and webgpu, two ops elsewhere. */
function reluGradFromOutput(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (hasReluGrad()) return tf.engine().runKernel(RELU_GRAD, { dy, x: y }) as tf.Tensor;
  return tf.mul(dy, tf.step(y));
}

/** relu(x * W + bias) for x [N, H, W, Cin], a 1x1 filter W [1, 1, Cin, Cout] and bias [Cout]. */
export const pointwiseBiasRelu = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, bias, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.GradSaveFunc];
  const y = tf.engine().runKernel(tf.FusedConv2D, { x, filter: w, bias }, {
    ...POINTWISE,
    dilations: [1, 1],
    activation: 'relu',
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  save([x, w, y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws, ys] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D]; // save([x, w, y]) above
      const g = reluGradFromOutput(dy, ys);
      const dx = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: g, filter: ws }, {
        ...POINTWISE,
        inputShape: xs.shape,
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: xs, dy: g }, {
        ...POINTWISE,
        filterShape: ws.shape,
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
      return [dx, dw, tf.sum(g, [0, 1, 2])];
    },
  };
});

type SeparableConvLayerArgs = Parameters<typeof tfl.layers.separableConv2d>[0];
type SeparableConv2D = ReturnType<typeof tfl.layers.separableConv2d>;
type SeparableConv2DClass = new (args: SeparableConvLayerArgs) => SeparableConv2D;
// tfjs-layers exports the layer's factory, not its class; the class is the constructor of what the factory
// makes. (Named, so that making it leaves tfjs-layers' automatic layer names untouched.)
const SeparableConv2DBase = tfl.layers.separableConv2d({ filters: 1, kernelSize: 1, name: 'separable_conv2d_class' }).constructor as SeparableConv2DClass;

/** The fields of the base layer this one reads (protected in the typings). */
interface SeparableFields {
  rank: number;
  useBias: boolean;
  strides: number[];
  padding: 'valid' | 'same';
  dataFormat: string;
  dilationRate: number[];
  activation: { getClassName(): string } | null;
  depthwiseKernel: { read(): tf.Tensor };
  pointwiseKernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor };
}

class FusedSeparableConv2D extends SeparableConv2DBase {
  static className = 'SeparableConv2D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const f = this as unknown as SeparableFields;
    const fusable = f.rank === 2 && f.useBias && f.dataFormat === 'channelsLast' && f.activation?.getClassName() === 'relu';
    if (!fusable) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const dilation = f.dilationRate.length === 1 ? f.dilationRate[0] : (f.dilationRate as [number, number]);
      const depthwise = tf.depthwiseConv2d(x, f.depthwiseKernel.read() as tf.Tensor4D, f.strides as [number, number], f.padding, 'NHWC', dilation);
      return pointwiseBiasRelu(depthwise, f.pointwiseKernel.read(), f.bias.read());
    });
  }
}

/** tfl.layers.separableConv2d, with the pointwise convolution, bias and ReLU fused when the layer has them. */
export function separableConv2d(args: SeparableConvLayerArgs): SeparableConv2D {
  return new FusedSeparableConv2D(args);
}
