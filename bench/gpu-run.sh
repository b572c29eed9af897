#!/bin/bash
# On the GPU machine, after `npm run bundle:gpu` here and with .gpu carried there:
#   bash .gpu/run.sh bash bench/gpu-run.sh
# (.gpu/run.sh unpacks node, the Vulkan loader and dawn.node and sets DAWN_NODE.) Runs the tfjs webgpu benchmark
# (baseline 224 px batch 32, Xception 224 px batch 16) and then PyTorch on the same GPU with the same shapes;
# writes tfjs.json, torch-baseline.json, torch-xception.json and their logs under $OUT. SIZE, BASELINE_BATCH,
# XCEPTION_BATCH, STEPS override the shapes (small ones for a check on lavapipe); PYTHON names a python3 with torch.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$here/.gpu/out}
mkdir -p "$out"
python=${PYTHON:-python3}
size=${SIZE:-224} bb=${BASELINE_BATCH:-32} xb=${XCEPTION_BATCH:-16} steps=${STEPS:-5}
status=0

node "$here/.gpu/app.cjs" --size "$size" --baseline-batch "$bb" --xception-batch "$xb" --steps "$steps" \
  > "$out/tfjs.json" 2> "$out/tfjs.log" || status=1
echo "tfjs webgpu: $(cat "$out/tfjs.json")"

for model in baseline xception; do
  batch=$bb; [ "$model" = xception ] && batch=$xb
  "$python" "$here/bench/torch_reference.py" --model "$model" --image-size "$size" --batch-size "$batch" --steps "$steps" \
    > "$out/torch-$model.json" 2> "$out/torch-$model.log" || status=1
  echo "torch $model: $(cat "$out/torch-$model.json")"
done
exit $status
