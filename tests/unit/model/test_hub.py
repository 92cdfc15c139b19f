"""Hub access: arguments reach the hub library, tokens come from env, failures are clear user errors."""
import sys

import huggingface_hub
import pytest

from sartor.model import hub
from sartor.utils.errors import SartorError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for key in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "MODELSCOPE_API_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def fake_hf(monkeypatch, tmp_path):
    calls = []

    def fake(repo_id, **kwargs):
        calls.append((repo_id, kwargs))
        return str(tmp_path / "snap")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake)
    return calls


def test_hf_download_passes_arguments(fake_hf, tmp_path):
    out = hub.snapshot_download("Qwen/Qwen2.5-0.5B-Instruct", revision="v1", token="tok", ignore_patterns=["*.bin"])
    assert out == str(tmp_path / "snap")
    repo_id, kwargs = fake_hf[0]
    assert repo_id == "Qwen/Qwen2.5-0.5B-Instruct"
    assert kwargs == {"revision": "v1", "token": "tok", "ignore_patterns": ["*.bin"], "local_files_only": False}


def test_hf_token_from_env_and_offline(fake_hf, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "env-token")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.snapshot_download("Qwen/Qwen2.5-0.5B-Instruct")
    _, kwargs = fake_hf[0]
    assert kwargs["token"] == "env-token" and kwargs["local_files_only"] is True
    # the argument wins over the environment; no token at all -> None (library's saved login)
    hub.snapshot_download("a/b", token="arg")
    assert fake_hf[1][1]["token"] == "arg"
    monkeypatch.delenv("HF_TOKEN")
    hub.snapshot_download("a/b")
    assert fake_hf[2][1]["token"] is None


def test_offline_cache_miss_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def fake(repo_id, **kwargs):
        assert kwargs["local_files_only"] is True
        raise huggingface_hub.errors.LocalEntryNotFoundError("not in cache")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake)
    with pytest.raises(SartorError) as e:
        hub.snapshot_download("Qwen/Qwen2.5-0.5B-Instruct")
    msg = str(e.value)
    assert "Qwen/Qwen2.5-0.5B-Instruct" in msg and "Hugging Face" in msg
    assert "HF_HUB_OFFLINE" in msg and "local directory" in msg


def test_network_failure_is_a_clear_error(monkeypatch):
    def fake(repo_id, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake)
    with pytest.raises(SartorError, match="network.*--use_hf false.*--model"):
        hub.snapshot_download("nobody/nothing")


def test_modelscope_missing_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "modelscope", None)  # makes `import modelscope` fail
    with pytest.raises(SartorError, match=r"pip install 'sartor\[modelscope\]'"):
        hub.snapshot_download("qwen/Qwen2.5-7B-Instruct", use_hf=False)


def test_modelscope_download_passes_arguments(monkeypatch, tmp_path):
    import types

    calls = []
    fake_ms = types.ModuleType("modelscope")
    fake_ms.snapshot_download = lambda model_id, **kw: calls.append((model_id, kw)) or str(tmp_path)
    monkeypatch.setitem(sys.modules, "modelscope", fake_ms)
    assert hub.snapshot_download("qwen/Qwen2.5-7B-Instruct", use_hf=False, revision="master") == str(tmp_path)
    assert calls == [("qwen/Qwen2.5-7B-Instruct", {"revision": "master", "ignore_file_pattern": None,
                                                   "local_files_only": False})]


def test_resolve_model_dir(fake_hf, tmp_path):
    # a local directory is returned untouched, without touching the hub
    assert hub.resolve_model_dir(str(tmp_path)) == str(tmp_path)
    assert fake_hf == []
    # a missing local path is an error, not a download attempt
    with pytest.raises(SartorError, match="does not exist"):
        hub.resolve_model_dir(str(tmp_path / "nope"))
    # a hub id is downloaded; a registry model_type maps to its hub id
    hub.resolve_model_dir("Qwen/Qwen2.5-0.5B-Instruct")
    hub.resolve_model_dir("qwen2_5-0_5b-instruct")
    assert [c[0] for c in fake_hf] == ["Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-0.5B-Instruct"]
    with pytest.raises(SartorError, match="built locally"):
        hub.resolve_model_dir("tiny")
