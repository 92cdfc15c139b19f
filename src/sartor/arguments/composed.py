"""The argument classes of each command, composed from one dataclass per concern."""
from dataclasses import dataclass
from typing import Literal, Optional

from ..utils.errors import SartorError
from .base import ArgumentsBase
from .data_args import DataArguments
from .deploy_args import AppConcernArguments, DeployConcernArguments
from .export_args import ExportConcernArguments
from .fields import arg
from .generation_args import GenerationArguments
from .infer_args import InferConcernArguments
from .model_args import ModelArguments
from .rlhf_args import RLHFConcernArguments
from .template_args import TemplateArguments
from .train_args import TrainArguments
from .tuner_args import TunerArguments


@dataclass
class SftArguments(ArgumentsBase, TrainArguments, TunerArguments, TemplateArguments, DataArguments, ModelArguments):
    """Supervised fine-tuning."""

    def _validate_sft(self) -> None:
        if self.streaming and self.max_steps <= 0:
            raise SartorError("--streaming true needs --max_steps (a stream has no known length)")


@dataclass
class PtArguments(SftArguments):
    """Continued pre-training on raw text: loss on every token, packing on."""

    loss_scale: Literal["default", "last_round", "all"] = arg("all", "Which tokens carry loss (pt: all).")
    packing: bool = arg(True, "Bin-pack rows into sequences of --max_length (attention never crosses rows).")
    truncation_strategy: Literal["delete", "left", "right"] = arg("right", "Texts over --max_length: keep the first --max_length tokens (right), the last (left), or drop them (delete).")


@dataclass
class RLHFArguments(RLHFConcernArguments, SftArguments):
    """Preference training."""

    padding_free: Optional[bool] = arg(False, "Not available for rlhf: chosen and rejected stay whole padded rows.")


@dataclass
class InferArguments(ArgumentsBase, InferConcernArguments, GenerationArguments, TunerArguments, TemplateArguments, DataArguments, ModelArguments):
    """Inference: interactive, one query, or over a dataset."""

    split_dataset_ratio: float = arg(0.0, "Fraction of --val_dataset rows to use when it is a training file (0: all).")


@dataclass
class ExportArguments(ArgumentsBase, ExportConcernArguments, TunerArguments, TemplateArguments, DataArguments, ModelArguments):
    """Merge, quantise, push or write an Ollama Modelfile."""


@dataclass
class DeployArguments(DeployConcernArguments, InferArguments):
    """OpenAI-compatible server."""


@dataclass
class AppArguments(AppConcernArguments, InferArguments):
    """Chat web UI."""


@dataclass
class EvalArguments(InferArguments):
    """Metrics of a model or checkpoint on datasets."""

    eval_limit: Optional[int] = arg(None, "Evaluate at most N rows per dataset.")


@dataclass
class WebUIArguments(ArgumentsBase, AppConcernArguments):
    """Training web UI."""

    output_dir: str = arg("output", "Folder where the UI's runs live.")
    allow_code_flags: bool = arg(False, "Let the page pass flags that run code (--custom_register_path, "
                                 "--trust_remote_code, ...); off, they are refused. Only where you alone reach the page.")
