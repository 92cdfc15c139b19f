"""Steps shared by sft, pt and rlhf: resolve arguments, make the run directory, load data and model."""
import dataclasses
import importlib.util
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

from ..utils.errors import SartorError
from ..utils.logging import get_logger
from ..core.runs import default_output_dir, next_run_dir


_LOADED_REGISTERS: set[str] = set()


def load_custom_register(paths: list[str] | None) -> None:
    """Import users' plug-in files that call register_model / register_template / register_dataset
    (each file once per process)."""
    for path in paths or []:
        if not os.path.isfile(path):
            raise SartorError(f"--custom_register_path {path}: no such file")
        key = os.path.realpath(path)
        if key in _LOADED_REGISTERS:
            continue
        spec = importlib.util.spec_from_file_location(f"sartor_custom_register_{len(_LOADED_REGISTERS)}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        _LOADED_REGISTERS.add(key)


def read_system(system: str | None) -> str | None:
    """--system text, or the contents of a .txt file it names."""
    if system and system.endswith(".txt") and os.path.isfile(system):
        return Path(system).read_text(encoding="utf-8").strip()
    return system


def choose_template(requested: str | None, registry_template: str | None, tokenizer: Any) -> str:
    """--template, else the registry's, else the tokenizer's own chat template (jinja), else default."""
    if requested:
        return requested
    if registry_template:
        return registry_template
    return "jinja" if getattr(tokenizer, "chat_template", None) else "default"


def resolve(args: Any, info: Any, tokenizer: Any, **overrides: Any) -> Any:
    """The arguments with every default that depends on the model filled in (what args.json records)."""
    values = dict(
        model_type=args.model_type or info.model_type,
        template=choose_template(args.template, info.template, tokenizer),
        system=read_system(args.system),
        max_length=args.max_length or min(info.max_length, 8192),
        torch_dtype=info.torch_dtype,
    )
    values.update(overrides)
    return dataclasses.replace(args, **values)


def make_run_dir(args: Any) -> str:
    """A new run directory; with several processes rank 0 makes it and every rank gets the same one."""
    from .distributed import init_distributed, shared_run_dir

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


def check_data_args(args: Any) -> None:
    """--dataset is given and every --dataset / --val_dataset names something loadable (before any heavy work)."""
    from ..dataset.loader import check_dataset_sources

    if not args.dataset:
        raise SartorError("give --dataset (a registered name, a hub id or a local file)")
    check_dataset_sources(list(args.dataset) + list(args.val_dataset or []), args.custom_dataset_info,
                          args.model_name, args.model_author)


def load_data(args: Any) -> tuple[Any, Any]:
    """Standardised train and validation rows."""
    from ..dataset import load_dataset

    common = dict(data_seed=args.data_seed, num_proc=args.dataset_num_proc, streaming=args.streaming, strict=args.strict,
                  columns=args.columns, model_name=args.model_name, model_author=args.model_author,
                  custom_dataset_info=args.custom_dataset_info, load_from_cache_file=args.load_from_cache_file,
                  use_hf=args.use_hf, hub_token=args.hub_token)
    if not args.dataset:
        raise SartorError("give --dataset (a registered name, a hub id or a local file)")
    ratio = 0.0 if args.val_dataset else args.split_dataset_ratio
    train, val = load_dataset(args.dataset, split_dataset_ratio=ratio, train_dataset_sample=args.max_train_samples, **common)
    if args.val_dataset:
        val, _ = load_dataset(args.val_dataset, split_dataset_ratio=0.0, **common)
    return train, val


def training_attn_impl(args: Any, info: Any) -> Optional[str]:
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
    from transformers.utils import is_flash_attn_2_available

    if not is_flash_attn_2_available():
        return None
    get_logger().info("attention: flash-attention 2 (installed; --attn_impl sdpa to use sdpa)")
    return "flash_attn"


def model_kwargs_of(args: Any) -> dict:
    from ..arguments.model_args import ModelArguments

    return {f.name: getattr(args, f.name) for f in dataclasses.fields(ModelArguments)}
