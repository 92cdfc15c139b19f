"""Merge a LoRA checkpoint into its base: a standalone model that plain transformers loads (export --merge_lora,
infer --merge_lora).

The merge verifies itself: logits of the merged model must equal base+adapter logits on a probe
batch, or the merge fails."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

import torch

from ..utils.errors import SartorError
from ..utils.logging import get_logger

if TYPE_CHECKING:
    from ..arguments import ExportArguments, InferArguments

PROBE_TEXT = ["Hello! Who are you?", "Write a short poem about the sea.", "1 + 1 = 2; 2 + 2 = 4."]


def probe_batch(tokenizer: Any, device: torch.device) -> dict[str, torch.Tensor]:
    enc = tokenizer(PROBE_TEXT, return_tensors="pt", padding=True, add_special_tokens=False)
    return {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}


def merge_tolerance(dtype: torch.dtype) -> float:
    """Largest allowed |merged - adapter| relative to the logits' scale."""
    return 1e-5 if dtype == torch.float32 else 2e-2


@torch.no_grad()
def _logits(model: Any, batch: dict) -> torch.Tensor:
    out = model(**batch, use_cache=False).logits.float()
    if out.dim() == 2:  # a reward model: one score per row
        return out
    return out * batch["attention_mask"].unsqueeze(-1)


def merge_checkpoint(args: Union[ExportArguments, InferArguments], ckpt: str, output_dir: Optional[str] = None) -> str:
    """Write <ckpt>-merged (or output_dir) and return its path."""
    from peft import PeftModel

    from ..model.loader import get_model_tokenizer
    from .resolve import model_kwargs_of

    log = get_logger()
    out = Path(output_dir or f"{str(ckpt).rstrip('/')}-merged")
    kwargs = model_kwargs_of(args)
    if kwargs.get("quant_method") == "bnb":
        log.warning("the adapter was trained on a quantised base: merging into the base dequantised to "
                    f"{kwargs.get('torch_dtype') or 'its dtype'}; answers may differ slightly from the quantised model")
        kwargs.update(quant_method=None, quant_bits=None)
    kwargs["device_map"] = kwargs.get("device_map")
    from .reward_model import is_reward_checkpoint, load_reward_model

    if is_reward_checkpoint(ckpt):  # the base with a score head, whose weights the adapter carries
        _, tokenizer = get_model_tokenizer(**kwargs, load_model=False)
        base = load_reward_model(kwargs, kwargs["model"], tokenizer.pad_token_id)
    else:
        base, tokenizer = get_model_tokenizer(**kwargs)
    model = PeftModel.from_pretrained(base, ckpt, is_trainable=False).eval()
    device = next(model.parameters()).device
    batch = probe_batch(tokenizer, device)
    before = _logits(model, batch)
    merged = model.merge_and_unload()
    after = _logits(merged, batch)
    diff = (after - before).abs().max().item()
    scale = max(before.abs().max().item(), 1.0)
    dtype = next(merged.parameters()).dtype
    if diff / scale > merge_tolerance(dtype):
        raise SartorError(f"merge check failed: merged logits differ from base+adapter by {diff:.3g} (dtype {dtype})")
    log.info(f"merge check passed: max |merged - adapter| logits = {diff:.3g}")
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out, safe_serialization=True, max_shard_size=args.max_shard_size)
    tokenizer.save_pretrained(out)
    saved_args = Path(ckpt) / "args.json"
    if saved_args.is_file():
        data = json.loads(saved_args.read_text())
        data.update(merged_from=str(ckpt), train_type="full", adapters=[])
        (out / "args.json").write_text(json.dumps(data, ensure_ascii=False, indent=2))
    log.info(f"merged model written to {out}")
    return str(out)
