"""Seconds to bin-pack synthetic SFT row lengths (log-normal, median ~300 tokens, clipped to 32..2048, as in the
shared bench anchor) into sequences of --max_length, and how full the sequences are.

    python bench/packing_speed.py [--rows 10000 100000 1000000] [--max_length 2048] [--out bench/results/packing.json]
"""
import argparse
import json
import math
import platform
import random
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--max_length", type=int, default=2048)
    ap.add_argument("--out", default="bench/results/packing.json")
    a = ap.parse_args()

    from sartor.dataset.packing import best_fit_decreasing

    rng = random.Random(0)
    results = []
    for n in a.rows:
        lengths = [min(2048, max(32, int(rng.lognormvariate(math.log(300), 0.8)))) for _ in range(n)]
        lengths = [min(x, a.max_length) for x in lengths]
        start = time.perf_counter()
        bins = best_fit_decreasing(lengths, a.max_length)
        seconds = time.perf_counter() - start
        row = {"rows": n, "sequences": len(bins), "seconds": round(seconds, 3),
               "fill": round(sum(lengths) / (len(bins) * a.max_length), 5),
               "lower_bound_sequences": math.ceil(sum(lengths) / a.max_length)}
        results.append(row)
        print(json.dumps(row))
    out = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
           "python": platform.python_version(), "max_length": a.max_length, "results": results}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
