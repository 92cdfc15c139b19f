"""Logging: human logs go to stderr through one named logger; results go to stdout."""
import logging
import os
import sys

_LOGGER_NAME = "sartor"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a notebook, a UI or a test may replace it), not the one
    there was when the first message was logged."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def get_logger() -> logging.Logger:
    """Return the package logger, configured once to write to stderr."""
    logger = logging.getLogger(_LOGGER_NAME)
    if not logger.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("[sartor %(levelname)s] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(os.environ.get("SARTOR_LOG_LEVEL", "INFO").upper())
        logger.propagate = False
    return logger
