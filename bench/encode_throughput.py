"""Encoding throughput (rows/s, tokens/s) of alpaca_en_demo.json through a template, in one process and with 2:

- floor: the fast tokenizer alone, called in batches of 256 on the already-rendered texts, with offsets (the exact
  call encoding makes); with 2 processes, each tokenises half the texts;
- per-row: datasets.map one row at a time, one tokenizer call per row (the path encoding took before batching);
- batched: `encode_dataset` (datasets.map in batches, one tokenizer call per batch, labels from the offsets).

Both encoding paths end in a dataset of input_ids and labels, and their rows are checked equal. Best of --rounds,
the paths interleaved. `--tokenizer` takes `tiny` (the tiny demo model's) or a tokenizer.json / tokenizer directory,
and may repeat.

    python bench/encode_throughput.py [--tokenizer tiny --tokenizer PATH] [--repeat 8] [--rounds 3]
"""
import argparse
import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "alpaca_en_demo.json"
BATCH = 256


def load_tokenizer(spec: str) -> tuple[Any, str]:
    """The tiny model's tokenizer, or one from a tokenizer.json / directory with ChatML's tokens added."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    if spec == "tiny":
        from sartor.model.tiny import ensure_tiny_model

        return AutoTokenizer.from_pretrained(ensure_tiny_model()), "tiny byte-level BPE"
    path = Path(spec)
    if path.is_dir():
        tok = AutoTokenizer.from_pretrained(str(path))
    else:
        tok = PreTrainedTokenizerFast(tokenizer_file=str(path), clean_up_tokenization_spaces=False)
    tok.add_special_tokens({"eos_token": "<|im_end|>", "additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    return tok, f"{path.name} ({len(tok)} tokens)"


def best_of(rounds: int, fns: dict[str, Callable[[], Any]]) -> tuple[dict[str, float], dict[str, float], dict]:
    """Each function's best wall time and best CPU time of this process over `rounds` interleaved rounds, and its
    last result. On a machine that others share, the CPU time of a one-process path is the steadier figure."""
    wall = {k: float("inf") for k in fns}
    cpu = dict(wall)
    last: dict[str, Any] = {}
    for _ in range(rounds):
        for name, fn in fns.items():
            t, c = time.perf_counter(), time.process_time()
            last[name] = fn()
            wall[name] = min(wall[name], time.perf_counter() - t)
            cpu[name] = min(cpu[name], time.process_time() - c)
    return wall, cpu, last


def _tokenize_all(tok: Any, texts: list[str]) -> int:
    from sartor.template.labels import tokenize_batch_with_offsets

    n = 0
    for i in range(0, len(texts), BATCH):
        ids, _ = tokenize_batch_with_offsets(tok, texts[i:i + BATCH])
        n += sum(map(len, ids))
    return n


_FORKED: tuple[Any, list[str]] = (None, [])  # what forked workers inherit instead of unpickling a tokenizer


def _tokenize_part(part: slice) -> int:
    tok, texts = _FORKED
    return _tokenize_all(tok, texts[part])


def floor_two_processes(tok: Any, texts: list[str]) -> int:
    """The floor with the texts split over 2 forked processes (start-up included)."""
    global _FORKED
    _FORKED = (tok, texts)
    half = (len(texts) + 1) // 2
    with ProcessPoolExecutor(2, mp_context=get_context("fork")) as pool:
        return sum(pool.map(_tokenize_part, [slice(0, half), slice(half, None)]))


def per_row(rows: Any, template: Any, num_proc: int) -> Any:
    """The per-row path: datasets.map one row per call, one tokenizer call per row, over-length rows dropped."""
    from sartor.dataset.encode import _Encoder, drop_over_length

    encoded = rows.map(_Encoder(template), remove_columns=rows.column_names, load_from_cache_file=False,
                       num_proc=num_proc if num_proc > 1 else None, desc=f"per-row x{num_proc}")
    return drop_over_length(encoded, "per-row", False)


def run(spec: str, data: str, repeat: int, rounds: int, template_name: str) -> dict:
    from sartor.dataset import load_dataset
    from sartor.dataset.canonical import decode_row
    from sartor.dataset.encode import encode_dataset
    from sartor.template import get_template

    tok, tok_name = load_tokenizer(spec)
    template = get_template(template_name, tok, max_length=4096)
    rows, _ = load_dataset([f"{data}#{999 * repeat}"], split_dataset_ratio=0.0)
    texts = [template.training_text(decode_row(r))[0] for r in rows]
    paths = {
        "floor_1proc": lambda: _tokenize_all(tok, texts),
        "floor_2proc": lambda: floor_two_processes(tok, texts),
        "per_row_1proc": lambda: per_row(rows, template, 1),
        "per_row_2proc": lambda: per_row(rows, template, 2),
        "batched_1proc": lambda: encode_dataset(rows, template, 1, load_from_cache_file=False, desc="batched x1"),
        "batched_2proc": lambda: encode_dataset(rows, template, 2, load_from_cache_file=False, desc="batched x2"),
    }
    seconds, cpu, out = best_of(rounds, paths)
    tokens = out["floor_1proc"]
    assert tokens == out["floor_2proc"] == sum(out["batched_1proc"]["length"])
    same = all(out[a]["input_ids"] == out[b]["input_ids"] and out[a]["labels"] == out[b]["labels"]
               for a, b in [("per_row_1proc", "batched_1proc"), ("per_row_2proc", "batched_2proc"),
                            ("per_row_1proc", "batched_2proc")])
    result: dict[str, Any] = {"tokenizer": tok_name, "template": template_name, "rows": len(rows), "tokens": tokens,
                              "identical_ids_and_labels": same}
    for name, s in seconds.items():
        result[name] = {"seconds": round(s, 3), "rows_per_s": round(len(rows) / s, 1),
                        "tokens_per_s": round(tokens / s)}
        if name.endswith("1proc"):
            result[name]["cpu_seconds"] = round(cpu[name], 3)
    for procs in ("1proc", "2proc"):
        result[f"batched_vs_floor_{procs}"] = round(seconds[f"floor_{procs}"] / seconds[f"batched_{procs}"], 3)
        result[f"batched_vs_per_row_{procs}"] = round(seconds[f"per_row_{procs}"] / seconds[f"batched_{procs}"], 2)
    result["batched_vs_floor_1proc_cpu"] = round(cpu["floor_1proc"] / cpu["batched_1proc"], 3)
    result["batched_vs_per_row_1proc_cpu"] = round(cpu["per_row_1proc"] / cpu["batched_1proc"], 2)
    return result


def versions() -> dict[str, str]:
    import datasets
    import pyarrow
    import tokenizers
    import torch
    import transformers

    return {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__, "datasets": datasets.__version__, "pyarrow": pyarrow.__version__}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--repeat", type=int, default=8, help="repeat the file N times for a steadier figure")
    ap.add_argument("--rounds", type=int, default=3, help="best of N interleaved rounds")
    ap.add_argument("--template", default="chatml")
    ap.add_argument("--tokenizer", action="append", help="tiny (default) or a tokenizer.json / directory; repeatable")
    ap.add_argument("--out", default="bench/results/encode_throughput.json")
    a = ap.parse_args()

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # one core per process, for the floor too
    import datasets

    datasets.disable_caching()
    datasets.disable_progress_bars()
    shown = [Path(x).name if os.sep in x else x for x in sys.argv[1:]]  # file names, not this machine's paths
    results = {"command": " ".join(["python bench/encode_throughput.py", *shown]),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
               "versions": versions(), "load_average_before": [round(x, 2) for x in os.getloadavg()],
               "runs": [run(spec, a.data, a.repeat, a.rounds, a.template) for spec in a.tokenizer or ["tiny"]]}
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        os.environ.setdefault("HF_DATASETS_CACHE", d)
        main()
