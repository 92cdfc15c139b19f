"""Load a model and its tokenizer: hub id or local path, dtype, attention, placement, quantisation."""
import dataclasses
import json
import os
from dataclasses import dataclass
from typing import Any, Optional

from ..utils.errors import SartorError
from ..utils.logging import get_logger
from .detect import read_model_config

TINY_NAME_ALIAS = "tiny"
_DTYPES = {"bfloat16": "bfloat16", "float16": "float16", "float32": "float32", "bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
_ATTN = {"sdpa": "sdpa", "eager": "eager", "flash_attn": "flash_attention_2", "flash_attention_2": "flash_attention_2",
         "flex_attention": "flex_attention"}
# architectures whose attention Sartor chooses when --attn_impl is unset, by device type, where transformers' choice
# would be wrong: Gemma 2 soft-caps its attention logits, which sdpa cannot do (flex_attention and flash_attn can:
# ask for them with --attn_impl on a GPU); eager is exact everywhere
ARCH_ATTN = {"gemma2": {"cpu": "eager", "cuda": "eager"}}


@dataclass
class ModelInfo:
    """What was resolved about a model before loading it."""

    model_dir: str
    model_id: str
    model_type: Optional[str]
    template: Optional[str]
    lora_target_modules: list[str]
    torch_dtype: str
    max_length: int
    config: dict


def resolve_model_dir(model: str, use_hf: bool = True, revision: Optional[str] = None, token: Optional[str] = None) -> str:
    """A local directory as is, 'tiny' built on first use, anything else downloaded from the hub."""
    from .tiny import TINY_NAME, ensure_tiny_model

    if model == TINY_NAME:
        return ensure_tiny_model()
    if os.path.isdir(model):
        return model
    if os.path.exists(model) or model.startswith((".", "/", "~")):
        raise SartorError(f"--model {model}: no such directory")
    from .hub import resolve_model_dir as download

    return download(model, use_hf=use_hf, revision=revision, token=token)


def _meta_for(model: str, model_dir: str, config: dict, model_type: Optional[str]):
    from .registry import get_model_meta
    from .detect import detect_model_meta

    if model_type:
        return get_model_meta(model_type)
    return detect_model_meta(config, model_id=model if model != model_dir else os.path.basename(os.path.normpath(model_dir)))


def default_dtype(config: dict, requested: Optional[str]) -> str:
    """--torch_dtype, else the config's dtype; float16 becomes float32 without CUDA."""
    import torch

    if requested:
        return _DTYPES[requested]
    name = str(config.get("dtype") or config.get("torch_dtype") or "float32").replace("torch.", "")
    name = _DTYPES.get(name, "float32")
    if name == "float16" and not torch.cuda.is_available():
        name = "float32"
    return name


def resolve_model_info(model: str, *, model_type: Optional[str] = None, torch_dtype: Optional[str] = None,
                       use_hf: bool = True, revision: Optional[str] = None, token: Optional[str] = None,
                       model_dir: Optional[str] = None) -> ModelInfo:
    """Find the model directory, its registry entry and its defaults, without loading weights.

    `model_dir` skips finding (downloading) it: a directory holding at least config.json (--dry_run's plan)."""
    if not model and model_type:
        from .registry import get_model_meta

        meta = get_model_meta(model_type)
        model = TINY_NAME_ALIAS if meta.builtin else meta.model_id(use_hf)
        get_logger().warning(f"--model_type {model_type} without --model (ms-swift 1.x/2.x) is deprecated: use --model {model}")
    if not model:
        raise SartorError("give --model (a hub id, a local directory, or 'tiny')")
    model_dir = model_dir or resolve_model_dir(model, use_hf=use_hf, revision=revision, token=token)
    config = read_model_config(model_dir, required=True)
    meta = _meta_for(model, model_dir, config, model_type)
    max_len = int(config.get("max_position_embeddings") or config.get("seq_length") or 2048)
    return ModelInfo(
        model_dir=model_dir, model_id=model, model_type=meta.model_type if meta else None,
        template=meta.template if meta else None,
        lora_target_modules=list(meta.lora_target_modules) if meta else ["all-linear"],
        torch_dtype=default_dtype(config, torch_dtype), max_length=max_len, config=config,
    )


def _quant_config(quant_method: Optional[str], quant_bits: Optional[int], dtype, bnb: dict):
    if not quant_method:
        return None
    if quant_method != "bnb":
        raise SartorError(f"--quant_method {quant_method} is for export; load-time quantisation for training is bnb")
    from ..utils.lazy import require

    require("bitsandbytes", "quant")
    import torch
    from transformers import BitsAndBytesConfig

    if quant_bits == 8:
        return BitsAndBytesConfig(load_in_8bit=True)
    compute = getattr(torch, bnb.get("compute_dtype") or "") if bnb.get("compute_dtype") else dtype
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=bnb.get("quant_type", "nf4"),
                              bnb_4bit_use_double_quant=bnb.get("double_quant", True), bnb_4bit_compute_dtype=compute)


