#!/usr/bin/env bash
# Fetches, into .whl/, the wheels scripts/gpu_check.sh needs on a GPU machine that has torch,
# numpy, tokenizers, safetensors, rich, pyarrow, psutil, scikit-learn and pytest but not the
# project's other dependencies (Python 3.12, x86-64). Run where PyPI is reachable.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_17_x86_64 --platform any -d .whl \
  platformdirs tomli-w
ls .whl
