"""Incomplete checkpoints (leftovers of a save killed midway) are never picked, and a checkpoint only ever appears
under its checkpoint-N name whole: resolution for resume / infer / export, publish and rotation on disk.
(A training run killed during its saves, then resumed: tests/integration/test_checkpoint_kill.py.)"""
import json
import os

import pytest

from sartor.train.checkpoint import discard, publish, rotate, staging_path
from sartor.core.checkpoints import (checkpoints_of, incomplete_checkpoints_of, latest_checkpoint, resolve_checkpoint,
                                       resume_checkpoint)
from sartor.utils.errors import SartorError
from sartor.utils.logging import get_logger


def complete(path, best=None):
    path.mkdir(parents=True)
    (path / "adapter_config.json").write_text("{}")
    (path / "adapter_model.safetensors").write_text("")
    (path / "trainer_state.json").write_text(json.dumps({"best_model_checkpoint": best}))
    return path


def partial(path, *files):
    path.mkdir(parents=True)
    for f in files:
        (path / f).write_text("{}")
    return path


@pytest.fixture
def out(tmp_path):
    """output/ with run v0 (checkpoints 2, 4; 6 killed before its state) and run v1 (4 complete, 6 mid-save)."""
    v0, v1 = tmp_path / "v0-20260101-000000", tmp_path / "v1-20260101-000100"
    complete(v0 / "checkpoint-2")
    complete(v0 / "checkpoint-4")
    partial(v0 / "checkpoint-6", "adapter_config.json", "adapter_model.safetensors")  # an older version's partial save
    complete(v1 / "checkpoint-4")
    partial(v1 / "tmp-checkpoint-6", "adapter_model.safetensors", "trainer_state.json")
    return tmp_path


@pytest.fixture
def warnings(caplog):
    logger = get_logger()  # configured (not propagating) before the capture is added
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


def test_readers_see_complete_checkpoints_only(out, warnings):
    v0, v1 = out / "v0-20260101-000000", out / "v1-20260101-000100"
    assert checkpoints_of(str(v0)) == [str(v0 / "checkpoint-2"), str(v0 / "checkpoint-4")]  # also the web UI picker
    assert [os.path.basename(p) for p, _ in incomplete_checkpoints_of(str(v0))] == ["checkpoint-6"]
    assert latest_checkpoint(str(v0)) == resolve_checkpoint(str(v0)) == str(v0 / "checkpoint-4")
    assert "checkpoint-6 (no trainer_state.json)" in warnings.text
    assert latest_checkpoint(str(out)) == resolve_checkpoint(str(out)) == str(v1 / "checkpoint-4")
    assert "tmp-checkpoint-6 (the temporary directory of a save)" in warnings.text
    assert warnings.text.count("skipping incomplete") == 2  # one line per run directory
    resolve_checkpoint(str(v0))
    assert warnings.text.count("skipping incomplete") == 2  # and once per process


def test_a_run_with_no_complete_checkpoint_is_passed_over(out):
    v0 = out / "v0-20260101-000000"
    v2 = partial(out / "v2-20260101-000200" / "tmp-checkpoint-2", "rng_state.pth").parent
    (out / "v3-20260101-000300").mkdir()  # the new run directory of the run that resumes
    assert latest_checkpoint(str(out)) == str(out / "v1-20260101-000100" / "checkpoint-4")
    assert latest_checkpoint(str(v2)) is None
    with pytest.raises(SartorError, match="holds no complete checkpoint"):
        resolve_checkpoint(str(v2))  # infer / export
    assert resolve_checkpoint(str(out / "v3-20260101-000300")) == str(out / "v3-20260101-000300")  # nothing to say
    os.rename(out / "v1-20260101-000100", out / "x")
    assert latest_checkpoint(str(out)) == str(v0 / "checkpoint-4")


@pytest.mark.parametrize("name", ["v0-20260101-000000/checkpoint-6", "v1-20260101-000100/tmp-checkpoint-6"])
def test_an_incomplete_checkpoint_given_directly_is_a_clear_error(out, name):
    with pytest.raises(SartorError, match="incomplete checkpoint .*give its run directory"):
        latest_checkpoint(str(out / name))
    with pytest.raises(SartorError, match="incomplete checkpoint"):
        resume_checkpoint(str(out / name), str(out))


