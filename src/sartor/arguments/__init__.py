from .composed import (AppArguments, DeployArguments, EvalArguments, ExportArguments, InferArguments, PtArguments,
                       RLHFArguments, SftArguments, WebUIArguments)
from .data_args import DataArguments
from .generation_args import GenerationArguments
from .model_args import ModelArguments
from .parser import parse_args
from .template_args import TemplateArguments
from .train_args import TrainArguments
from .tuner_args import TunerArguments
