#!/usr/bin/env bash
# The GPU check, in one call of at most 8 minutes (README, "Performance"):
#   1. the engine's tests that need CUDA (pytest -m gpu);
#   2. studio bench --device cuda on the bundled man pages (accuracy suite, one repeat);
#   3. scripts/gpu_bench.py on 1,000,000 generated documents: the batch finder's result,
#      AMP on/off, docs/s on the GPU against this machine's CPU, peak memory vs the estimate.
# It needs python3 with a CUDA build of torch, numpy, tokenizers, safetensors, rich, pyarrow,
# psutil and pytest; the project's other dependencies travel as wheels in .whl/
# (scripts/gpu_wheels.sh fetches them). Results go to $OUT (default /tmp/gpu-check-out).
#   DEVICE=cpu DOCS=20000 bash scripts/gpu_check.sh    # the dry run on a machine without one
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-check-out}
DEVICE=${DEVICE:-cuda}
DOCS=${DOCS:-1000000}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 QT_QPA_PLATFORM=offscreen
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/studio-site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/studio-site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export STUDIO_CACHE_DIR=/tmp/studio-gpu-check/cache STUDIO_RUNS_DIR=/tmp/studio-gpu-check/runs
start=$SECONDS
status=0
$PY - <<'PY' 2>&1 | tee "$OUT/environment.txt"
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
if torch.cuda.is_available():
    print("device", torch.cuda.get_device_name(0))
PY

echo "== 1. tests marked gpu"
# the conftest's plugins (pytest-qt, hypothesis) may be missing there: only the engine's
timeout 150 $PY -m pytest -q -m gpu -p no:cacheprovider -o addopts="" \
  tests/engine/test_gpu.py tests/engine/train/test_memory.py 2>&1 | tee "$OUT/gpu_tests.log" || status=1

echo "== 2. studio bench --device $DEVICE on the bundled data ($((SECONDS - start)) s)"
timeout 150 $PY -m studio bench --device "$DEVICE" --repeats 1 --autotune-seconds 0 --json \
  > "$OUT/bench_sample.json" 2> "$OUT/bench_sample.log" || status=1
tail -n 3 "$OUT/bench_sample.log"

echo "== 3. $DOCS generated documents ($((SECONDS - start)) s)"
timeout 240 $PY scripts/gpu_bench.py --out "$OUT" --device "$DEVICE" --docs "$DOCS" \
  2>&1 | tee "$OUT/gpu_bench.log" || status=1

echo "gpu check: $((SECONDS - start)) s, status $status"
exit $status
