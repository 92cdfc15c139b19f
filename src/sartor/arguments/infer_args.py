"""What `infer` reads and where its answers go."""
from dataclasses import dataclass
from typing import Literal, Optional

from ..utils.errors import SartorError
from .fields import arg


@dataclass
class VllmArguments:
    """Settings of the vllm backend (--infer_backend vllm)."""

    gpu_memory_utilization: float = arg(0.9, "vllm: fraction of each GPU's memory for weights and KV cache.")
    tensor_parallel_size: int = arg(1, "vllm: GPUs to split the model across.")
    max_model_len: Optional[int] = arg(None, "Context length to serve (prompt + answer); default: the model config's.")
    enforce_eager: bool = arg(False, "vllm: no CUDA graphs (starts faster, generates slower).")

    def _validate_vllm(self) -> None:
        if not 0 < self.gpu_memory_utilization <= 1:
            raise SartorError(f"--gpu_memory_utilization must be in (0, 1], got {self.gpu_memory_utilization}")
        if self.tensor_parallel_size < 1:
            raise SartorError(f"--tensor_parallel_size must be at least 1, got {self.tensor_parallel_size}")
        if self.max_model_len is not None and self.max_model_len < 2:
            raise SartorError(f"--max_model_len must be at least 2, got {self.max_model_len}")


@dataclass
class InferConcernArguments(VllmArguments):
    ckpt_dir: Optional[str] = arg(None, "A checkpoint (adapter or full) or a run directory; its args.json supplies model, template and system.")
    load_args: bool = arg(True, "Read the checkpoint's args.json for what you leave unset.")
    query: Optional[str] = arg(None, "Answer this one query and exit; the answer alone goes to stdout.")
    infer_backend: Literal["pt", "vllm"] = arg("pt", "Inference engine: pt (transformers) or vllm (pip install 'sartor[vllm]', CUDA GPU).")
    max_batch_size: int = arg(16, "Most sequences generated together (dataset mode; concurrent requests in deploy).")
    load_dataset_config: bool = arg(False, "Generate over the validation split of the checkpoint's training run.")
    result_path: Optional[str] = arg(None, "JSONL file for dataset-mode results (default: inside the checkpoint directory).")
    merge_lora: bool = arg(False, "Merge the LoRA adapter into the base first and save it as <ckpt>-merged.")
    max_shard_size: str = arg("5GB", "Largest safetensors shard when saving a merged model.")
    val_dataset_sample: Optional[int] = arg(None, "Use at most N validation rows.")
