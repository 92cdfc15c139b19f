"""Shared test setup: an isolated cache for the tiny model, and the shared data folder."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

os.environ.setdefault("SARTOR_CACHE", str(REPO / ".cache" / "test-sartor"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_DISABLED", "true")


def pytest_sessionstart(session):
    """Tests that read ../shared (the sample datasets and the official chat templates) skip in a standalone
    clone; in CI (CI=true) a missing ../shared fails the run at once instead of passing it with those skipped."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes") and not (SHARED / "datasets").is_dir():
        pytest.exit(f"CI=true but the shared folder is missing ({SHARED.name}/datasets beside the repository): "
                    "the dataset and template tests would be skipped", returncode=1)


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    path = SHARED / "datasets"
    if not path.is_dir():
        pytest.skip("the shared datasets folder is not present")
    return path


@pytest.fixture(scope="session")
def tiny_dir() -> str:
    from sartor.model.tiny import ensure_tiny_model

    return ensure_tiny_model()


def pytest_collection_modifyitems(config, items):
    """Tests marked `gpu` are skipped where torch sees no CUDA device."""
    gpu_tests = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_tests:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in gpu_tests:
        item.add_marker(skip)
