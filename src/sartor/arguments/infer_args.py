"""What `infer` reads and where its answers go."""
from dataclasses import dataclass
from typing import Literal, Optional

from .fields import arg


@dataclass
class InferConcernArguments:
    ckpt_dir: Optional[str] = arg(None, "A checkpoint (adapter or full) or a run directory; its args.json supplies model, template and system.")
    load_args: bool = arg(True, "Read the checkpoint's args.json for what you leave unset.")
    query: Optional[str] = arg(None, "Answer this one query and exit; the answer alone goes to stdout.")
    infer_backend: Literal["pt", "vllm"] = arg("pt", "Inference engine: pt (transformers) or vllm.")
    max_batch_size: int = arg(16, "Most sequences generated together (dataset mode; concurrent requests in deploy).")
    load_dataset_config: bool = arg(False, "Generate over the validation split of the checkpoint's training run.")
    result_path: Optional[str] = arg(None, "JSONL file for dataset-mode results (default: inside the checkpoint directory).")
    merge_lora: bool = arg(False, "Merge the LoRA adapter into the base first and save it as <ckpt>-merged.")
    max_shard_size: str = arg("5GB", "Largest safetensors shard when saving a merged model.")
    val_dataset_sample: Optional[int] = arg(None, "Use at most N validation rows.")
