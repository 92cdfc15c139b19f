"""What quantisation cost: size on disk and perplexity, quantised against unquantised.

Perplexity is measured on a few validation rows (the tokens that carry loss: assistant replies),
each model loaded by plain transformers from its directory, so the figure also proves that the
exported model loads. The report is printed as a small table and written to export_report.json."""
import gc
import json
import math
from pathlib import Path
from typing import Any, Iterable, Optional

from ..utils.logging import get_logger

REPORT_FILE = "export_report.json"
EVAL_ROWS = 16
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
# Used when neither --val_dataset nor --dataset (nor the checkpoint's args.json) names any data.
FALLBACK_ROWS = [
    {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in (
        ("Who are you?", "I am an AI assistant. I can answer questions, write text and help with many tasks."),
        ("Give three tips for staying healthy.", "1. Eat a balanced diet with plenty of fruit and vegetables.\n"
         "2. Exercise regularly.\n3. Get enough sleep."),
        ("What is the capital of France?", "The capital of France is Paris."),
        ("Translate 'good morning' into Spanish.", "Buenos días."),
        ("Write a haiku about the sea.", "Waves fold into foam,\nsalt wind carries gull voices,\nthe tide keeps its time."),
        ("What is 12 times 12?", "12 times 12 is 144."),
        ("你好，请介绍一下你自己。", "你好！我是一个人工智能助手，可以回答问题、写作和翻译。"),
        ("Explain what a neural network is in one sentence.", "A neural network is a function built from layers "
         "of weighted sums and nonlinearities whose weights are learned from data."),
    )
]


def weights_size(model_dir: str) -> int:
    """Bytes of the weight files in a model directory (symlinks followed, e.g. a hub cache)."""
    return sum(p.stat().st_size for p in Path(model_dir).iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES)


def encode_rows(template: Any, rows: Iterable[dict], limit: int) -> list[dict]:
    """Up to `limit` rows encoded by the template (truncated, not dropped, at its max_length)."""
    from ..dataset.canonical import decode_row

    out = []
    for row in rows:
        if len(out) >= limit:
            break
        enc = template.encode(decode_row(row) if "messages" in row else row)
        if enc and enc["input_ids"]:
            out.append(enc)
    return out


def _free(model: Any) -> None:
    import torch

    del model
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def perplexity(model: Any, encoded: list[dict]) -> float:
    """exp(mean negative log-likelihood) over the labelled tokens of `encoded` (all tokens where a row
    has no labels)."""
    import torch

    device = next(model.parameters()).device
    total, count = 0.0, 0
    with torch.no_grad():
        for enc in encoded:
            ids = torch.tensor([enc["input_ids"]], device=device)
            labels = torch.tensor([enc["labels"]], device=device)
            if not (labels[0, 1:] != -100).any():
                labels = ids.clone()
            logits = model(input_ids=ids, use_cache=False).logits[0, :-1].float()
            target = labels[0, 1:]
            mask = target != -100
            if not mask.any():
                continue
            nll = torch.nn.functional.cross_entropy(logits[mask], target[mask], reduction="sum")
            total += nll.item()
            count += int(mask.sum())
    return math.exp(total / count) if count else float("nan")


def model_perplexity(model_dir: str, encoded: list[dict], torch_dtype: Optional[str] = None,
                     trust_remote_code: bool = False) -> float:
    """Load `model_dir` with plain transformers (its own quantization_config), measure, free."""
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": getattr(torch, torch_dtype) if torch_dtype else "auto",
                              "trust_remote_code": trust_remote_code}
    if torch.cuda.is_available():
        kwargs["device_map"] = "auto"
    model = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs).eval()
    try:
        return perplexity(model, encoded)
    finally:
        _free(model)


def build_report(method: str, bits: int, source_dir: str, output_dir: str, ppl_source: float, ppl_quant: float,
                 n_rows: int, rows_from: str, torch_dtype: str, extra: Optional[dict] = None) -> dict:
    size_source, size_quant = weights_size(source_dir), weights_size(output_dir)
    return {
        "quant_method": method, "quant_bits": bits, "torch_dtype": torch_dtype, **(extra or {}),
        "unquantised": {"path": str(source_dir), "size_bytes": size_source, "perplexity": ppl_source},
        "quantised": {"path": str(output_dir), "size_bytes": size_quant, "perplexity": ppl_quant},
        "size_ratio": size_quant / size_source if size_source else None,
        "perplexity_change": (ppl_quant / ppl_source - 1.0) if ppl_source and ppl_source == ppl_source else None,
        "eval_rows": n_rows, "eval_rows_from": rows_from,
    }


def _mb(n: int) -> str:
    return f"{n / 2**20:.2f} MiB"


def format_report(report: dict) -> str:
    """The report as a small text table."""
    name = f"{report['quant_method']} int{report['quant_bits']}"
    src, q = report["unquantised"], report["quantised"]
    ratio = report["size_ratio"]
    change = report["perplexity_change"]
    rows = [
        ("", f"unquantised ({report['torch_dtype']})", name, ""),
        ("size on disk", _mb(src["size_bytes"]), _mb(q["size_bytes"]), f"x{ratio:.2f}" if ratio else ""),
        ("perplexity", f"{src['perplexity']:.3f}", f"{q['perplexity']:.3f}",
         f"{change * 100:+.2f}%" if change is not None else ""),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.append(f"(perplexity over the reply tokens of {report['eval_rows']} rows: {report['eval_rows_from']})")
    return "\n".join(lines)


def write_report(report: dict, output_dir: str) -> str:
    path = Path(output_dir) / REPORT_FILE
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    get_logger().info(f"export report written to {path}")
    return str(path)
