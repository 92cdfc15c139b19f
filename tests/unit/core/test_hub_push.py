"""Pushing to a hub, checked against a fake client: what would be uploaded, where, and how."""
import json
import types

import pytest

from sartor.arguments import ExportArguments, SftArguments
from sartor.core import hub
from sartor.core.hub import PushTarget, check_push, push_folder, upload_plan
from sartor.train.hub_callback import PushToHubCallback, hub_callbacks
from sartor.utils.errors import SartorError


class FakeHub:
    """Records create_repo / upload_folder calls and the files each upload would send."""

    def __init__(self):
        self.repos, self.uploads = [], []

    def create_repo(self, repo_id, private):
        self.repos.append({"repo_id": repo_id, "private": private})
        return f"https://hub.example/{repo_id}"

    def upload_folder(self, folder, repo_id, path_in_repo, commit_message, ignore_patterns):
        self.uploads.append({"folder": folder, "repo_id": repo_id, "path_in_repo": path_in_repo,
                             "commit_message": commit_message, "files": upload_plan(folder, ignore_patterns)})
        return f"https://hub.example/{repo_id}/commit/1"


@pytest.fixture
def fake(monkeypatch):
    client = FakeHub()
    made = []

    def make_client(use_hf, token):
        made.append((use_hf, token))
        return client

    monkeypatch.setattr(hub, "make_client", make_client)
    client.made = made
    return client


@pytest.fixture
def no_login(monkeypatch):
    for key in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "MODELSCOPE_API_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(hub, "saved_login_token", lambda use_hf: None)


def _checkpoint(path):
    path.mkdir(parents=True)
    for name in ("adapter_model.safetensors", "adapter_config.json", "args.json", "optimizer.pt", "scheduler.pt",
                 "rng_state.pth", "trainer_state.json"):
        (path / name).write_text("{}" if name.endswith(".json") else "x")
    return path


def test_missing_repo_id_or_token_is_a_clear_error(no_login):
    with pytest.raises(SartorError, match="--hub_model_id"):
        check_push(ExportArguments(model="tiny", push_to_hub=True))
    with pytest.raises(SartorError, match="HF_TOKEN"):
        check_push(ExportArguments(model="tiny", push_to_hub=True, hub_model_id="me/model"))
    with pytest.raises(SartorError, match="MODELSCOPE_API_TOKEN"):
        check_push(ExportArguments(model="tiny", push_to_hub=True, hub_model_id="me/model", use_hf=False))
    with pytest.raises(SartorError, match="owner/name"):
        check_push(ExportArguments(model="tiny", push_to_hub=True, hub_model_id="model", hub_token="t"))
    assert check_push(ExportArguments(model="tiny")) is None


def test_token_from_flag_then_environment_then_saved_login(no_login, monkeypatch):
    args = dict(model="tiny", push_to_hub=True, hub_model_id="me/model")
    monkeypatch.setattr(hub, "saved_login_token", lambda use_hf: "saved")
    assert check_push(ExportArguments(**args)).token == "saved"
    monkeypatch.setenv("HF_TOKEN", "env")
    assert check_push(ExportArguments(**args)).token == "env"
    assert check_push(ExportArguments(**args, hub_token="flag")).token == "flag"
    monkeypatch.setenv("MODELSCOPE_API_TOKEN", "ms")
    target = check_push(ExportArguments(**args, use_hf=False))
    assert target.token == "ms" and not target.use_hf and target.hub == "ModelScope"


def test_push_sends_the_model_files_not_the_training_state(fake, tmp_path):
    ckpt = _checkpoint(tmp_path / "checkpoint-10")
    target = PushTarget(repo_id="me/model", token="tok", private=True, commit_message="first version")
    result = push_folder(target, str(ckpt))
    assert fake.made == [(True, "tok")]
    assert fake.repos == [{"repo_id": "me/model", "private": True}]
    (upload,) = fake.uploads
    assert upload["repo_id"] == "me/model" and upload["commit_message"] == "first version"
    assert upload["files"] == ["adapter_config.json", "adapter_model.safetensors", "args.json", "trainer_state.json"]
    assert result["files"] == upload["files"] and result["url"].endswith("/commit/1")


def test_export_pushes_the_model_it_was_given(fake, no_login, monkeypatch, tiny_dir):
    from sartor.export.export_main import export_main

    monkeypatch.setenv("HF_TOKEN", "env-token")
    result = export_main(ExportArguments(model=tiny_dir, push_to_hub=True, hub_model_id="acme/tiny",
                                         hub_private_repo=True, commit_message="upload tiny"))
    (upload,) = fake.uploads
    assert fake.made == [(True, "env-token")] and fake.repos == [{"repo_id": "acme/tiny", "private": True}]
    assert upload["folder"] == tiny_dir and upload["commit_message"] == "upload tiny"
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(upload["files"])
    assert result["hub"]["url"] == "https://hub.example/acme/tiny/commit/1"


