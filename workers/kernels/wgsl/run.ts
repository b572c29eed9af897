/**
 * Runs a WGSL compute shader through tfjs' webgpu backend, so that its output is an ordinary tfjs tensor on the
 * GPU. The backend adds the bindings (`result`, then the inputs by name, as flat arrays), the `uniforms` struct
 * and the `_start` entry point. A program supplies `fn main(index : i32)`, run for `uniforms.threads` indices
 * (one per output element unless the spec says otherwise; the last workgroup runs past the end, so `main`
 * checks). Every constant a shader bakes in must be in its key: the backend caches compiled pipelines by key,
 * input ranks and dtypes. Every input must be read by the shader (a bound input it never reads fails validation).
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/**
 * Threads a pass over a large tensor aims for: about half of what an H100 holds at once (132 SMs, 2,048 threads
 * each), so that a memory-bound pass keeps enough loads in flight to hide their latency. With a quarter of this,
 * each summing four times as much, a reduction over the baseline's first layer at 224 px, batch 32 keeps a large
 * GPU's memory mostly idle. A GPU that holds fewer threads runs the rest in waves; the cost is a larger partial
 * result, at most a few MB.
 */
export const GPU_THREADS = 131072;

export interface WgslSpec {
  /** Names the shader and every constant baked into `main`. */
  key: string;
  inputs: Record<string, TensorInfo>;
  outputShape: number[];
  dtype?: DataType;
  /** i32 uniforms, as `name: value`, in `uniforms.name`. */
  uniforms?: Record<string, number>;
  /** f32 uniforms, likewise (after the i32 ones). */
  floats?: Record<string, number>;
  /** WGSL: `fn main(index : i32) { ... }` plus any helpers. */
  main: string;
  /** Values per element of `result` and of each input's array (vec4 when 4; default 1). */
  components?: { output: number; inputs: Record<string, number> };
  /** How many threads run `main` (default: one per output element). */
  threads?: number;
  workgroupSize?: number;
}

export function runWgsl(backend: WebGPUBackend, spec: WgslSpec): TensorInfo {
  const names = Object.keys(spec.inputs);
  const threads = spec.threads ?? spec.outputShape.reduce((a, b) => a * b, 1);
  const ints: Record<string, number> = { threads, ...spec.uniforms };
  const floats = spec.floats ?? {};
  const declared = [...Object.keys(ints).map((name) => `${name} : i32,`), ...Object.keys(floats).map((name) => `${name} : f32,`)];
  const workgroupSize = spec.workgroupSize ?? 64;
  const program: WebGPUProgram = {
    shaderKey: `melanoma_${spec.key}`,
    outputShape: spec.outputShape,
    variableNames: names,
    uniforms: declared.join(' '),
    workgroupSize: [workgroupSize, 1, 1],
    dispatchLayout: { x: spec.outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(threads / workgroupSize), 1, 1],
    getUserCode: () => spec.main,
  };
  if (spec.components !== undefined) {
    program.outputComponent = spec.components.output;
    program.variableComponents = names.map((n) => spec.components!.inputs[n] ?? 1);
  }
  const uniforms = [
    ...Object.values(ints).map((value) => ({ type: 'int32' as const, data: [value] })),
    ...Object.values(floats).map((value) => ({ type: 'float32' as const, data: [value] })),
  ];
  return backend.runWebGPUProgram(program, Object.values(spec.inputs), spec.dtype ?? 'float32', uniforms);
}
