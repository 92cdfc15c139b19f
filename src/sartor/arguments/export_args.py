"""What `export` writes: merged, quantised, pushed or Ollama-ready models."""
from dataclasses import dataclass
from typing import Optional

from .fields import arg


@dataclass
class ExportConcernArguments:
    ckpt_dir: Optional[str] = arg(None, "Checkpoint (adapter or full) or run directory to export.")
    load_args: bool = arg(True, "Read the checkpoint's args.json for what you leave unset.")
    output_dir: Optional[str] = arg(None, "Where the exported model goes (default <ckpt>-merged / <ckpt>-<method>-int<bits>).")
    merge_lora: bool = arg(False, "Merge the LoRA adapter into the base weights.")
    max_shard_size: str = arg("5GB", "Largest safetensors shard.")
    quant_n_samples: int = arg(256, "Calibration rows for GPTQ/AWQ.")
    quant_batch_size: int = arg(1, "Calibration batch size.")
    group_size: int = arg(128, "Quantisation group size.")
    to_ollama: bool = arg(False, "Write an Ollama Modelfile beside the exported weights.")
    push_to_hub: bool = arg(False, "Upload the result to the hub (see --use_hf).")
    hub_model_id: Optional[str] = arg(None, "Repository id to push to, e.g. user/my-model.")
    hub_private_repo: bool = arg(False, "Create the hub repository as private.")
    commit_message: str = arg("update files", "Commit message of the hub upload.")
