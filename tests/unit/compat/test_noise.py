"""The upstream messages compat/noise.py filters are still said where it filters them (else a filter is dead
weight and the message it meant may be coming from elsewhere); filtering leaves every other message alone."""
import importlib.util
import inspect
import logging
import re
import warnings

import torch.utils.data.dataloader
import transformers.modeling_utils
import transformers.tokenization_utils_base

from sartor.compat import noise, relied_on


def test_the_gradient_checkpointing_warning_is_transformers():
    source = inspect.getsource(transformers.modeling_utils.PreTrainedModel.is_gradient_checkpointing.fget)
    assert re.search(noise.GRADIENT_CHECKPOINTING_WARNING, source) and "FutureWarning" in source, relied_on(
        "transformers", "PreTrainedModel.is_gradient_checkpointing no longer warns that it is deprecated")


def test_the_tokenizer_length_message_comes_from_its_logger():
    module = transformers.tokenization_utils_base
    said = noise.TOKENIZER_LENGTH_MESSAGE in inspect.getsource(module)
    assert module.logger.name == noise.TOKENIZER_LOGGER and said, relied_on(
        "transformers", f"'{noise.TOKENIZER_LENGTH_MESSAGE}' is no longer logged by {noise.TOKENIZER_LOGGER}")


def test_the_dataloader_warning_is_torch_s():
    assert re.search(noise.DATALOADER_WORKERS_WARNING.replace(r"\d+", r"\{\w+\}"),
                     inspect.getsource(torch.utils.data.dataloader)), relied_on(
        "torch", "the DataLoader's worker-count warning changed its words")


def test_the_kernel_loggers_are_modules():
    for name in noise.KERNEL_LOGGERS:
        if name == "torchao" and importlib.util.find_spec("torchao") is None:
            continue
        assert importlib.util.find_spec(name) is not None, f"{name} is no module any more"


def test_only_the_named_messages_are_dropped(monkeypatch):
    monkeypatch.setattr(warnings, "filters", list(warnings.filters))
    logger = logging.getLogger(noise.TOKENIZER_LOGGER)
    monkeypatch.setattr(logger, "filters", list(logger.filters))
    for env in ("HF_DATASETS_DISABLE_PROGRESS_BARS", "HF_HUB_DISABLE_PROGRESS_BARS"):  # restored afterwards
        monkeypatch.delenv(env, raising=False)
    noise.quiet_upstream_noise()
    drop = logger.filters[-1]
    keep = logging.LogRecord(noise.TOKENIZER_LOGGER, logging.WARNING, "", 0, "something else", None, None)
    gone = logging.LogRecord(noise.TOKENIZER_LOGGER, logging.WARNING, "", 0,
                             noise.TOKENIZER_LENGTH_MESSAGE + " the specified maximum", None, None)
    assert drop.filter(keep) and not drop.filter(gone)
