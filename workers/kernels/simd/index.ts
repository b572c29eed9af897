/**
 * The WebAssembly SIMD training kernels of kernels.c, run on the tfjs wasm backend's own memory: the module
 * imports that memory, so a kernel reads its inputs and writes its output where tfjs keeps the tensors, with
 * no copies. One instance per backend (per thread), made on first use. Pointers are byte offsets into the heap;
 * scratch space comes from tfjs' malloc and is freed when the kernel returns.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const WASM_PATH = resolve(import.meta.dirname, 'kernels.wasm');
/** The module's shadow stack (its C code keeps nothing there today; this is room should the compiler spill). */
const STACK_BYTES = 64 * 1024;
const DATA_SECTION = 11;

type Ptr = number;
interface Exports {
  __stack_pointer: WebAssembly.Global;
  gemm_tn(a: Ptr, b: Ptr, p: number, m: number, n: number, acc: Ptr, out: Ptr): void;
  depthwise_filter_grad(
    x: Ptr,
    dy: Ptr,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    sh: number,
    dh: number,
    dw: number,
    top: number,
    left: number,
    kh: number,
    kw: number,
    rows: Ptr,
    acc: Ptr,
    out: Ptr,
  ): void;
  max_pool_grad_2x2(x: Ptr, dy: Ptr, dx: Ptr, n: number, h: number, w: number, c: number, oh: number, ow: number): void;
  sum_outer(x: Ptr, p: number, k: number, part: Ptr, acc: Ptr, out: Ptr): void;
  depthwise_conv(
    x: Ptr,
    w: Ptr,
    out: Ptr,
    n: number,
    h: number,
    w_: number,
    c: number,
    oh: number,
    ow: number,
    sh: number,
    dh: number,
    dw: number,
    top: number,
    left: number,
    kh: number,
    kw: number,
    rotate: number,
    wrows: Ptr,
  ): void;
  gemm_nn(a: Ptr, b: Ptr, bk: number, bn: number, bias: Ptr, relu: number, p: number, k: number, n: number, bp: Ptr, out: Ptr): void;
  max_pool_2x2(x: Ptr, out: Ptr, n: number, h: number, w: number, c: number, oh: number, ow: number): void;
  relu_grad(dy: Ptr, x: Ptr, dx: Ptr, n: number): void;
  add_bias(x: Ptr, bias: Ptr, out: Ptr, p: number, k: number): void;
}

/** What the emscripten module of tfjs-backend-wasm exposes beyond its typings. */
interface EmscriptenModule {
  asm: { memory: WebAssembly.Memory };
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

let compiled: WebAssembly.Module | null = null;

/** Compiles kernels.wasm once per thread, refusing a build with a data segment (it would overwrite tfjs' heap). */
function compile(): WebAssembly.Module {
  if (compiled !== null) return compiled;
  const bytes = readFileSync(WASM_PATH);
  for (const id of sectionIds(bytes)) {
    if (id === DATA_SECTION) throw new Error(`${WASM_PATH} has a data section; it must not write into the memory it imports`);
  }
  compiled = new WebAssembly.Module(bytes);
  return compiled;
}

/** The ids of a wasm binary's sections, in order. */
export function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8; // magic and version
  const next = () => {
    const b = bytes[at++];
    if (b === undefined) throw new Error(`the wasm binary ends inside a section header (byte ${at - 1} of ${bytes.length})`);
    return b;
  };
  while (at < bytes.length) {
    const id = next();
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = next();
      size += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
    }
    ids.push(id);
    at += size;
  }
  return ids;
}

/** The geometry of a depthwise convolution with channel multiplier 1 and horizontal stride 1 (kernels.c). */
export interface DepthwiseGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  outHeight: number;
  outWidth: number;
  strideHeight: number;
  dilationHeight: number;
  dilationWidth: number;
  top: number;
  left: number;
  kh: number;
  kw: number;
}

