"""Rows/s for encoding alpaca_en_demo.json: Sartor's encoder with 1 and 2 processes, beside a
naive loop that calls tokenizer.apply_chat_template per row, in the same run.

    python bench/encode_throughput.py [--data PATH] [--repeat 4] [--out bench/results/encode_throughput.json]
"""
import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "alpaca_en_demo.json"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--repeat", type=int, default=4, help="repeat the file N times for a steadier figure")
    ap.add_argument("--out", default="bench/results/encode_throughput.json")
    a = ap.parse_args()

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import datasets

    from sartor.dataset import load_dataset
    from sartor.dataset.canonical import decode_row
    from sartor.dataset.encode import encode_dataset
    from sartor.model.tiny import get_tiny_tokenizer
    from sartor.template import get_template

    datasets.disable_caching()
    tok = get_tiny_tokenizer()
    template = get_template("chatml", tok, max_length=4096)
    rows, _ = load_dataset([f"{a.data}#{999 * a.repeat}"], split_dataset_ratio=0.0)
    plain = [decode_row(r) for r in rows]
    results = {"rows": len(plain), "tokenizer": "tiny byte-level BPE", "template": "chatml",
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d")}

    t = time.perf_counter()
    naive = []
    for r in plain:
        ids = tok.apply_chat_template(r["messages"], tokenize=True, return_dict=False)
        naive.append(len(ids))
    results["naive_apply_chat_template_rows_per_s"] = round(len(plain) / (time.perf_counter() - t), 1)

    for procs in (1, 2):
        t = time.perf_counter()
        enc = encode_dataset(rows, template, num_proc=procs, load_from_cache_file=False, desc=f"encode x{procs}")
        results[f"sartor_{procs}proc_rows_per_s"] = round(len(enc) / (time.perf_counter() - t), 1)
    results["note"] = ("naive = token ids only; sartor = ids + exact assistant labels from offsets; "
                       "2-process figures include worker start-up")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        os.environ.setdefault("HF_DATASETS_CACHE", d)
        main()