def _attn_impl(name: Optional[str]) -> Optional[str]:
    """transformers' attn_implementation for --attn_impl; unset: None, so transformers picks the model's own default
    (sdpa where the model class supports it, else eager: Gemma 2 refuses sdpa)."""
    if not name:
        return None
    impl = _ATTN.get(name, name)
    if impl == "flash_attention_2":
        from ..compat.transformers import flash_attn_2_available

        if not flash_attn_2_available():
            raise SartorError("--attn_impl flash_attn needs the flash-attn package on a CUDA GPU: pip install flash-attn")
    return impl


def _accepted(config: Any, auto_class: Any) -> str:
    """'it takes eager, sdpa, ...; ' (Sartor's names) for the class that loads this config, or '' when unknown."""
    from ..compat.transformers import accepted_attn_impls, model_class_for

    cls = model_class_for(config, auto_class)
    if cls is None:
        return ""
    names = {"flash_attention_2": "flash_attn"}
    return f"{cls.__name__} takes {', '.join(names.get(n, n) for n in accepted_attn_impls(cls))}; "


def ddp_device_group(local_rank: int, local_world_size: int, n_devices: int) -> list[int]:
    """The GPUs one rank's model spreads over when --device_map (model parallel) meets DDP: the visible GPUs split
    into equal consecutive groups, e.g. NPROC_PER_NODE=2 on 4 GPUs gives rank 0 [0, 1] and rank 1 [2, 3]."""
    if n_devices < local_world_size:
        raise SartorError(f"--device_map with {local_world_size} processes per node needs at least one GPU each; "
                          f"{n_devices} visible")
    k = n_devices // local_world_size
    return list(range(local_rank * k, (local_rank + 1) * k))


def rank_device_map(device_map: Any, max_memory: Optional[dict], group: list[int], free_memory: Any) -> tuple[Any, dict]:
    """device_map and max_memory for one rank's GPU group: `auto`-style maps fill only the group's GPUs (the
    user's --max_memory for them, else their free memory). Both a JSON map and --max_memory are written for GPUs
    0..k-1 of a rank, and moved onto its group (rank 1 of 2 on 4 GPUs: 0 -> GPU 2, 1 -> GPU 3)."""
    given: dict = {}
    for key, value in (max_memory or {}).items():
        if key in ("cpu", "disk"):
            continue
        if int(key) >= len(group):
            raise SartorError(f"--max_memory names GPU {key}, but each rank has {len(group)} GPU(s) (0..{len(group) - 1})")
        given[group[int(key)]] = value
    limits = {i: given.get(i, free_memory(i)) for i in group}
    limits.update({k: v for k, v in (max_memory or {}).items() if k in ("cpu", "disk")})
    if isinstance(device_map, dict):
        def move(v: Any) -> Any:
            if isinstance(v, int) or (isinstance(v, str) and v.isdigit()):
                if int(v) >= len(group):
                    raise SartorError(f"--device_map names GPU {v}, but each rank has {len(group)} GPU(s) (0..{len(group) - 1})")
                return group[int(v)]
            return v

        device_map = {name: move(v) for name, v in device_map.items()}
    return device_map, limits


