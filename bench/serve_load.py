"""Load test of `sartor deploy`: N concurrent streaming clients against the same N requests one after another.

Starts `python -m sartor deploy` in a subprocess on a free loopback port (or uses --url), sends a
warm-up request, then the requests one at a time, then all at once with asyncio and the openai
AsyncOpenAI client, all streaming, greedy, the same max_tokens. It checks that every concurrent
request finished without error and got the same text as when alone, and writes the figures to
bench/results/serve_load.json.

    python bench/serve_load.py [--model tiny] [--clients 32] [--max_tokens 64] [--max_batch_size 32]
    python bench/serve_load.py --url http://127.0.0.1:8000 --served_model_name NAME --api_key K
"""
import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

TOPICS = ["the sea", "a red fox", "mountains", "an old library", "the moon", "trains", "coffee", "a lost key",
          "winter", "a robot", "the desert", "bees", "a lighthouse", "rain", "chess", "a violin"]


def prompts(n: int) -> list[list[dict]]:
    """n different conversations of different lengths."""
    out = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        extra = " Please be detailed and vivid." * (i % 4)
        out.append([{"role": "user", "content": f"Write a short story about {topic} (#{i}).{extra}"}])
    return out


def start_server(a: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "sartor", "deploy", "--port", "0", "--api_key", a.api_key,
           "--max_batch_size", str(a.max_batch_size), "--temperature", "0", "--log_interval", "5"]
    cmd += ["--ckpt_dir", a.ckpt_dir] if a.ckpt_dir else ["--model", a.model]
    env = dict(os.environ)
    if a.threads:
        env["OMP_NUM_THREADS"] = str(a.threads)  # torch's intra-op threads in the server
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    lines: list[str] = []
    while True:
        line = proc.stderr.readline()
        if not line:
            proc.wait()
            raise SystemExit("the server did not start:\n" + "".join(lines[-40:]))
        lines.append(line)
        if m := re.search(r"serving (\S+?)(?:,| at) .*?(http://[\d.]+:\d+)/v1", line):
            return proc, m.group(2)


async def one(client, model: str, messages: list[dict], max_tokens: int, t0: float) -> dict:
    start = time.perf_counter()
    first, text, tokens = None, [], 0
    stream = await client.chat.completions.create(model=model, messages=messages, max_tokens=max_tokens,
                                                  temperature=0, stream=True, stream_options={"include_usage": True})
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            if first is None:
                first = time.perf_counter()
            text.append(chunk.choices[0].delta.content)
        if chunk.usage:
            tokens = chunk.usage.completion_tokens
    end = time.perf_counter()
    return {"text": "".join(text), "tokens": tokens, "ttft_s": (first or end) - start, "latency_s": end - start,
            "start_s": start - t0}


def summarize(results: list, wall: float) -> dict:
    ok = [r for r in results if isinstance(r, dict)]
    tokens = sum(r["tokens"] for r in ok)

    def pct(values: list, q: float) -> float:
        values = sorted(values)
        return round(values[min(len(values) - 1, int(q * len(values)))], 3) if values else float("nan")

    return {"requests": len(results), "errors": len(results) - len(ok), "wall_s": round(wall, 2),
            "completion_tokens": tokens, "tokens_per_s": round(tokens / wall, 1),
            "requests_per_s": round(len(ok) / wall, 2),
            "ttft_p50_s": pct([r["ttft_s"] for r in ok], 0.5), "ttft_p95_s": pct([r["ttft_s"] for r in ok], 0.95),
            "latency_p50_s": pct([r["latency_s"] for r in ok], 0.5),
            "latency_p95_s": pct([r["latency_s"] for r in ok], 0.95)}


async def run(a: argparse.Namespace, url: str) -> dict:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url + "/v1", api_key=a.api_key, max_retries=0, timeout=600)
    model = a.served_model_name or (await client.models.list()).data[0].id
    convs = prompts(a.clients)
    await one(client, model, convs[0], 4, time.perf_counter())  # warm-up

    t0 = time.perf_counter()
    sequential = []
    for c in convs:
        sequential.append(await one(client, model, c, a.max_tokens, t0))
    seq_wall = time.perf_counter() - t0

    t0 = time.perf_counter()
    concurrent = await asyncio.gather(*(one(client, model, c, a.max_tokens, t0) for c in convs),
                                      return_exceptions=True)
    conc_wall = time.perf_counter() - t0
    errors = [repr(r) for r in concurrent if not isinstance(r, dict)]
    same = all(isinstance(c, dict) and c["text"] == s["text"] for c, s in zip(concurrent, sequential))
    seq, conc = summarize(sequential, seq_wall), summarize(list(concurrent), conc_wall)
    return {"model": model, "clients": a.clients, "max_tokens": a.max_tokens, "max_batch_size": a.max_batch_size,
            "server_threads": a.threads or "default",
            "sequential": seq, "concurrent": conc,
            "speedup_tokens_per_s": round(conc["tokens_per_s"] / max(seq["tokens_per_s"], 1e-9), 2),
            "same_text_concurrent_and_alone": same, "errors": errors[:5]}


def table(r: dict) -> str:
    rows = [("mode", "requests", "errors", "wall s", "tokens", "tokens/s", "req/s", "TTFT p50", "TTFT p95",
             "latency p50", "latency p95")]
    for mode in ("sequential", "concurrent"):
        m = r[mode]
        rows.append((mode, m["requests"], m["errors"], m["wall_s"], m["completion_tokens"], m["tokens_per_s"],
                     m["requests_per_s"], m["ttft_p50_s"], m["ttft_p95_s"], m["latency_p50_s"], m["latency_p95_s"]))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(str(v).rjust(w) for v, w in zip(row, widths)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    lines.append(f"speedup (tokens/s): x{r['speedup_tokens_per_s']}; same text concurrent and alone: "
                 f"{r['same_text_concurrent_and_alone']}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--ckpt_dir", default=None)
    ap.add_argument("--url", default=None, help="use this running server instead of starting one")
    ap.add_argument("--served_model_name", default=None)
    ap.add_argument("--api_key", default="sk-bench")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--max_tokens", type=int, default=64)
    ap.add_argument("--max_batch_size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=0, help="OMP_NUM_THREADS of the server (0: torch's default)")
    ap.add_argument("--out", default="bench/results/serve_load.json")
    a = ap.parse_args()

    proc, url = (None, a.url) if a.url else start_server(a)
    try:
        result = asyncio.run(run(a, url))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    import torch

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    result["machine"] = {"platform": platform.platform(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
                         "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
                         "load_average_after": [round(x, 2) for x in load] if load else None}
    result["date"] = time.strftime("%Y-%m-%d %H:%M")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2))
    print(table(result))
    print(f"written to {a.out}")
    if result["concurrent"]["errors"] or not result["same_text_concurrent_and_alone"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