export class SimdKernels {
  readonly exports: Exports;
  private readonly module: EmscriptenModule;

  constructor(private readonly backend: BackendWasm) {
    this.module = backend.wasm as unknown as EmscriptenModule;
    if (typeof SharedArrayBuffer !== 'undefined' && this.module.asm.memory.buffer instanceof SharedArrayBuffer) {
      // kernels.wasm imports an unshared memory; tfjs' multithreaded build (which cannot start in Node) shares it.
      throw new Error("the wasm training kernels need tfjs' single-threaded wasm build; this one shares its memory between threads");
    }
    const instance = new WebAssembly.Instance(compile(), { env: { memory: this.module.asm.memory } });
    this.exports = instance.exports as unknown as Exports;
    const stack = this.module._malloc(STACK_BYTES);
    this.exports.__stack_pointer.value = (stack + STACK_BYTES) & ~15;
  }

  /** The heap offset of a float32 tensor's data. */
  ptr(info: TensorInfo): Ptr {
    if (info.dtype !== 'float32') throw new Error(`simd kernel: expected float32, got ${info.dtype}`);
    return this.backend.dataIdMap.get(info.dataId)!.memoryOffset;
  }

  /** out = the depthwise convolution of x by filter [kh, kw, C, 1] (rotated by 180 degrees if `rotate`). */
  depthwiseConv(x: TensorInfo, filter: TensorInfo, out: TensorInfo, g: DepthwiseGeometry, rotate: boolean): void {
    this.withScratch([g.kh * g.kw * g.outWidth * g.c * 4], (wrows) =>
      this.exports.depthwise_conv(
        this.ptr(x),
        this.ptr(filter),
        this.ptr(out),
        g.n,
        g.h,
        g.w,
        g.c,
        g.outHeight,
        g.outWidth,
        g.strideHeight,
        g.dilationHeight,
        g.dilationWidth,
        g.top,
        g.left,
        g.kh,
        g.kw,
        rotate ? 1 : 0,
        wrows,
      ),
    );
  }

  /**
   * out [P, N] = a [P, K] x B (+ bias [N], then ReLU if `relu`), where B [K, N] is `b` read with strides
   * (bk, bn): (N, 1) for a row-major [K, N] matrix, (1, K) for the transpose of a row-major [N, K] one.
   */
  gemmNN(
    a: TensorInfo,
    b: TensorInfo,
    transposeB: boolean,
    out: TensorInfo,
    p: number,
    k: number,
    n: number,
    epilogue: { bias?: TensorInfo; relu?: boolean } = {},
  ): void {
    const [bk, bn] = transposeB ? [1, k] : [n, 1];
    const bias = epilogue.bias === undefined ? 0 : this.ptr(epilogue.bias);
    this.withScratch([(k + 1) * (Math.ceil(n / 4) * 4) * 4], (bp) =>
      this.exports.gemm_nn(this.ptr(a), this.ptr(b), bk, bn, bias, epilogue.relu ? 1 : 0, p, k, n, bp, this.ptr(out)),
    );
  }

  /** Runs `f` with scratch blocks of the given byte sizes (8-byte aligned), freeing them afterwards. */
  withScratch<T>(bytes: number[], f: (...ptrs: Ptr[]) => T): T {
    const ptrs = bytes.map((b) => this.module._malloc(Math.max(8, b)));
    try {
      const failed = ptrs.indexOf(0);
      if (failed >= 0) throw new Error(`simd kernel: out of wasm memory for ${bytes[failed]} bytes of scratch space`);
      return f(...ptrs);
    } finally {
      for (const p of ptrs) if (p !== 0) this.module._free(p);
    }
  }
}

const instances = new WeakMap<BackendWasm, SimdKernels>();

export function simdKernels(backend: BackendWasm): SimdKernels {
  let k = instances.get(backend);
  if (k === undefined) {
    k = new SimdKernels(backend);
    instances.set(backend, k);
  }
  return k;
}
