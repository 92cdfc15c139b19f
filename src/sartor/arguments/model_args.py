"""Which model to load and how: hub or local path, dtype, attention, device placement, quantisation."""
import json
from dataclasses import dataclass
from typing import Literal, Optional

from ..utils.errors import SartorError
from .fields import arg


@dataclass
class ModelArguments:
    model: Optional[str] = arg(None, "Hub id (Hugging Face or ModelScope), local directory, or 'tiny' for the built-in demo model.")
    model_type: Optional[str] = arg(None, "Registry entry to use (the README's Models section lists them; `sartor.model.MODEL_MAPPING` in Python); detected from config.json when unset.")
    tokenizer: Optional[str] = arg(None, "Tokenizer directory or hub id when it differs from --model.")
    model_revision: Optional[str] = arg(None, "Hub revision (branch, tag or commit) of --model.")
    torch_dtype: Optional[Literal["bfloat16", "float16", "float32"]] = arg(None, "Weights dtype; default: the model config's torch_dtype (float32 on CPU for half-precision configs).")
    attn_impl: Optional[Literal["sdpa", "flash_attn", "flash_attention_2", "flex_attention", "eager"]] = arg(None, "Attention implementation (default: flash_attn for training where flash-attn is installed and the weights are 16-bit on a GPU, else sdpa where the model takes it: eager for Gemma 2); a refused one is an error naming those the model takes.")
    device_map: Optional[str] = arg(None, "auto, cpu, cuda:0, or a JSON map of module name to device.")
    max_memory: Optional[str] = arg(None, 'JSON map of device to memory for --device_map auto, e.g. \'{"0": "20GiB", "cpu": "64GiB"}\'.')
    model_kwargs: Optional[dict] = arg(None, "JSON object of extra keyword arguments for from_pretrained.")
    use_hf: bool = arg(True, "Download hub ids from the Hugging Face Hub (true) or ModelScope (false).")
    hub_token: Optional[str] = arg(None, "Token for private hub models; default from HF_TOKEN / MODELSCOPE_API_TOKEN or the saved login. Never written to args.json or logs.", secret=True, repr=False)
    trust_remote_code: bool = arg(False, "Allow code from the model repository to run. Off unless you pass it.")
    quant_method: Optional[Literal["bnb", "hqq", "torchao", "gptq", "awq", "fp8"]] = arg(None, "Quantisation used to load (bnb for QLoRA) or to export.")
    quant_bits: Optional[int] = arg(None, "Quantisation bits: 4 or 8 for bnb; 2/3/4/8 for export methods.")
    bnb_4bit_quant_type: Literal["nf4", "fp4"] = arg("nf4", "bitsandbytes 4-bit data type.")
    bnb_4bit_use_double_quant: bool = arg(True, "bitsandbytes double quantisation of the quantisation constants.")
    bnb_4bit_compute_dtype: Optional[Literal["bfloat16", "float16", "float32"]] = arg(None, "Compute dtype of 4-bit layers (default: --torch_dtype).")

    def _validate_model(self) -> None:
        if self.quant_bits is not None and self.quant_method is None:
            raise SartorError("--quant_bits needs --quant_method (bnb for QLoRA training)")
        if self.quant_method == "bnb" and self.quant_bits not in (4, 8):
            raise SartorError(f"--quant_method bnb takes --quant_bits 4 or 8, got {self.quant_bits}")
        for name in ("max_memory",):
            value = getattr(self, name)
            if value:
                try:
                    json.loads(value)
                except json.JSONDecodeError:
                    raise SartorError(f"--{name} must be a JSON object, got {value!r}") from None
