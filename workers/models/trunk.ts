/**
 * The frozen trunk of a pretrained base: the layers below the first one that trains. A base always runs in
 * inference mode, so without augmentation its frozen layers give every image the same activations every epoch:
 * a run computes them once (workers/train/inputs.ts featureSource) and trains only what lies above.
 *
 * - Base entirely frozen (`xception`, `mobilenet`): the trunk is the whole base; nothing of it remains above.
 * - Base with trainable last stages (`xception-ft`: block14; `mobilenet-ft`: its last block; `mobilenet-ft2`: its
 *   last two stages): the trunk ends where the first trainable layer starts. The layers from there on must read
 *   nothing of the trunk but that one tensor (residual joins among themselves are fine, a skip connection from
 *   below is not); `rest` re-applies those same layers, sharing their weights, to the trunk's output.
 */
import * as tfl from '@tensorflow/tfjs-layers';

export interface FrozenTrunk {
  /** Images -> activations of the last frozen layer. */
  trunk: tfl.LayersModel;
  /** The trunk's activations -> the base's output, through the trainable layers; null when none are left. */
  rest: tfl.LayersModel | null;
}

// One split per base: `rest` re-applies the chain's layers, which a second split would find fed twice.
const splits = new WeakMap<tfl.LayersModel, FrozenTrunk | null>();

/** The base's frozen trunk and the layers above it, or null when more than one tensor of the trunk feeds them. */
export function frozenTrunk(base: tfl.LayersModel): FrozenTrunk | null {
  if (!splits.has(base)) splits.set(base, split(base));
  return splits.get(base)!;
}

function split(base: tfl.LayersModel): FrozenTrunk | null {
  if (base.trainableWeights.length === 0) return { trunk: base, rest: null };
  const layers = base.layers;
  const above = layers.slice(layers.findIndex((l) => l.trainableWeights.length > 0));
  if (above.some((l) => l.inboundNodes.length !== 1)) return null;
  const boundary = above[0].inboundNodes[0].inputTensors;
  if (boundary.length !== 1) return null;
  // Every layer above reads the boundary or what the layers above it make: no other frozen tensor crosses.
  const made = new Set([boundary[0].id]);
  for (const layer of above) {
    if (!layer.inboundNodes[0].inputTensors.every((t) => made.has(t.id))) return null;
    for (const t of layer.inboundNodes[0].outputTensors) made.add(t.id);
  }
  if (base.outputs.length !== 1 || base.outputs[0] === boundary[0] || !made.has(base.outputs[0].id)) return null;

  const trunk = tfl.model({ inputs: base.inputs, outputs: boundary[0], name: `${base.name}_trunk` });
  const input = tfl.input({ shape: boundary[0].shape.slice(1) as number[] });
  const applied = new Map([[boundary[0].id, input]]);
  for (const layer of above) {
    const inputs = layer.inboundNodes[0].inputTensors.map((t) => applied.get(t.id)!);
    const outputs = layer.apply(inputs.length === 1 ? inputs[0] : inputs) as tfl.SymbolicTensor | tfl.SymbolicTensor[];
    const outs = Array.isArray(outputs) ? outputs : [outputs];
    for (const [i, t] of layer.inboundNodes[0].outputTensors.entries()) applied.set(t.id, outs[i]);
  }
  return { trunk, rest: tfl.model({ inputs: input, outputs: applied.get(base.outputs[0].id)!, name: `${base.name}_rest` }) };
}
