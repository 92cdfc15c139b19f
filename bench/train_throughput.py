"""Training throughput: Sartor's trainer with its defaults against the stack others run
(transformers Trainer + PEFT over padded batches with gradient checkpointing, as
shared/bench/bench_anchor.py's `padded` mode), on identical data with the same samples per step.

    python bench/train_throughput.py --size 1.5b --train lora        # on a GPU
    python bench/train_throughput.py --size tiny --train lora --steps 3 --warmup 1   # CPU smoke run

Each stack runs in its own subprocess (clean peak-memory figures). Prints a table and appends JSON
lines to bench/results/train_throughput.jsonl. MFU counts 4·N_matmul per token for LoRA and 6·N_matmul
for full training (N_matmul: matmul parameters, the LM head once) plus attention (causal, per row),
against 989 TFLOP/s (H100 SXM bf16 dense)."""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = {  # Qwen2.5 shapes, as the reference harness
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True),
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True),
    "1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                 num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True),
    "7b": dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
               num_key_value_heads=4, vocab_size=152064, tie_word_embeddings=False),
}
PEAK_TFLOPS = 989.0


def make_samples(n, seed=0, median=300, sigma=0.8, lo=32, hi=2048, vocab=150000):
    """Log-normal lengths (median 300, clipped 32..2048), the first 40% of each row masked as prompt."""
    import torch

    g = torch.Generator().manual_seed(seed)
    lengths = torch.exp(math.log(median) + sigma * torch.randn(n, generator=g)).clamp(lo, hi).long()
    out = []
    for length in lengths.tolist():
        ids = torch.randint(10, vocab, (length,), generator=g).tolist()
        p = int(length * 0.4)
        out.append({"input_ids": ids, "labels": [-100] * p + ids[p:], "length": length})
    return out


def attention_flops(rows, cfg) -> float:
    """Forward+backward attention matmul FLOPs of causal attention per row (QK^T and AV)."""
    per_layer = sum(2 * 2 * L * L / 2 * cfg["hidden_size"] for L in rows)
    return 3 * per_layer * cfg["num_hidden_layers"]