def _place_on_rank_group(kwargs: dict) -> None:
    import torch

    if not torch.cuda.is_available():
        return
    group = ddp_device_group(int(os.environ.get("LOCAL_RANK", "0")), int(os.environ["LOCAL_WORLD_SIZE"]),
                             torch.cuda.device_count())
    kwargs["device_map"], kwargs["max_memory"] = rank_device_map(
        kwargs["device_map"], kwargs.get("max_memory"), group, lambda i: torch.cuda.mem_get_info(i)[0])
    from ..compat.accelerate import bypass_device_map

    bypass_device_map()  # accelerate then wraps the multi-GPU model in DDP
    get_logger().info(f"model parallel on GPUs {group} of this rank")


def tokenizer_dir(tokenizer: str, use_hf: bool = True, token: Optional[str] = None) -> str:
    """--tokenizer as a local directory: 'tiny', a directory, or a hub id (downloaded like --model)."""
    from .tiny import TINY_NAME, ensure_tiny_model

    if tokenizer == TINY_NAME:
        return ensure_tiny_model()
    expanded = os.path.expanduser(tokenizer)
    if os.path.isdir(expanded):
        return expanded
    if os.path.exists(expanded) or tokenizer.startswith((".", "/", "~")):
        raise SartorError(f"--tokenizer {tokenizer}: no such directory")
    from .hub import resolve_model_dir as download

    try:
        return download(tokenizer, use_hf=use_hf, token=token)
    except SartorError as e:
        raise SartorError(f"--tokenizer {tokenizer}: {e}") from None


def load_tokenizer(model_dir: str, tokenizer: Optional[str] = None, trust_remote_code: bool = False,
                   use_hf: bool = True, token: Optional[str] = None):
    from transformers import AutoTokenizer

    source = tokenizer_dir(tokenizer, use_hf, token) if tokenizer else model_dir
    try:
        tok = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    except ValueError as e:
        if "trust_remote_code" in str(e):
            raise SartorError(f"the tokenizer of {source} needs its own code: pass --trust_remote_code true if you trust it") from None
        raise SartorError(f"cannot load the tokenizer of {source}: {e}") from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def runs_repository_code(info: Any, trust_remote_code: bool) -> bool:
    """Whether loading will run the model's repository code (known from config.json, before loading): then its
    attention may not honour restarting position ids, nor take flash-attention."""
    return bool(trust_remote_code) and "AutoModelForCausalLM" in (info.config.get("auto_map") or {})


def _refuse_remote_code(model: str, info: ModelInfo) -> None:
    """A model that runs code from its repository (its registry entry says so, or config.json maps its classes
    to repository code for a model type transformers does not know) loads only with --trust_remote_code."""
    from transformers import CONFIG_MAPPING

    from .registry import MODEL_MAPPING

    entry = MODEL_MAPPING.get(info.model_type) if info.model_type else None
    config_type = info.config.get("model_type")
    remote = bool(info.config.get("auto_map")) and config_type not in CONFIG_MAPPING
    if remote or (entry is not None and entry.requires_remote_code and config_type not in CONFIG_MAPPING):
        raise SartorError(f"{model} needs code from its repository: pass --trust_remote_code true if you trust it")


