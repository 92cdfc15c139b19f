"""Training loop settings: transformers TrainingArguments names, with ms-swift 3.x defaults.

Any other TrainingArguments field is accepted on the command line and passed through
(collected in `training_args`)."""
from dataclasses import dataclass
from typing import Literal, Optional

from ..utils.errors import SartorError
from .fields import arg


@dataclass
class TrainArguments:
    output_dir: Optional[str] = arg(None, "Where runs go (default output/<model name>); each run gets v<N>-<timestamp>/ inside.")
    add_version: bool = arg(True, "Create a v<N>-<YYYYMMDD-HHMMSS> run directory inside --output_dir.")
    num_train_epochs: float = arg(3.0, "Epochs over the training data.")
    max_steps: int = arg(-1, "Stop after this many optimizer steps (overrides epochs when > 0).")
    per_device_train_batch_size: int = arg(1, "Samples per device per micro-batch.")
    per_device_eval_batch_size: int = arg(1, "Samples per device per evaluation batch.")
    gradient_accumulation_steps: Optional[int] = arg(None, "Micro-batches per optimizer step (default: 16 / (batch size x world size), at least 1).")
    learning_rate: Optional[float] = arg(None, "Peak learning rate (default 1e-4 for tuners, 1e-5 for full).")
    lr_scheduler_type: str = arg("cosine", "Learning-rate schedule: cosine, linear, constant, constant_with_warmup, ...")
    warmup_ratio: float = arg(0.0, "Fraction of steps for linear warm-up.")
    warmup_steps: int = arg(0, "Warm-up steps (wins over --warmup_ratio when > 0).")
    weight_decay: float = arg(0.1, "AdamW weight decay.")
    adam_beta1: float = arg(0.9, "AdamW beta1.")
    adam_beta2: float = arg(0.95, "AdamW beta2.")
    max_grad_norm: float = arg(1.0, "Gradient clipping norm.")
    optim: Optional[str] = arg(None, "Optimizer (default adamw_torch_fused on CUDA, adamw_torch elsewhere).")
    seed: int = arg(42, "Random seed for initialisation, dropout and data order.")
    gradient_checkpointing: bool = arg(True, "Recompute activations in backward to save memory.")
    logging_steps: int = arg(5, "Log every N optimizer steps.")
    logging_first_step: bool = arg(True, "Also log the first step.")
    save_strategy: Literal["steps", "epoch", "no"] = arg("steps", "When to save checkpoints.")
    save_steps: int = arg(500, "Save every N steps.")
    save_total_limit: Optional[int] = arg(None, "Keep at most N checkpoints (the best is kept too).")
    save_only_model: bool = arg(False, "Save only weights, not optimizer and RNG state (checkpoints then cannot resume exactly).")
    eval_strategy: Optional[Literal["steps", "epoch", "no"]] = arg(None, "When to evaluate (default: as --save_strategy, 'no' without a validation set).")
    eval_steps: Optional[int] = arg(None, "Evaluate every N steps (default --save_steps).")
    metric_for_best_model: str = arg("loss", "Metric that picks best_model_checkpoint (loss, acc, rouge-l, bleu-4, ...).")
    greater_is_better: Optional[bool] = arg(None, "Whether a larger --metric_for_best_model is better (default: false for loss, true otherwise).")
    load_best_model_at_end: bool = arg(False, "Load the best checkpoint at the end of training.")
    predict_with_generate: bool = arg(False, "Evaluate by generating answers and scoring ROUGE-L and BLEU-4.")
    acc_strategy: Literal["token", "seq"] = arg("token", "Accuracy logged in training and eval: per token or per whole answer.")
    resume_from_checkpoint: Optional[str] = arg(None, "Resume exactly (weights, optimizer, scheduler, RNG and data order): true for the latest complete checkpoint of --output_dir, or a checkpoint, run or output directory (its latest complete checkpoint).")
    router_aux_loss_coef: Optional[float] = arg(None, "Mixture-of-experts models: weight of the router's load-balancing loss (> 0 turns it on, 0 off; default: the model config's).")
    neftune_noise_alpha: Optional[float] = arg(None, "NEFTune embedding noise alpha (e.g. 5).")
    report_to: list[str] = arg(["tensorboard"], "Where to report metrics: tensorboard, wandb, none (tensorboard is skipped when not installed).")
    dataloader_num_workers: int = arg(0, "Data-loader worker processes.")
    train_dataloader_shuffle: bool = arg(True, "Shuffle the training data each epoch.")
    group_by_length: bool = arg(False, "Batch rows of similar length together.")
    ddp_backend: Optional[str] = arg(None, "Distributed backend: nccl, gloo, ... (default nccl on CUDA, gloo on CPU).")
    ddp_timeout: int = arg(18000, "Seconds before a distributed collective times out.")
    ddp_find_unused_parameters: Optional[bool] = arg(None, "DDP find_unused_parameters.")
    deepspeed: Optional[str] = arg(None, "DeepSpeed: zero0|zero1|zero2|zero3|zero2_offload|zero3_offload or a JSON file.")
    fsdp: Optional[str] = arg(None, "PyTorch FSDP2 sharding: 'full_shard auto_wrap', 'shard_grad_op auto_wrap', add 'offload' for CPU offload.")
    fsdp_config: Optional[str] = arg(None, "FSDP options: a JSON file or JSON object (version, reshard_after_forward, cpu_ram_efficient_loading, ...).")
    packing: bool = arg(False, "Bin-pack rows into sequences of --max_length (attention never crosses rows).")
    padding_free: Optional[bool] = arg(None, "Flatten each micro-batch into one sequence without padding; position ids restart per row and attention never crosses rows. Default: on with CUDA, off on CPU (where the block mask costs more than padding).")
    use_liger_kernel: bool = arg(False, "Use liger-kernel fused kernels (pip install 'sartor[liger]').")
    torch_compile: bool = arg(False, "torch.compile the model.")
    activation_offloading: bool = arg(False, "Keep the activations saved for backward in host memory between forward and backward (less GPU memory, more PCIe traffic; combines with gradient checkpointing).")
    dry_run: bool = arg(False, "Print the plan (resolved arguments, world layout, GPU memory per GPU) and exit; reads config.json only.")
    push_to_hub: bool = arg(False, "Push checkpoints to the hub while training (--use_hf true: Hugging Face, false: ModelScope).")
    hub_model_id: Optional[str] = arg(None, "Repository to push to, e.g. your-name/my-model.")
    hub_private_repo: bool = arg(False, "Create the hub repository as private.")
    push_hub_strategy: Literal["end", "push_best", "push_last", "checkpoint", "all_checkpoints"] = arg("end", "What to push: end (the returned best-or-last model), push_best, push_last, checkpoint (also each save to last-checkpoint/), all_checkpoints (also each save to checkpoint-N/).")
    commit_message: str = arg("update files", "Commit message of hub uploads.")
    training_args: Optional[dict] = arg(None, "JSON object of further transformers TrainingArguments fields.")

    def _validate_train(self) -> None:
        if self.per_device_train_batch_size < 1:
            raise SartorError(f"--per_device_train_batch_size must be at least 1, got {self.per_device_train_batch_size}")
        if self.gradient_accumulation_steps is not None and self.gradient_accumulation_steps < 1:
            raise SartorError(f"--gradient_accumulation_steps must be at least 1, got {self.gradient_accumulation_steps}")
        if self.learning_rate is not None and self.learning_rate <= 0:
            raise SartorError(f"--learning_rate must be positive, got {self.learning_rate}")
        if self.num_train_epochs <= 0 and self.max_steps <= 0:
            raise SartorError("give --num_train_epochs > 0 or --max_steps > 0")
        if self.router_aux_loss_coef is not None and self.router_aux_loss_coef < 0:
            raise SartorError(f"--router_aux_loss_coef must be 0 or more, got {self.router_aux_loss_coef}")
        if self.logging_steps < 1 or self.save_steps < 1:
            raise SartorError("--logging_steps and --save_steps must be at least 1")
