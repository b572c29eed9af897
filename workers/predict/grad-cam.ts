/**
 * Grad-CAM (Selvaraju et al. 2017): where a model looks when it calls an image malignant. For the activations A
 * (h x w x k) of the model's last convolution layer and the logit z of its output (the sigmoid's input, whose
 * gradient does not vanish where the probability saturates):
 *   alpha_k = mean over (i, j) of dz/dA_ijk,   map_ij = relu(sum_k alpha_k A_ijk).
 *
 * The models are chains of units: layers, a pretrained base (one unit, its output the activation of its last
 * convolution), and the head's layers. The last convolution layer is the last unit that is a convolution or such a
 * base: the baseline's last separable block (separable_conv2d_3), Xception's block14_sepconv2_act, MobileNetV2's
 * out_relu. The last unit must be a Dense(1, sigmoid), whose pre-activation is the logit.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type Layer = tfl.layers.Layer;

export interface GradCam {
  /** relu(sum_k alpha_k A_k), row-major, `height` x `width`: the target layer's grid, not normalised. */
  map: Float32Array;
  height: number;
  width: number;
  /** The layer whose activations the map weighs. */
  layer: string;
  logit: number;
  probability: number;
}

/** The model as the two halves around its last convolution layer. */
export interface CamSplit {
  layer: string;
  toActivations(x: tf.Tensor): tf.Tensor;
  toLogit(activations: tf.Tensor): tf.Tensor;
}

const isInput = (l: Layer) => l.getClassName() === 'InputLayer';
const isConvolution = (l: Layer) => /Conv[123]D$/.test(l.getClassName());

/** A nested model each of whose layers is fed by the one before only (a head), as opposed to a base with branches. */
function isChain(model: tfl.LayersModel): boolean {
  const layers = model.layers;
  return layers.every((l, i) =>
    i === 0 ? isInput(l) : l.inboundNodes.some((node) => node.inboundLayers.length === 1 && node.inboundLayers[0] === layers[i - 1]),
  );
}

/** The model's units in order, nested chains opened up. */
function units(model: tfl.LayersModel): Layer[] {
  return model.layers.filter((l) => !isInput(l)).flatMap((l) => (l instanceof tfl.LayersModel && isChain(l) ? units(l) : [l]));
}

export function camSplit(model: tfl.LayersModel): CamSplit {
  if (!isChain(model)) throw new Error(`${model.name}: Grad-CAM here needs a model whose layers form a chain`);
  const all = units(model);
  const target = all.map((l) => isConvolution(l) || l instanceof tfl.LayersModel).lastIndexOf(true);
  if (target < 0) throw new Error(`${model.name} has no convolution layer`);
  const unit = all[target]!; // target >= 0
  const last = all.at(-1)!; // the target is one of them
  const config = last.getConfig();
  if (last.getClassName() !== 'Dense' || config.activation !== 'sigmoid' || config.units !== 1 || config.useBias === false) {
    throw new Error(`${model.name}: its output is a ${last.getClassName()}, not the Dense(1, sigmoid) Grad-CAM takes the logit of`);
  }
  const apply = (layers: Layer[], x: tf.Tensor) => layers.reduce((t, l) => l.apply(t, { training: false }) as tf.Tensor, x);
  const between = all.slice(target + 1, -1);
  return {
    layer: unit instanceof tfl.LayersModel ? unit.layers.at(-1)!.name : unit.name, // a model has layers
    toActivations: (x) => apply(all.slice(0, target + 1), x),
    toLogit: (a) => {
      const [kernel, bias] = last.getWeights() as [tf.Tensor2D, tf.Tensor1D]; // a Dense with a bias
      return tf.add(tf.matMul(apply(between, a) as tf.Tensor2D, kernel), bias);
    },
  };
}

/** Grad-CAM of one image (`x`: [1, size, size, 3], as the model takes it). */
export async function gradCam(split: CamSplit, x: tf.Tensor): Promise<GradCam> {
  if (x.rank !== 4 || x.shape[0] !== 1) throw new RangeError(`Grad-CAM takes one image [1, h, w, 3], got [${x.shape.join(', ')}]`);
  const [map, logit] = tf.tidy(() => {
    const a = split.toActivations(x);
    if (a.rank !== 4) throw new Error(`${split.layer} gives rank-${a.rank} activations, not a grid`);
    const dzda = tf.grad((t: tf.Tensor) => tf.sum(split.toLogit(t)))(a);
    const alpha = tf.mean(dzda, [1, 2], true);
    return [tf.relu(tf.sum(tf.mul(a, alpha), -1)), tf.reshape(split.toLogit(a), [])];
  });
  const [values, z] = await Promise.all([map.data() as Promise<Float32Array>, logit.data()]);
  const [, height = 0, width = 0] = map.shape;
  const zz = z[0]!; // a scalar
  tf.dispose([map, logit]);
  return { map: values, height, width, layer: split.layer, logit: zz, probability: 1 / (1 + Math.exp(-zz)) };
}
