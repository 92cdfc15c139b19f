"""Generate over a dataset and write query/response/label rows to a JSONL file."""
import json
import os
from pathlib import Path
from typing import Any

from ..utils.logging import get_logger
from .engine import PtEngine, RequestConfig


def infer_dataset(engine: PtEngine, rows: Any, cfg: RequestConfig, result_path: str) -> list[dict]:
    """Answer every row (batched), writing each result as one JSON line; returns the results."""
    from tqdm.auto import tqdm

    from ..dataset.canonical import decode_row, split_prompt

    items = [decode_row(r) for r in rows]
    Path(result_path).parent.mkdir(parents=True, exist_ok=True)
    results = []
    with open(result_path, "w", encoding="utf-8") as f, tqdm(total=len(items), desc="infer") as bar:
        for start in range(0, len(items), engine.max_batch_size):
            chunk = items[start:start + engine.max_batch_size]
            prompts = [split_prompt(r) for r in chunk]
            outs = engine.infer([p for p, _ in prompts], cfg, tools=None)
            for row, (prompt, label), out in zip(chunk, prompts, outs):
                query = next((m["content"] for m in reversed(prompt) if m["role"] == "user"), "")
                rec = {"query": query, "response": out.text, "label": label, "messages": prompt}
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                results.append(rec)
            f.flush()
            bar.update(len(chunk))
    get_logger().info(f"wrote {len(results)} results to {result_path}")
    return results


def default_result_path(ckpt: str | None, model: str) -> str:
    from datetime import datetime

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(ckpt) / "infer_result" if ckpt else Path("result") / os.path.basename(os.path.normpath(model))
    return str(base / f"{stamp}.jsonl")
