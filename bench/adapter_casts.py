"""What LoRA's dtype round trips cost: one forward + backward of a bf16 model with float32 LoRA adapters
(PEFT's default) through Sartor's loss, in three ways:

- `no-autocast`: no autocast; PEFT copies each adapter input to float32 and the sum back (what the cheap loss
  route did before it entered the accelerator's autocast);
- `autocast-peft-cast`: under autocast with PEFT's input casting (what the plain Trainer + PEFT runs);
- `autocast-uncast`: under autocast, adapters take the bf16 activations as they are (Sartor's default).

It counts dtype-copy kernels (`aten::_to_copy`) with the torch profiler and, on CUDA, times the step.

    python bench/adapter_casts.py [--hidden 64 --layers 2 --tokens 256]      # CPU: counts only
    python bench/adapter_casts.py --hidden 1536 --inter 8960 --layers 28 --tokens 2400   # 1.5B shape, on a GPU
"""
import argparse
import contextlib
import json
import platform
import statistics
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--inter", type=int, default=0, help="MLP width (default 4 x hidden)")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--out", default="bench/results/adapter_casts.json")
    a = ap.parse_args()

    import torch
    from peft import LoraConfig, get_peft_model
    from torch.profiler import ProfilerActivity, profile
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from sartor.train.loss import causal_lm_loss
    from sartor.train.mixed_precision import AdapterInputs

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    heads = max(2, a.hidden // 128)
    config = Qwen2Config(vocab_size=32000, hidden_size=a.hidden, intermediate_size=a.inter or 4 * a.hidden,
                         num_hidden_layers=a.layers, num_attention_heads=heads, num_key_value_heads=max(1, heads // 4),
                         tie_word_embeddings=False)
    model = Qwen2ForCausalLM(config).to(device, torch.bfloat16)
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=32, target_modules="all-linear"))
    ids = torch.randint(0, 32000, (1, a.tokens), device=device)
    labels = ids.clone()
    labels[:, : a.tokens // 3] = -100
    adapters = AdapterInputs()

    def step(mode: str) -> None:
        autocast = torch.autocast(device, dtype=torch.bfloat16) if mode != "no-autocast" else contextlib.nullcontext()
        with autocast, adapters.uncast(model, mode == "autocast-uncast"):
            loss, keep, _ = causal_lm_loss(model, {"input_ids": ids}, labels, unwrapped=True)
        with adapters.uncast(model, mode == "autocast-uncast"):
            (loss / keep.sum()).backward()
        model.zero_grad(set_to_none=True)

    results = {}
    for mode in ("no-autocast", "autocast-peft-cast", "autocast-uncast"):
        step(mode)  # warm up
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            step(mode)
        copies = sum(e.count for e in prof.key_averages() if e.key == "aten::_to_copy")
        times = []
        for _ in range(a.repeats if device == "cuda" else 0):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            step(mode)
            torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        results[mode] = {"to_copy_calls": copies, "step_ms": round(1000 * statistics.median(times), 2) if times else None}
        print(mode, results[mode], flush=True)

    record = {"date": time.strftime("%Y-%m-%d"), "device": torch.cuda.get_device_name() if device == "cuda" else
              f"{platform.machine()} CPU", "torch": torch.__version__, "shape": vars(a), "results": results}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
