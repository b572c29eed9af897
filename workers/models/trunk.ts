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
import { at, first } from '../../common/indexing.ts';

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
  const nodeOf = (layer: (typeof layers)[number]) => layer.inboundNodes[0]!; // exactly one, checked above
  const [boundary, ...otherInputs] = nodeOf(first(above, 'trainable layer')).inputTensors;
  if (boundary === undefined || otherInputs.length > 0) return null;
  // Every layer above reads the boundary or what the layers above it make: no other frozen tensor crosses.
  const made = new Set([boundary.id]);
  for (const layer of above) {
    if (!nodeOf(layer).inputTensors.every((t) => made.has(t.id))) return null;
    for (const t of nodeOf(layer).outputTensors) made.add(t.id);
  }
  const [output, ...otherOutputs] = base.outputs;
  if (output === undefined || otherOutputs.length > 0 || output === boundary || !made.has(output.id)) return null;

  const trunk = tfl.model({ inputs: base.inputs, outputs: boundary, name: `${base.name}_trunk` });
  const input = tfl.input({ shape: boundary.shape.slice(1) as number[] });
  const applied = new Map([[boundary.id, input]]);
  for (const layer of above) {
    const inputs = nodeOf(layer).inputTensors.map((t) => applied.get(t.id)!); // each made by a layer before it
    const outputs = layer.apply(inputs.length === 1 ? inputs[0]! : inputs) as tfl.SymbolicTensor | tfl.SymbolicTensor[];
    const outs = Array.isArray(outputs) ? outputs : [outputs];
    for (const [i, t] of nodeOf(layer).outputTensors.entries()) applied.set(t.id, at(outs, i, `output of ${layer.name}`));
  }
  return { trunk, rest: tfl.model({ inputs: input, outputs: applied.get(output.id)!, name: `${base.name}_rest` }) };
}
