"""Known upstream noise that Sartor's own calls cause, silenced at the command line's start.

Each filter names one message, so anything else the libraries say still shows:
- transformers' `is_gradient_checkpointing` FutureWarning, raised by PEFT when it wraps a model;
- "Token indices sequence length is longer than ...": Sartor tokenises whole texts on purpose and applies
  --max_length and --truncation_strategy itself;
- torch's DataLoader worker-count warning, said once instead of once per epoch and evaluation;
- torchao's failed loads of CUDA-only kernels on machines without them.
When stderr is not a terminal (a log file, a pipe, the web UI), progress bars are off: their carriage-return
redraws would interleave with the JSON log lines."""
import logging
import sys
import warnings


class _DropMessage(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def quiet_upstream_noise() -> None:
    warnings.filterwarnings("ignore", message=r"`is_gradient_checkpointing` is deprecated", category=FutureWarning)
    warnings.filterwarnings("once", message=r"This DataLoader will create \d+ worker processes", category=UserWarning)
    logging.getLogger("transformers.tokenization_utils_base").addFilter(
        _DropMessage("Token indices sequence length is longer than"))
    for name in ("torchao", "torch.utils._pytree"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if not progress_bars_wanted():
        import os

        os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers follows huggingface_hub


def progress_bars_wanted() -> bool:
    """Progress bars go to a terminal; piped stderr gets the JSON log lines alone."""
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())
