"""Steps of sft, pt and rlhf around a run: make the run directory, leave none behind for a run that never started,
choose the attention for training. (Resolving arguments and loading data: core.resolve and core.data.)"""
from __future__ import annotations

import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional

from ..core.runs import default_output_dir, next_run_dir
from ..utils.logging import get_logger

if TYPE_CHECKING:
    from ..arguments import ModelArguments, SftArguments


def make_run_dir(args: SftArguments) -> str:
    """A new run directory; with several processes rank 0 makes it and every rank gets the same one."""
    from .processes import init_distributed, shared_run_dir

    init_distributed(args.ddp_backend, args.ddp_timeout)  # no-op in one process, or when already joined
    output_dir = args.output_dir or default_output_dir(args.model)
    run_dir = shared_run_dir(lambda: next_run_dir(output_dir, args.add_version))
    get_logger().info(f"run directory: {run_dir}")
    return run_dir


@contextmanager
def discard_if_failed(run_dir: str, is_main: bool) -> Iterator[None]:
    """A run that fails before training starts (bad data, a tuner that cannot apply, ...) leaves no run directory:
    it would hold only args.json and an encoded-data cache. Anything else in it, or a directory the run did not
    make (--add_version false), is kept."""
    try:
        yield
    except BaseException:
        root = Path(run_dir)
        fresh = re.fullmatch(r"v\d+-\d{8}-\d{6}", root.name) is not None  # made by this run (not --add_version false)
        only_ours = root.is_dir() and all(p.name in ("args.json", ".encoded") for p in root.iterdir())
        if is_main and fresh and only_ours:
            shutil.rmtree(root, ignore_errors=True)
        raise


def training_attn_impl(args: ModelArguments, info: Any) -> Optional[str]:
    """--attn_impl when given; else flash-attention 2 where it is installed and usable (a CUDA GPU, 16-bit weights,
    transformers' own model class): its varlen kernels take padding-free batches with no mask at all. Else None
    (sdpa). Training only: inference keeps sdpa unless asked."""
    if args.attn_impl:
        return args.attn_impl
    import torch

    if not torch.cuda.is_available() or args.torch_dtype not in ("bfloat16", "float16"):
        return None
    from ..model.loader import runs_repository_code

    if runs_repository_code(info, args.trust_remote_code):
        return None  # the repository's code may not support it
    from ..compat.transformers import flash_attn_2_available

    if not flash_attn_2_available():
        return None
    get_logger().info("attention: flash-attention 2 (installed; --attn_impl sdpa to use sdpa)")
    return "flash_attn"