def test_weights_without_a_trainer_state_load_with_a_note_but_never_resume(out, warnings, tmp_path):
    with pytest.raises(SartorError, match="incomplete checkpoint .*the temporary directory of a save"):
        resolve_checkpoint(str(out / "v1-20260101-000100" / "tmp-checkpoint-6"))
    by_hand = str(out / "v0-20260101-000000" / "checkpoint-6")  # an adapter saved without a trainer state
    assert resolve_checkpoint(by_hand) == by_hand
    assert "has weights but no trainer_state.json" in warnings.text
    empty = partial(tmp_path / "elsewhere" / "checkpoint-3", "adapter_config.json")
    with pytest.raises(SartorError, match="incomplete checkpoint .*no trainer_state.json"):
        resolve_checkpoint(str(empty))


def test_best_checkpoint_must_be_complete(tmp_path):
    run = tmp_path / "v0-20260101-000000"
    complete(run / "checkpoint-3", best=str(run / "checkpoint-3"))
    complete(run / "checkpoint-6", best=str(run / "checkpoint-3"))
    assert resolve_checkpoint(str(run)) == str(run / "checkpoint-3")  # infer / export: the best one
    assert latest_checkpoint(str(run)) == str(run / "checkpoint-6")  # resume: the last one
    os.remove(run / "checkpoint-3" / "trainer_state.json")
    assert resolve_checkpoint(str(run)) == str(run / "checkpoint-6")


def test_resume_values(out):
    v1 = out / "v1-20260101-000100"
    for off in (None, False, "", "false", "False", "none"):
        assert resume_checkpoint(off, str(out)) is None
    assert resume_checkpoint("true", str(out)) == resume_checkpoint(True, str(out)) == str(v1 / "checkpoint-4")
    assert resume_checkpoint(str(out), "elsewhere") == str(v1 / "checkpoint-4")  # an output directory
    assert resume_checkpoint(str(out / "v0-20260101-000000"), str(out)) == str(out / "v0-20260101-000000" / "checkpoint-4")
    assert resume_checkpoint(str(v1 / "checkpoint-4"), "elsewhere") == str(v1 / "checkpoint-4")
    with pytest.raises(SartorError, match="no such directory .*nothing to resume"):
        resume_checkpoint("true", str(out / "missing"))
    with pytest.raises(SartorError, match="no such directory"):
        resume_checkpoint(str(out / "missing"), str(out))
    empty = out / "v9-20260101-000900"
    partial(empty / "tmp-checkpoint-1", "optimizer.pt")
    with pytest.raises(SartorError, match="no complete checkpoint in"):
        resume_checkpoint(str(empty), str(out))


def test_publish_replaces_a_checkpoint_of_the_same_step_whole(tmp_path):
    final = tmp_path / "checkpoint-3"
    complete(final)
    (final / "old.bin").write_text("old")
    staging = complete(tmp_path / "tmp-checkpoint-3")
    (staging / "new.bin").write_text("new")
    assert staging_path(str(final)) == str(staging)
    publish(str(staging), str(final))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-3"]
    assert (final / "new.bin").is_file() and not (final / "old.bin").exists()


def test_rotation_keeps_the_newest_and_the_best_and_deletes_by_renaming_first(tmp_path):
    for step in (1, 2, 3, 4, 5):
        complete(tmp_path / f"checkpoint-{step}")
    partial(tmp_path / "checkpoint-0", "config.json")  # incomplete: neither counted nor deleted
    (tmp_path / "checkpoint-2-merged").mkdir()  # an export beside the checkpoints: not a checkpoint
    rotate(str(tmp_path), 2, str(tmp_path / "checkpoint-5"), str(tmp_path / "checkpoint-2"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-0", "checkpoint-2", "checkpoint-2-merged",
                                                          "checkpoint-5"]
    rotate(str(tmp_path), None, str(tmp_path / "checkpoint-5"), None)
    assert len(checkpoints_of(str(tmp_path))) == 2
    seen = []
    real_rename = os.rename

    def rename(src, dst):
        seen.append((os.path.basename(src), os.path.basename(dst)))
        real_rename(src, dst)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "rename", rename)
        discard(str(tmp_path / "checkpoint-2"))
    assert seen == [("checkpoint-2", "tmp-checkpoint-2.old")]
    assert not (tmp_path / "tmp-checkpoint-2.old").exists()
