/**
 * Keras HDF5 weight files (`model.save_weights(...h5)`, the files Keras Applications publishes), read with h5wasm.
 * Layout: the root attribute `layer_names` lists the layers in order; each layer's group has the attribute
 * `weight_names` (e.g. `conv1/kernel:0`) and the tensors at `<layer>/<weight_name>`, i.e.
 * `<layer>/<layer>/<param>:0`. Tensors come back keyed `<layer>/<param>`, the keys `assignWeightsByName` matches.
 * Free of tfjs, so a downloaded file can be checked where no model is built (weights-h5.ts loads it into one).
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { UserError } from '../../common/errors.ts';

export interface H5Tensor {
  layer: string;
  param: string;
  shape: number[];
  values: Float32Array;
}

export interface H5Weights {
  kerasVersion: string | null;
  /** Every layer the file lists, weightless ones included. */
  layerNames: string[];
  tensors: H5Tensor[];
}

type H5wasm = typeof import('h5wasm/node').default;
type H5File = InstanceType<H5wasm['File']>;
type H5Group = InstanceType<H5wasm['Group']>;

/** Loaded on first use: through tsx, importing h5wasm's 4 MB Emscripten module takes seconds. */
export async function loadH5wasm(): Promise<H5wasm> {
  const h5wasm = (await import('h5wasm/node')).default;
  await h5wasm.ready;
  return h5wasm;
}

function stringList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : value == null ? [] : [value];
  return items.map((v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v))).filter((s) => s !== '');
}

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The HDF5 superblock signature sits at byte 0, 512, 1024, 2048, ... (checked up front: HDF5 itself prints a
 * long diagnostic on stderr when asked to open anything else). */
export function hasHdf5Signature(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(SIGNATURE.length);
    for (let offset = 0; offset <= 1 << 20; offset = offset === 0 ? 512 : offset * 2) {
      if (readSync(fd, buf, 0, buf.length, offset) < buf.length) return false;
      if (buf.equals(SIGNATURE)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Opens a file with h5wasm, or throws a UserError naming it when it is missing or not HDF5. */
export async function openH5(path: string): Promise<H5File> {
  if (!existsSync(path)) throw new UserError(`weight file ${path} does not exist.`);
  if (!hasHdf5Signature(path)) throw new UserError(`${path} is not an HDF5 file (no HDF5 signature).`);
  const h5wasm = await loadH5wasm();
  let file: H5File;
  try {
    file = new h5wasm.File(path, 'r');
  } catch (err) {
    throw new UserError(`${path} is not an HDF5 file (${(err as Error).message}).`);
  }
  if (file.file_id < 0n) throw new UserError(`${path} is not an HDF5 file.`);
  return file;
}

export async function readH5Weights(path: string): Promise<H5Weights> {
  const file = await openH5(path);
  const h5wasm = await loadH5wasm();
  try {
    // Whole-model files keep their weights under `model_weights`; weight-only files at the root.
    const nested = file.keys().includes('model_weights') ? file.get('model_weights') : null;
    const root: H5Group = nested instanceof h5wasm.Group ? nested : file;
    if (!('layer_names' in root.attrs)) {
      throw new UserError(`${path} is HDF5 but not a Keras weight file (no layer_names attribute).`);
    }
    const layerNames = stringList(root.attrs.layer_names.value);
    const tensors: H5Tensor[] = [];
    for (const layer of layerNames) {
      const group = root.get(layer);
      if (!(group instanceof h5wasm.Group)) throw new UserError(`${path}: layer ${layer} is listed in layer_names but has no group.`);
      for (const weightName of stringList(group.attrs.weight_names?.value)) {
        const dataset = root.get(`${layer}/${weightName}`);
        if (!(dataset instanceof h5wasm.Dataset)) throw new UserError(`${path}: tensor ${layer}/${weightName} is listed but missing.`);
        const param = weightName.split('/').pop()!.replace(/:\d+$/, '');
        const value = dataset.value;
        const values = value instanceof Float32Array ? value : Float32Array.from(value as ArrayLike<number>);
        tensors.push({ layer, param, shape: [...(dataset.shape ?? [])], values });
      }
    }
    const version = file.attrs.keras_version?.value;
    return { kerasVersion: version == null ? null : String(version), layerNames, tensors };
  } finally {
    file.close();
  }
}
