#!/usr/bin/env bash
# Fetch, here, the Python packages Sartor needs on a GPU machine that has torch, transformers, peft and
# accelerate but cannot reach a package index: wheels for CPython 3.12 x86_64 into .whl/ (ignored by git),
# to travel with the working tree (64 MiB in all) and be installed there by bench/gpu_checks.sh.
#
#   bash bench/gpu_wheels.sh          # datasets and its pure-Python needs, liger-kernel, DeepSpeed (source) and its needs
#   bash bench/gpu_wheels.sh --bnb    # bitsandbytes alone (43 MB: too big to travel with the rest)
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl && mkdir -p .whl/sdist
get() {
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "$@"
}
if [ "${1:-}" = "--bnb" ]; then
  get "bitsandbytes>=0.45"
else
  get datasets dill multiprocess liger-kernel hjson pydantic pydantic-core annotated-types typing-inspection
  python3 -m pip download -q --no-deps --no-binary=:all: -d .whl/sdist deepspeed
fi
du -sh .whl