def get_model_tokenizer(model: str, torch_dtype: Optional[str] = None, *, model_type: Optional[str] = None,
                        attn_impl: Optional[str] = None, device_map: Optional[str] = None, max_memory: Optional[str] = None,
                        model_kwargs: Optional[dict] = None, quant_method: Optional[str] = None,
                        quant_bits: Optional[int] = None, bnb_4bit_quant_type: str = "nf4",
                        bnb_4bit_use_double_quant: bool = True, bnb_4bit_compute_dtype: Optional[str] = None,
                        trust_remote_code: bool = False, use_hf: bool = True, model_revision: Optional[str] = None,
                        hub_token: Optional[str] = None, tokenizer: Optional[str] = None, load_model: bool = True,
                        auto_class: Any = None, info: Optional[ModelInfo] = None):
    """Load (model, tokenizer) for a hub id, local directory or 'tiny'. Returns model None if load_model is false.
    `auto_class` replaces AutoModelForCausalLM (e.g. AutoModelForSequenceClassification for a reward model).
    `info`: the model as resolve_model_info already found it (directory, registry entry, dtype): not found again.

    The model carries `model.model_info` (a ModelInfo) for downstream steps."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    if info is None:
        info = resolve_model_info(model, model_type=model_type, torch_dtype=torch_dtype, use_hf=use_hf,
                                  revision=model_revision, token=hub_token)
    elif torch_dtype and torch_dtype != info.torch_dtype:
        info = dataclasses.replace(info, torch_dtype=default_dtype(info.config, torch_dtype))
    if not trust_remote_code:
        _refuse_remote_code(model, info)
    tok = load_tokenizer(info.model_dir, tokenizer, trust_remote_code, use_hf=use_hf, token=hub_token)
    if not load_model:
        return None, tok
    try:
        config = AutoConfig.from_pretrained(info.model_dir, trust_remote_code=trust_remote_code)
    except ValueError as e:
        if "trust_remote_code" in str(e) or "custom code" in str(e):
            raise SartorError(f"{model} needs code from its repository: pass --trust_remote_code true if you trust it") from None
        raise SartorError(f"cannot read the config of {model}: {e}") from None
    dtype = getattr(torch, info.torch_dtype)
    kwargs: dict[str, Any] = {"dtype": dtype, "config": config, "trust_remote_code": trust_remote_code}
    if _attn_impl(attn_impl):
        kwargs["attn_implementation"] = _attn_impl(attn_impl)
    elif getattr(config, "model_type", None) in ARCH_ATTN:
        device = "cuda" if torch.cuda.is_available() and device_map != "cpu" else "cpu"
        kwargs["attn_implementation"] = ARCH_ATTN[config.model_type][device]
        get_logger().info(f"attention: {kwargs['attn_implementation']} for {config.model_type} on {device} "
                          "(its attention logits are soft-capped; --attn_impl chooses otherwise)")
    if device_map:
        kwargs["device_map"] = json.loads(device_map) if device_map.strip().startswith("{") else device_map
    if max_memory:
        kwargs["max_memory"] = {(int(k) if str(k).isdigit() else k): v for k, v in json.loads(max_memory).items()}
    if kwargs.get("device_map") not in (None, "cpu") and int(os.environ.get("LOCAL_WORLD_SIZE", "1")) > 1:
        _place_on_rank_group(kwargs)
    qcfg = _quant_config(quant_method, quant_bits, dtype, {"quant_type": bnb_4bit_quant_type,
                         "double_quant": bnb_4bit_use_double_quant, "compute_dtype": bnb_4bit_compute_dtype})
    if qcfg is not None:
        kwargs["quantization_config"] = qcfg
        if "device_map" not in kwargs and int(os.environ.get("LOCAL_WORLD_SIZE", "1")) > 1 and torch.cuda.is_available():
            kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))}  # QLoRA + DDP: each rank on its GPU
    kwargs.update(model_kwargs or {})
    get_logger().info(f"loading {model} ({info.model_type or 'unregistered'}) as {info.torch_dtype}")
    try:
        model_obj = (auto_class or AutoModelForCausalLM).from_pretrained(info.model_dir, **kwargs)
    except ValueError as e:
        if "attention implementation" not in str(e) and "attn_implementation" not in str(e):
            raise
        raise SartorError(f"{model} does not take --attn_impl {attn_impl}: {_accepted(config, auto_class)}leave "
                          "--attn_impl unset for the model's default") from None
    model_obj.model_info = info
    return model_obj, tok
