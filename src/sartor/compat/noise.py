"""Known upstream noise that Sartor's own calls cause, silenced at the command line's start.

Each filter names one message (and the upstream logger or warning that says it), so anything else the libraries
say still shows; tests/unit/compat/test_noise.py checks that each message is still said where filtered:
- transformers' `is_gradient_checkpointing` FutureWarning, raised by PEFT when it wraps a model;
- "Token indices sequence length is longer than ..." (logger transformers.tokenization_utils_base): Sartor
  tokenises whole texts on purpose and applies --max_length and --truncation_strategy itself;
- torch's DataLoader worker-count warning, said once instead of once per epoch and evaluation;
- torchao's failed loads of CUDA-only kernels on machines without them, and torch's pytree notes about them
  (loggers torchao, torch.utils._pytree).
When stderr is not a terminal (a log file, a pipe, the web UI), progress bars are off (the documented
HF_DATASETS_DISABLE_PROGRESS_BARS and HF_HUB_DISABLE_PROGRESS_BARS): their carriage-return redraws would
interleave with the JSON log lines."""
import logging
import os
import warnings

from ..utils.quiet import progress_bars_wanted

GRADIENT_CHECKPOINTING_WARNING = r"`is_gradient_checkpointing` is deprecated"
DATALOADER_WORKERS_WARNING = r"This DataLoader will create \d+ worker processes"
TOKENIZER_LOGGER = "transformers.tokenization_utils_base"
TOKENIZER_LENGTH_MESSAGE = "Token indices sequence length is longer than"
KERNEL_LOGGERS = ("torchao", "torch.utils._pytree")


class _DropMessage(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def quiet_upstream_noise() -> None:
    warnings.filterwarnings("ignore", message=GRADIENT_CHECKPOINTING_WARNING, category=FutureWarning)
    warnings.filterwarnings("once", message=DATALOADER_WORKERS_WARNING, category=UserWarning)
    logging.getLogger(TOKENIZER_LOGGER).addFilter(_DropMessage(TOKENIZER_LENGTH_MESSAGE))
    for name in KERNEL_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    if not progress_bars_wanted():
        os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers follows huggingface_hub
