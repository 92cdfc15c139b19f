"""--dry_run reads a hub model's config.json and tokenizer config only, for sft and every rlhf_type alike: no
snapshot (no weights) is downloaded."""
import json
import shutil

import pytest


@pytest.mark.parametrize("command", [["sft"], ["rlhf", "--rlhf_type", "dpo"], ["rlhf", "--rlhf_type", "kto"]])
def test_dry_run_downloads_no_weights(command, sartor_main, tmp_path, tiny_dir, monkeypatch):
    import huggingface_hub

    import sartor.model.hub as hub

    files = tmp_path / "hub-files"
    files.mkdir()
    for name in ("config.json", "tokenizer_config.json"):
        shutil.copy(f"{tiny_dir}/{name}", files / name)
    fetched = []

    def one_file(repo, name, **kw):
        fetched.append(name)
        return str(files / name)

    def whole_snapshot(*a, **kw):
        raise AssertionError("--dry_run downloaded the whole model")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", one_file)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", whole_snapshot)
    monkeypatch.setattr(hub, "snapshot_download", whole_snapshot)
    r = sartor_main(*command, "--model", "acme/chat-7b", "--dataset", "data.jsonl", "--dry_run", "true", cwd=tmp_path)
    plan = json.loads(r.stdout[r.stdout.index("{"):])
    assert plan["memory"]["parameters"] > 0 and "config.json" in fetched
