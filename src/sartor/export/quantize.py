"""Quantise a standalone model directory into one that plain transformers loads (quantization_config).

torchao, HQQ, bitsandbytes and FP8 go through transformers' own quantizers (load with the config,
save); GPTQ and AWQ through GPT-QModel with calibration rows. Only torchao is exercised on CPU in
the tests; the others need a CUDA GPU (or libraries not installed on the CPU development machines)."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from ..utils.errors import SartorError
from ..utils.logging import get_logger

if TYPE_CHECKING:
    from ..arguments import ExportArguments, ModelArguments

QUANT_BITS: dict[str, tuple[int, ...]] = {
    "torchao": (2, 3, 4, 8), "hqq": (1, 2, 3, 4, 8), "bnb": (4, 8), "gptq": (2, 3, 4, 8), "awq": (4,), "fp8": (8,),
}
NEEDS_CUDA = ("gptq", "awq", "fp8")
NEEDS_CALIBRATION = ("gptq", "awq")
# method -> (module to import, pip extra, pip package)
LIBRARY = {"torchao": ("torchao", "quant", "torchao"), "hqq": ("hqq", "quant", "hqq"),
           "bnb": ("bitsandbytes", "quant", "bitsandbytes"), "gptq": ("gptqmodel", "gptq", "gptqmodel"),
           "awq": ("gptqmodel", "gptq", "gptqmodel")}


def default_bits(method: str) -> int:
    return {"fp8": 8, "awq": 4, "torchao": 8}.get(method, 4)


def check_quant(method: str, bits: int, has_calibration: bool) -> None:
    """Fail early, before loading anything: the library, the device and the data that `method` needs."""
    import torch

    if method not in QUANT_BITS:
        raise SartorError(f"--quant_method {method} cannot export; choose one of {', '.join(QUANT_BITS)}")
    if bits not in QUANT_BITS[method]:
        raise SartorError(f"--quant_method {method} takes --quant_bits {' or '.join(map(str, QUANT_BITS[method]))}, "
                          f"got {bits}")
    if method in LIBRARY:
        module, extra, package = LIBRARY[method]
        if importlib.util.find_spec(module) is None:
            raise SartorError(f"--quant_method {method} needs the '{package}' package. Install it with: "
                              f"pip install 'sartor[{extra}]'  (or: pip install {package})")
        if method == "torchao":
            _import_quietly("torchao")
    if method in NEEDS_CUDA and not torch.cuda.is_available():
        raise SartorError(f"--quant_method {method} needs a CUDA GPU; on CPU use --quant_method torchao")
    if method in NEEDS_CALIBRATION and not has_calibration:
        raise SartorError(f"--quant_method {method} calibrates on data: give --dataset (e.g. the training data), "
                          "--quant_n_samples rows of it are used")


def _import_quietly(module: str) -> None:
    """Import `module` without its warnings about optional kernels it cannot load (e.g. CUDA ones on CPU)."""
    import importlib
    import logging

    logger = logging.getLogger(module)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        importlib.import_module(module)
    finally:
        logger.setLevel(level)


def linear_in_features(model_dir: str, trust_remote_code: bool = False) -> dict[str, int]:
    """in_features of every nn.Linear except the output head, from the config alone (meta device)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, trust_remote_code=trust_remote_code)
    head = model.get_output_embeddings()
    return {name: m.in_features for name, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and m is not head}


def fit_group_size(group_size: int, in_features: dict[str, int]) -> int:
    """The largest group size <= `group_size` that divides every layer's in_features (with a warning
    when it is smaller than asked)."""
    if group_size <= 0 or not in_features:
        return group_size
    size = group_size
    while size > 1 and any(n % size for n in in_features.values()):
        size -= 1
    if size != group_size:
        bad = next(k for k, n in in_features.items() if n % group_size)
        get_logger().warning(f"--group_size {group_size} does not divide the {in_features[bad]} inputs of {bad}: "
                             f"using {size}")
    return size


def hf_quantization_config(method: str, bits: int, group_size: int, args: ModelArguments,
                           torch_dtype: str = "bfloat16") -> Any:
    """A transformers quantization config for the methods transformers applies at load time."""
    import torch

    if method == "torchao":
        from transformers import TorchAoConfig
        from torchao.quantization import Int8WeightOnlyConfig, IntxWeightOnlyConfig
        from torchao.quantization.granularity import PerGroup

        if bits == 8:
            return TorchAoConfig(Int8WeightOnlyConfig())
        return TorchAoConfig(IntxWeightOnlyConfig(weight_dtype=getattr(torch, f"int{bits}"),
                                                  granularity=PerGroup(group_size)))
    if method == "hqq":
        from transformers import HqqConfig

        return HqqConfig(nbits=bits, group_size=group_size)
    if method == "bnb":
        from transformers import BitsAndBytesConfig

        if bits == 8:
            return BitsAndBytesConfig(load_in_8bit=True)
        compute = args.bnb_4bit_compute_dtype or torch_dtype
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=args.bnb_4bit_quant_type,
                                  bnb_4bit_use_double_quant=args.bnb_4bit_use_double_quant,
                                  bnb_4bit_compute_dtype=getattr(torch, compute))
    if method == "fp8":
        from transformers import FineGrainedFP8Config

        return FineGrainedFP8Config()
    raise SartorError(f"--quant_method {method} is not applied through transformers")


