"""Sartor: fine-tune large language models.

Names are imported on first use, so `import sartor` stays fast."""
import importlib
from typing import Any

from .version import __version__

_EXPORTS = {
    "SftArguments": "sartor.arguments", "PtArguments": "sartor.arguments", "RLHFArguments": "sartor.arguments",
    "InferArguments": "sartor.arguments", "ExportArguments": "sartor.arguments", "DeployArguments": "sartor.arguments",
    "AppArguments": "sartor.arguments", "EvalArguments": "sartor.arguments", "WebUIArguments": "sartor.arguments",
    "sft_main": "sartor.train.sft", "pt_main": "sartor.train.pt", "rlhf_main": "sartor.train.rlhf", "infer_main": "sartor.infer.infer_main",
    "deploy_main": "sartor.deploy",
    "export_main": "sartor.export.export_main", "eval_main": "sartor.eval.eval_main", "merge_lora": "sartor.export.merge",
    "inference": "sartor.infer.api", "PtEngine": "sartor.infer.engine", "RequestConfig": "sartor.infer.engine",
    "get_model_tokenizer": "sartor.model.loader", "ModelType": "sartor.model.registry",
    "MODEL_MAPPING": "sartor.model.registry", "register_model": "sartor.model.registry",
    "get_template": "sartor.template", "TemplateType": "sartor.template", "TEMPLATE_MAPPING": "sartor.template",
    "register_template": "sartor.template", "load_dataset": "sartor.dataset", "DatasetName": "sartor.dataset",
    "DATASET_MAPPING": "sartor.dataset", "register_dataset": "sartor.dataset", "SartorError": "sartor.utils.errors",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sartor' has no attribute {name!r}")