def test_export_fails_before_any_work_without_a_token(fake, no_login, tmp_path):
    from sartor.export.export_main import export_main

    ckpt = _checkpoint(tmp_path / "ckpt")
    with pytest.raises(SartorError, match="token"):
        export_main(ExportArguments(ckpt_dir=str(ckpt), merge_lora=True, push_to_hub=True, hub_model_id="me/m"))
    assert not (tmp_path / "ckpt-merged").exists() and not fake.uploads


def test_sft_fails_before_training_without_a_token(no_login, tmp_path):
    from sartor.train.sft import sft_main

    with pytest.raises(SartorError, match="token"):
        sft_main(SftArguments(model="tiny", dataset=["nowhere.jsonl"], push_to_hub=True, hub_model_id="me/m",
                              output_dir=str(tmp_path)))
    assert not list(tmp_path.iterdir())
    assert hub_callbacks(SftArguments(model="tiny", dataset=["x.jsonl"])) == []


def _state(step, best=None):
    return types.SimpleNamespace(global_step=step, best_model_checkpoint=best, is_world_process_zero=True)


@pytest.mark.parametrize("strategy, saves, final", [
    ("end", [], "checkpoint-20"),
    ("push_last", [], "checkpoint-20"),
    ("push_best", [], "checkpoint-10"),
    ("checkpoint", ["last-checkpoint", "last-checkpoint"], "checkpoint-20"),
    ("all_checkpoints", ["checkpoint-10", "checkpoint-20"], "checkpoint-20"),
])
def test_training_callback_pushes_as_the_strategy_says(fake, tmp_path, strategy, saves, final):
    for step in (10, 20):
        _checkpoint(tmp_path / f"checkpoint-{step}")
    target = PushTarget(repo_id="me/run", token="t", commit_message="train")
    cb = PushToHubCallback(target, strategy)
    targs = types.SimpleNamespace(output_dir=str(tmp_path))
    best = str(tmp_path / "checkpoint-10")
    for step in (10, 20):
        cb.on_save(targs, _state(step, best), None)
    cb.on_train_end(targs, _state(20, best), None)
    assert [u["path_in_repo"] for u in fake.uploads] == saves + [""]
    assert fake.repos == [{"repo_id": "me/run", "private": False}]     # created once
    assert fake.uploads[-1]["folder"] == str(tmp_path / final)
    assert "optimizer.pt" not in fake.uploads[-1]["files"]
    for upload in fake.uploads[:-1]:   # checkpoints pushed to resume from keep their optimizer state
        assert "optimizer.pt" in upload["files"] and "(step" in upload["commit_message"]


def test_training_arguments_take_the_push_flags():
    from sartor.arguments.parser import parse_args

    args, _ = parse_args(SftArguments, ["--model", "tiny", "--push_to_hub", "true", "--hub_model_id", "me/m",
                                        "--push_hub_strategy", "push_best", "--hub_private_repo", "true"])
    assert args.push_to_hub and args.push_hub_strategy == "push_best" and args.hub_private_repo
    assert "push_to_hub" not in (args.training_args or {})   # ours, not passed on to transformers' own push
    with pytest.raises(SartorError):
        parse_args(SftArguments, ["--push_hub_strategy", "sometimes"])
    json.dumps(args.to_dict())


def test_preference_training_pushes_too(fake, no_login, tmp_path, monkeypatch, shared_datasets):
    """`sartor rlhf --push_to_hub true` checks the push before training and uploads the adapter at the end."""
    from sartor.arguments import RLHFArguments
    from sartor.train.rlhf import rlhf_main

    monkeypatch.chdir(tmp_path)
    common = dict(rlhf_type="dpo", model="tiny", dataset=[str(shared_datasets / "dpo_en_demo.json") + "#4"],
                  max_steps=1, per_device_train_batch_size=2, gradient_accumulation_steps=1, max_length=128,
                  truncation_strategy="right", split_dataset_ratio=0.0, report_to=["none"], push_to_hub=True)
    with pytest.raises(SartorError, match="--hub_model_id"):
        rlhf_main(RLHFArguments(**common, output_dir="unused"))
    assert not (tmp_path / "unused").exists()  # refused before any work
    rlhf_main(RLHFArguments(**common, hub_model_id="me/tiny-dpo", hub_token="t", output_dir="out"))
    assert fake.repos == [{"repo_id": "me/tiny-dpo", "private": False}]
    (upload,) = fake.uploads
    assert upload["repo_id"] == "me/tiny-dpo" and "adapter_model.safetensors" in upload["files"]