def _save_tokenizer(src_dir: str, out_dir: str, tokenizer: Any) -> None:
    tokenizer.save_pretrained(out_dir)
    for name in ("args.json",):
        src = Path(src_dir) / name
        if src.is_file() and not (Path(out_dir) / name).exists():
            (Path(out_dir) / name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")


def quantize_with_transformers(method: str, bits: int, src_dir: str, out_dir: str, *, args: ExportArguments,
                               tokenizer: Any,
                               torch_dtype: str) -> dict:
    """Load `src_dir` with the quantization config and save it (safetensors)."""
    import torch
    from transformers import AutoModelForCausalLM

    trust = args.trust_remote_code
    if method == "fp8" and torch_dtype == "float32":
        torch_dtype = "bfloat16"  # FP8 kernels compute in half precision
    group_size = args.group_size
    if method in ("torchao", "hqq") and not (method == "torchao" and bits == 8):
        group_size = fit_group_size(args.group_size, linear_in_features(src_dir, trust))
    qcfg = hf_quantization_config(method, bits, group_size, args, torch_dtype)
    kwargs: dict[str, Any] = {"dtype": getattr(torch, torch_dtype), "quantization_config": qcfg,
                              "trust_remote_code": trust}
    if torch.cuda.is_available():
        kwargs["device_map"] = {"": 0} if method in ("hqq", "bnb", "fp8") else "auto"
    get_logger().info(f"quantising {src_dir} with {method} int{bits}"
                      + (f" (group size {group_size})" if method in ("torchao", "hqq") and bits < 8 else ""))
    try:
        model = AutoModelForCausalLM.from_pretrained(src_dir, **kwargs)
    except (RuntimeError, ValueError, ImportError) as e:
        raise SartorError(f"{method} int{bits} quantisation of {src_dir} failed: {str(e).splitlines()[0]}") from None
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True, max_shard_size=args.max_shard_size)
    _save_tokenizer(src_dir, out_dir, tokenizer)
    del model
    info: dict[str, Any] = {"group_size": group_size if method in ("torchao", "hqq") and bits < 8 else None}
    if method == "torchao" and bits < 8:
        info["note"] = (f"torchao keeps int{bits} values unpacked in int8 storage, so the file is about as large as "
                        "int8: for a smaller file on CPU use --quant_bits 8; packed 4-bit formats are hqq/gptq/awq")
    return info


def quantize_with_gptqmodel(method: str, bits: int, src_dir: str, out_dir: str, *, args: ExportArguments,
                            tokenizer: Any,
                            calibration: list[dict]) -> dict:
    """GPTQ or AWQ with GPT-QModel, calibrated on `calibration` ({"input_ids", "attention_mask"} rows)."""
    from ..utils.lazy import require

    require("gptqmodel", "gptq")
    from gptqmodel import GPTQModel, QuantizeConfig

    if method == "awq":
        try:
            from gptqmodel import AWQConfig

            qcfg = AWQConfig(bits=bits, group_size=args.group_size)
        except ImportError:  # GPT-QModel < 6: one config class for every method
            from gptqmodel.quantization import FORMAT, METHOD

            qcfg = QuantizeConfig(bits=bits, group_size=args.group_size, quant_method=METHOD.AWQ, format=FORMAT.GEMM)
    else:
        qcfg = QuantizeConfig(bits=bits, group_size=args.group_size)
    get_logger().info(f"quantising {src_dir} with {method} int{bits} (GPT-QModel) on {len(calibration)} calibration rows")
    model = GPTQModel.load(src_dir, qcfg, trust_remote_code=args.trust_remote_code)
    model.quantize(calibration, batch_size=args.quant_batch_size, tokenizer=tokenizer)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    model.save(out_dir)
    _save_tokenizer(src_dir, out_dir, tokenizer)
    del model
    return {"group_size": args.group_size, "calibration_rows": len(calibration)}


def quantize_model(method: str, bits: int, src_dir: str, out_dir: str, *, args: ExportArguments, tokenizer: Any,
                   torch_dtype: str, calibration: Optional[list[dict]] = None) -> dict:
    """Write the quantised model to out_dir; returns details for the report."""
    if method in ("gptq", "awq"):
        return quantize_with_gptqmodel(method, bits, src_dir, out_dir, args=args, tokenizer=tokenizer,
                                       calibration=calibration or [])
    return quantize_with_transformers(method, bits, src_dir, out_dir, args=args, tokenizer=tokenizer,
                                      torch_dtype=torch_dtype)
