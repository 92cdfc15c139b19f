"""`export_main`: merge LoRA into a standalone model (quantisation, hub push and Ollama come later)."""
from typing import Any

from ..arguments import ExportArguments
from ..utils.errors import SartorError


def export_main(args: ExportArguments | None = None, **kwargs: Any) -> dict:
    from ..infer.load import ckpt_of, fill_from_checkpoint, is_adapter
    from .merge import merge_checkpoint

    args = args or ExportArguments(**kwargs)
    ckpt = ckpt_of(args)
    if ckpt:
        args = fill_from_checkpoint(args, ckpt)
    if args.quant_method and args.quant_method != "bnb" or args.push_to_hub or args.to_ollama:
        raise SartorError("quantised export, --push_to_hub and --to_ollama are not available yet in this version")
    if not args.merge_lora:
        raise SartorError("nothing to export: pass --merge_lora true")
    if not ckpt or not is_adapter(ckpt):
        raise SartorError("--merge_lora needs --ckpt_dir pointing at a LoRA checkpoint (with adapter_config.json)")
    path = merge_checkpoint(args, ckpt, args.output_dir)
    print(f"merged_model: {path}")
    return {"merged_model": path}
