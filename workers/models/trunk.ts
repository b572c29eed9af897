/**
 * The frozen trunk of a pretrained base: the layers below the first one that trains. A base always runs in
 * inference mode, so without augmentation its frozen layers give every image the same activations every epoch:
 * a run computes them once (workers/train/inputs.ts featureSource) and trains only what lies above.
 *
 * - Base entirely frozen (`xception`, `mobilenet`): the trunk is the whole base; nothing of it remains above.
 * - Base with a trainable last stage (`xception-ft`: block14; `mobilenet-ft`: its last block): the trunk ends
 *   where that stage starts. The layers from there on must form a plain chain, each fed only by the one before
 *   (true of both models); `rest` re-applies those same layers, sharing their weights, to the trunk's output.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { first, last } from '../../common/indexing.ts';

export interface FrozenTrunk {
  /** Images -> activations of the last frozen layer. */
  trunk: tfl.LayersModel;
  /** The trunk's activations -> the base's output, through the trainable layers; null when none are left. */
  rest: tfl.LayersModel | null;
}

// One split per base: `rest` re-applies the chain's layers, which a second split would find fed twice.
const splits = new WeakMap<tfl.LayersModel, FrozenTrunk | null>();

/** The base's frozen trunk and the layers above it, or null when the trainable layers are not a plain chain. */
export function frozenTrunk(base: tfl.LayersModel): FrozenTrunk | null {
  if (!splits.has(base)) splits.set(base, split(base));
  return splits.get(base)!;
}

function split(base: tfl.LayersModel): FrozenTrunk | null {
  if (base.trainableWeights.length === 0) return { trunk: base, rest: null };
  const layers = base.layers;
  const chain = layers.slice(layers.findIndex((l) => l.trainableWeights.length > 0));
  for (const [i, layer] of chain.entries()) {
    if (layer.inboundNodes.length !== 1) return null;
    const inbound = layer.inboundNodes[0]!.inboundLayers; // exactly one node, checked above
    if (inbound.length !== 1 || (i > 0 && inbound[0] !== chain[i - 1])) return null;
  }
  if (base.outputs.length !== 1 || base.outputs[0] !== last(chain, 'trainable layer').output) return null;

  const trunk = tfl.model({ inputs: base.inputs, outputs: first(chain, 'trainable layer').input as tfl.SymbolicTensor, name: `${base.name}_trunk` });
  const input = tfl.input({ shape: first(trunk.outputs, 'trunk output').shape.slice(1) as number[] });
  let x: tfl.SymbolicTensor = input;
  for (const layer of chain) x = layer.apply(x) as tfl.SymbolicTensor;
  return { trunk, rest: tfl.model({ inputs: input, outputs: x, name: `${base.name}_rest` }) };
}
