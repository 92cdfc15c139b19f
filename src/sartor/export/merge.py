"""`merge_lora`, the Python API of `sartor export --merge_lora true`: merge a LoRA checkpoint into its base, with the
checkpoint's args.json supplying the base. The merge itself (and its logits check) is core.merge.merge_checkpoint,
which infer --merge_lora uses too."""
from typing import Any, Optional

from ..core.merge import merge_checkpoint
from ..utils.errors import SartorError


def merge_lora(ckpt_dir: str, output_dir: Optional[str] = None, **kwargs: Any) -> str:
    """Python API: merge the LoRA checkpoint at ckpt_dir (its args.json supplies the base); returns the merged dir."""
    from ..arguments import ExportArguments
    from ..infer.load import ckpt_of, fill_from_checkpoint, is_adapter

    args = ExportArguments(ckpt_dir=ckpt_dir, merge_lora=True, **kwargs)
    ckpt = ckpt_of(args)
    if not ckpt or not is_adapter(ckpt):
        raise SartorError(f"{ckpt_dir} is not a LoRA checkpoint (no adapter_config.json)")
    return merge_checkpoint(fill_from_checkpoint(args, ckpt), ckpt, output_dir)
