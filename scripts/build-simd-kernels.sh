#!/usr/bin/env bash
# `npm run build:kernels`: builds workers/kernels/simd/kernels.wasm from kernels.c with Debian's clang and lld
# (apt-get install clang-14 lld-14). The .wasm is committed so that installing the project needs no C compiler;
# `--check` rebuilds into a temporary file and fails if it differs from the committed one (CI runs it).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
src="$here/workers/kernels/simd/kernels.c"
dest="$here/workers/kernels/simd/kernels.wasm"
clang="$(command -v clang-14 || command -v clang)"
out="$dest"
if [[ "${1:-}" == "--check" ]]; then out="$(mktemp --suffix=.wasm)"; fi
# --import-memory: the module works on the tfjs wasm backend's memory; bulk memory turns any memset/memcpy the
# compiler emits into instructions (there is no libc); the stack pointer is exported so that the loader can
# point it at a block of its own.
"$clang" --target=wasm32 -O3 -msimd128 -mbulk-memory -mmutable-globals -nostdlib -ffreestanding -fno-exceptions \
  -Wall -Wextra -Werror -Wno-unused-parameter \
  -Wl,--no-entry -Wl,--import-memory -Wl,--export=__stack_pointer -Wl,--strip-all -fuse-ld=lld \
  -o "$out" "$src"
if [[ "$out" != "$dest" ]]; then
  if ! cmp -s "$out" "$dest"; then
    echo "workers/kernels/simd/kernels.wasm is not the build of kernels.c: run scripts/build-simd-kernels.sh and commit it" >&2
    rm -f "$out"; exit 1
  fi
  rm -f "$out"; echo "kernels.wasm matches kernels.c"
fi
