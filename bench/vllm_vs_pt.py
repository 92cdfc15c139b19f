"""Generation throughput of --infer_backend vllm against pt on the same requests (a CUDA GPU and vllm needed).

Builds both engines the way `sartor infer` does (prepare_engine), vLLM first (then closed, so the pt
model gets the GPU memory back), sends the same greedy requests to each at once (engine.infer: vLLM's
scheduler, and the pt engine's continuous batching with --max_batch_size = the number of requests),
after one warm-up request, and writes tokens/s of both, their ratio, and whether the greedy answers
are the same to the JSON file.

    python bench/vllm_vs_pt.py [--ckpt_dir DIR | --model tiny] [--requests 64] [--max_new_tokens 128]
        [--torch_dtype float16] [--gpu_memory_utilization 0.4] [--enforce_eager] [--out bench/results/vllm_vs_pt.json]
"""
import argparse
import json
import os
import platform
import time
from pathlib import Path

QUESTIONS = ["who are you?", "你是谁？", "What is your name?", "Who made you?", "Introduce yourself, please.",
             "hello", "Tell me about yourself.", "你好，你叫什么名字？", "Are you ChatGPT?",
             "What can you do?"]


def conversations(n: int) -> list[list[dict]]:
    return [[{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}] for i in range(n)]


def run_backend(backend: str, a: argparse.Namespace, convs: list[list[dict]]) -> tuple[list, dict, dict]:
    """(completions, figures, what was served) of one backend; the engine is closed afterwards."""
    from sartor.arguments import InferArguments
    from sartor.infer.engine import RequestConfig
    from sartor.infer.infer_main import prepare_engine

    source = dict(ckpt_dir=a.ckpt_dir) if a.ckpt_dir else dict(model=a.model, template=a.template)
    common = dict(torch_dtype=a.torch_dtype, max_model_len=a.max_model_len, infer_backend=backend,
                  temperature=0.0, max_new_tokens=a.max_new_tokens)
    if backend == "vllm":
        extra = dict(gpu_memory_utilization=a.gpu_memory_utilization, enforce_eager=a.enforce_eager,
                     tensor_parallel_size=a.tensor_parallel_size)
    else:
        extra = dict(device_map="cuda:0", max_batch_size=len(convs))
    t0 = time.perf_counter()
    args = InferArguments(**source, **common, **extra)
    engine, args, ckpt = prepare_engine(args)
    if hasattr(engine, "wait_ready"):
        engine.wait_ready()
    cfg = RequestConfig.from_args(args)
    try:
        engine.infer(convs[:1], cfg)  # warm-up (first kernels, CUDA graphs, allocator)
        startup = time.perf_counter() - t0
        t = time.perf_counter()
        outs = engine.infer(convs, cfg)
        wall = time.perf_counter() - t
    finally:
        engine.close()
    tokens = sum(o.completion_tokens for o in outs)
    figures = {"startup_s": round(startup, 2), "wall_s": round(wall, 3), "completion_tokens": tokens,
               "tokens_per_s": round(tokens / wall, 1), "requests_per_s": round(len(outs) / wall, 2)}
    served = {"checkpoint": ckpt, "lora": bool(ckpt and (Path(ckpt) / "adapter_config.json").is_file())}
    return outs, figures, served


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt_dir", default=None, help="a checkpoint or run directory (full or LoRA)")
    ap.add_argument("--model", default="tiny", help="a model when no --ckpt_dir")
    ap.add_argument("--template", default=None)
    ap.add_argument("--requests", type=int, default=64)
    ap.add_argument("--max_new_tokens", type=int, default=128)
    ap.add_argument("--max_model_len", type=int, default=2048)
    ap.add_argument("--torch_dtype", default="float16", choices=["float16", "bfloat16", "float32"])
    ap.add_argument("--gpu_memory_utilization", type=float, default=0.4)
    ap.add_argument("--tensor_parallel_size", type=int, default=1)
    ap.add_argument("--enforce_eager", action="store_true", help="vLLM without CUDA graphs")
    ap.add_argument("--out", default="bench/results/vllm_vs_pt.json")
    a = ap.parse_args()

    import torch
    import vllm

    if not torch.cuda.is_available():
        raise SystemExit("bench/vllm_vs_pt.py needs a CUDA GPU")
    convs = conversations(a.requests)
    vllm_outs, vllm_figures, info = run_backend("vllm", a, convs)  # first: vLLM wants the GPU memory to itself
    pt_outs, pt_figures, _ = run_backend("pt", a, convs)
    mismatches = [{"query": c[-1]["content"], "pt": p.text, "vllm": v.text}
                  for c, p, v in zip(convs, pt_outs, vllm_outs) if p.text != v.text]
    same = len(convs) - len(mismatches)
    results = {
        "model": a.ckpt_dir or a.model, "checkpoint": info["checkpoint"], "lora": info["lora"],
        "device": torch.cuda.get_device_name(0), "torch": torch.__version__, "vllm": vllm.__version__,
        "dtype": a.torch_dtype, "requests": len(convs), "max_new_tokens": a.max_new_tokens,
        "enforce_eager": a.enforce_eager, "greedy": True,
        "vllm_backend": vllm_figures, "pt_backend": pt_figures,
        "throughput_ratio_vllm_over_pt": round(vllm_figures["tokens_per_s"] / max(pt_figures["tokens_per_s"], 1e-9), 2),
        "same_greedy_answers": same,
        "same_token_ids": sum(p.token_ids == v.token_ids for p, v in zip(pt_outs, vllm_outs)),
        "mismatches": mismatches[:5],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
