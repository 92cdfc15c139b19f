#!/usr/bin/env bash
# The GPU checks, as one prepared run on a lent GPU machine (15 minutes of device time in all, 10 per command):
# the gpu-marked tests, LoRA's dtype copies timed, and the training-throughput comparison against the padded
# Trainer + PEFT baseline. Every step has its own time limit; what each writes lands in $OUT (or bench/results).
#
# Here, first: bash bench/gpu_wheels.sh
# Then, through the device tool: run(command="bash bench/gpu_checks.sh", carry=[".whl"], timeout_s=590)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  if ls .whl/sdist/deepspeed-*.tar.gz >/dev/null 2>&1; then
    DS_BUILD_OPS=0 python3 -m pip install -q --no-index --no-deps --no-build-isolation --target /tmp/site \
      .whl/sdist/deepspeed-*.tar.gz || echo "deepspeed did not install; its tests will skip"
  fi
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
python3 - <<'PY' | tee "$OUT/versions.txt"
import importlib, torch
print("gpu", torch.cuda.get_device_name() if torch.cuda.is_available() else "none", "torch", torch.__version__)
for name in ("transformers", "peft", "accelerate", "datasets", "liger_kernel", "deepspeed", "bitsandbytes", "flash_attn"):
    try:
        print(name, getattr(importlib.import_module(name), "__version__", "?"))
    except Exception as e:  # noqa: BLE001
        print(name, "missing:", type(e).__name__)
PY

step() {  # step NAME SECONDS COMMAND...: run with a limit, log to $OUT/NAME.log
  local name=$1 limit=$2
  shift 2
  echo "== $name (limit ${limit}s)"
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  echo "   exit $? ($(tail -n 1 "$OUT/$name.log" | cut -c1-160))"
}

step gpu_tests 120 python3 -m pytest -q -m gpu -p no:cacheprovider --timeout 120 \
  tests/unit/train/test_activation_offload.py tests/unit/compat/test_accelerate.py tests/integration/test_export_quant.py \
  tests/integration/test_distributed.py
step adapter_casts 45 python3 bench/adapter_casts.py --hidden 1536 --inter 8960 --layers 28 --tokens 2400 \
  --out "$OUT/adapter_casts.json"
step throughput_1.5b_lora 130 python3 bench/train_throughput.py --size 1.5b --train lora --out "$OUT/throughput.jsonl"
step throughput_0.5b_full 100 python3 bench/train_throughput.py --size 0.5b --train full --out "$OUT/throughput.jsonl"
step throughput_7b_lora 150 python3 bench/train_throughput.py --size 7b --train lora --out "$OUT/throughput.jsonl"
echo "done"