def run_stack(stack: str, a) -> dict:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM, TrainerCallback

    dev = "cuda" if torch.cuda.is_available() else "cpu"
    cfg = SIZES[a.size]
    config = Qwen2Config(**cfg, max_position_embeddings=4096, use_cache=False)
    config._attn_implementation = a.attn
    torch.manual_seed(0)
    with torch.device(dev):
        model = Qwen2ForCausalLM(config).to(torch.bfloat16 if dev == "cuda" else torch.float32)
    n_total = sum(p.numel() for p in model.parameters())
    n_matmul = n_total - (0 if cfg["tie_word_embeddings"] else model.model.embed_tokens.weight.numel())
    data = make_samples(a.bs * (a.warmup + a.steps + 2))
    seen: list[int] = []

    class Clock(TrainerCallback):
        t0 = t1 = None

        def on_step_end(self, args, state, control, **kw):
            if state.global_step == a.warmup:
                if dev == "cuda":
                    torch.cuda.synchronize()
                Clock.t0 = time.perf_counter()

        def on_train_end(self, args, state, control, **kw):
            if dev == "cuda":
                torch.cuda.synchronize()
            Clock.t1 = time.perf_counter()

    def counting(collate):
        def inner(rows):
            seen.append([len(r["input_ids"]) for r in rows])
            return collate(rows)
        return inner

    out_dir = tempfile.mkdtemp(prefix=f"bench_{stack}_")
    if stack == "baseline":
        from transformers import Trainer, TrainingArguments

        from sartor.dataset.collate import PaddedCollator

        if a.train == "lora":
            from peft import LoraConfig, get_peft_model

            model = get_peft_model(model, LoraConfig(r=8, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM"))
        args = TrainingArguments(output_dir=out_dir, per_device_train_batch_size=a.bs, max_steps=a.warmup + a.steps,
                                 learning_rate=1e-4 if a.train == "lora" else 1e-5, bf16=dev == "cuda", use_cpu=dev == "cpu",
                                 logging_steps=1000, save_strategy="no", report_to=[], gradient_checkpointing=True,
                                 gradient_checkpointing_kwargs={"use_reentrant": False}, remove_unused_columns=False,
                                 disable_tqdm=True, train_sampling_strategy="sequential")
        trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=counting(PaddedCollator(0)),
                          callbacks=[Clock()])
    else:
        from sartor.arguments import SftArguments
        from sartor.dataset.collate import build_collator
        from sartor.train.padding import padding_free_for
        from sartor.train.trainer import SartorTrainer
        from sartor.train.training_args import build_training_args
        from sartor.tuners.prepare import prepare_model

        sargs = SftArguments(model="bench", train_type=a.train, per_device_train_batch_size=a.bs,
                             gradient_accumulation_steps=1, max_steps=a.warmup + a.steps, save_strategy="no",
                             logging_steps=1000, report_to=["none"], train_dataloader_shuffle=False,
                             **json.loads(a.sartor_flags))
        model = prepare_model(model, sargs)
        targs = build_training_args(sargs, out_dir, has_eval=False, torch_dtype="bfloat16" if dev == "cuda" else "float32")
        pad = type("Pad", (), {"pad_token_id": 0})()
        collate = build_collator(pad, padding_free_for(model, sargs.padding_free), sargs.packing)
        trainer = SartorTrainer(model=model, args=targs, train_dataset=data, data_collator=counting(collate),
                                callbacks=[Clock()])
    if dev == "cuda":
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    dt = Clock.t1 - Clock.t0
    timed = [n for batch in seen[a.warmup:a.warmup + a.steps] for n in batch]
    tps = sum(timed) / dt
    flops = (6 if a.train == "full" else 4) * n_matmul * sum(timed) + attention_flops(timed, cfg)
    return dict(stack=stack, size=a.size, train=a.train, bs=a.bs, tokens_per_s=round(tps, 1),
                peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2) if dev == "cuda" else None,
                mfu=round(flops / dt / (PEAK_TFLOPS * 1e12), 4), timed_tokens=sum(timed), seconds=round(dt, 2),
                device=torch.cuda.get_device_name() if dev == "cuda" else "cpu", torch=torch.__version__)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1.5b", choices=list(SIZES))
    ap.add_argument("--train", default="lora", choices=["lora", "full"])
    ap.add_argument("--bs", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--attn", default="sdpa")
    ap.add_argument("--sartor_flags", default="{}", help="JSON of SftArguments overrides for the Sartor stack")
    ap.add_argument("--stack", choices=["baseline", "sartor"], help=argparse.SUPPRESS)
    ap.add_argument("--out", default="bench/results/train_throughput.jsonl")
    a = ap.parse_args()
    if a.stack:
        print("RESULT " + json.dumps(run_stack(a.stack, a)), flush=True)
        return
    results = []
    for stack in ("baseline", "sartor"):
        r = subprocess.run([sys.executable, __file__, *sys.argv[1:], "--stack", stack], capture_output=True, text=True)
        line = next((x for x in r.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            print(r.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"{stack} run failed")
        results.append(json.loads(line[7:]))
    base, ours = results
    ratio = {"speedup": round(ours["tokens_per_s"] / base["tokens_per_s"], 2),
             "memory_ratio": round(ours["peak_gib"] / base["peak_gib"], 3) if base["peak_gib"] else None}
    print(f"{'stack':<10} {'tokens/s':>10} {'peak GiB':>9} {'MFU':>7}")
    for r in results:
        print(f"{r['stack']:<10} {r['tokens_per_s']:>10} {str(r['peak_gib']):>9} {r['mfu']:>7}")
    print(f"speedup {ratio['speedup']}x, memory {ratio['memory_ratio']}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    with open(a.out, "a") as f:
        f.write(json.dumps({"date": time.strftime("%Y-%m-%d"), "results": results, **ratio,
                            "sartor_flags": json.loads(a.sartor_flags)}) + "\n")


if __name__ == "__main__":
    main()
