#!/usr/bin/env bash
# One-shot GPU check (issue 16.5): parity and benchmarks of the key models on torch `cuda` and
# `onnxruntime:cuda` (the GPU build of ONNX Runtime, the `cuda` extra) in fp32 / fp16 / bf16, plus torch
# cpu fp32 for the speed-up column, in under 8 minutes; prints one platform x precision table per model.
#
#   benchmarks/device_check.sh [OUT_DIR]          (default: ./device-check)
#
# Environment: PYTHON (default python3), MODELS (default bert,vit,whisper,gpt2,clip), ROUNDS (default 50),
# VENV (default OUT_DIR/venv; an existing one is reused), PIP_ARGS (e.g. --no-index --find-links=wheels/ offline).
# Without a GPU it says so in one line and exits 0 (nothing to check here); a failed install exits 2.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mkdir -p "${1:-device-check}" && cd "${1:-device-check}" && pwd)"
python="${PYTHON:-python3}"
venv="${VENV:-$out/venv}"
models="${MODELS:-bert,vit,whisper,gpt2,clip}"
rounds="${ROUNDS:-50}"
started=$SECONDS

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "device_check: no NVIDIA GPU here (nvidia-smi missing or lists no device): nothing to check; run it on a GPU machine"
    exit 0
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/device_check: GPU /'

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
# the GPU build replaces the CPU wheel: both install the same `onnxruntime` module
if ! { "$venv/bin/pip" install -q ${PIP_ARGS:-} -e "$root[test,cuda]" &&
       "$venv/bin/pip" uninstall -q -y onnxruntime onnxruntime-qnn >/dev/null 2>&1;
       "$venv/bin/pip" install -q ${PIP_ARGS:-} --force-reinstall --no-deps onnxruntime-gpu; }; then
    echo "device_check: installing $root[test,cuda] into $venv failed (see pip's output above)"
    exit 2
fi
echo "device_check: installed in $((SECONDS - started)) s"

"$venv/bin/python" - <<'EOF' || { echo "device_check: torch or onnxruntime-gpu cannot see the GPU (above)"; exit 0; }
import onnxruntime, torch
assert torch.cuda.is_available(), f"torch {torch.__version__}: torch.cuda.is_available() is False"
assert "CUDAExecutionProvider" in onnxruntime.get_available_providers(), onnxruntime.get_available_providers()
print(f"device_check: torch {torch.__version__} on {torch.cuda.get_device_name()}, onnxruntime {onnxruntime.__version__}")
EOF

left=$((480 - (SECONDS - started)))
if [ "$left" -lt 60 ]; then
    echo "device_check: the install took $((SECONDS - started)) s; under a minute of the 8 left for the checks"
    exit 0
fi
cd "$root"
timeout "$left" "$venv/bin/python" benchmarks/precision_sweep.py --models "$models" \
    --hw cpu,cuda,onnxruntime:cuda --precisions fp32,fp16,bf16 --rounds "$rounds" --out "$out" ||
    echo "device_check: the sweep stopped (status $?) after $((SECONDS - started)) s; partial rows are in $out/precision.duckdb"
echo "device_check: done in $((SECONDS - started)) s"
