"""Fixtures for the dataset tests: a private datasets cache, collected sartor logs, the shared data."""
from __future__ import annotations

import logging
from pathlib import Path

import datasets
import pytest

from sartor.utils.logging import get_logger

SHARED_DATASETS = Path(__file__).resolve().parents[3].parent / "shared" / "datasets"


@pytest.fixture(autouse=True, scope="session")
def _private_datasets_cache(tmp_path_factory):
    old = datasets.config.HF_DATASETS_CACHE
    datasets.config.HF_DATASETS_CACHE = tmp_path_factory.mktemp("hf_datasets_cache")
    datasets.disable_progress_bars()
    yield
    datasets.config.HF_DATASETS_CACHE = old


@pytest.fixture
def shared_datasets() -> Path:
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATASETS}")
    return SHARED_DATASETS


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def sartor_logs():
    handler = _Collect()
    logger = get_logger()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)
