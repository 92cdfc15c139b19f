"""Logging: human logs go to stderr through one named logger; results go to stdout."""
import logging
import os
import sys

_LOGGER_NAME = "sartor"


def get_logger() -> logging.Logger:
    """Return the package logger, configured once to write to stderr."""
    logger = logging.getLogger(_LOGGER_NAME)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[sartor %(levelname)s] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(os.environ.get("SARTOR_LOG_LEVEL", "INFO").upper())
        logger.propagate = False
    return logger
