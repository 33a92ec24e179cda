#!/usr/bin/env bash
# The whole GPU check in one go, for a machine with an NVIDIA GPU (about 8 minutes):
#   1. the device test subset on the real GPU (STEEPEST_TEST_DEVICE=cuda): the oracle op
#      suite, the device module, the GPU-only tests;
#   2. the GPU benchmark against PyTorch CUDA eager (benchmarks/gpu.py).
# Needs python3 with numpy, CuPy and CUDA torch already installed (pip install
# "steepest[gpu]" where pip can download; the script installs nothing). Results go to $1,
# else $OUT, else ./gpu-results: tests.txt, gpu.json, gpu.md, env.txt.
# Run from the repository root: bash benchmarks/gpu_run.sh [FOLDER]
set -u
RESULTS="${1:-${OUT:-gpu-results}}"
mkdir -p "$RESULTS"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
PY="${PYTHON:-python3}"
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | head -3
  "$PY" -c "import numpy, cupy, torch; print('numpy', numpy.__version__, '| cupy', cupy.__version__, '| torch', torch.__version__, 'cuda', torch.cuda.is_available())"
  "$PY" -c "import steepest as st; print('steepest sees', st.cuda.device_count(), 'GPU(s)')"
} > "$RESULTS/env.txt" 2>&1
cat "$RESULTS/env.txt"

echo "== device tests (STEEPEST_TEST_DEVICE=cuda)"
# -p no:cacheprovider: the tree may be read-only; plugins off that a bare machine may lack
STEEPEST_TEST_DEVICE=cuda timeout 300 "$PY" -m pytest -p no:cacheprovider -o addopts="" \
  -q --maxfail=30 -rfEs --continue-on-collection-errors \
  tests/test_device_standin.py tests/test_backend.py tests/test_ops.py \
  tests/nn/test_activations.py tests/test_autograd.py tests/semantics \
  2>&1 | tail -60 > "$RESULTS/tests.txt"
echo "pytest exit status: ${PIPESTATUS[0]}" >> "$RESULTS/tests.txt"
tail -15 "$RESULTS/tests.txt"

echo "== GPU benchmark"
timeout 240 "$PY" -m benchmarks.gpu --out "$RESULTS" 2>&1 | tee "$RESULTS/benchmark.txt"
echo "done: $RESULTS"
