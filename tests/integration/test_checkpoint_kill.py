"""A training run SIGKILLed at many points of its checkpoint saves, resumed each time with
`--resume_from_checkpoint true`: no checkpoint-N directory is ever incomplete (checked on disk after each kill, and
before every file event of every save), every resume starts, and the final weights are bit-identical to those of an
uninterrupted run. The kill points are exact (the n-th file event of a save: see kill_driver.py), so nothing depends
on timing."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from sartor.core.checkpoints import latest_checkpoint

DRIVER = Path(__file__).resolve().parent / "kill_driver.py"
# LoRA (with dropout) on shuffled data, 2 rows a step: 5 steps stay inside the first epoch, so each resume skips
# batches and restores the RNG; a checkpoint every step, at most 2 kept, so saves also delete.
SFT = ["sft", "--model", "tiny", "--dataset", "self-cognition#16", "--model_name", "Sartor", "--model_author", "Acme",
       "--max_length", "64", "--max_steps", "5", "--save_steps", "1", "--save_total_limit", "2",
       "--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1", "--logging_steps", "1",
       "--split_dataset_ratio", "0", "--report_to", "none", "--add_version", "false"]
# (save of the process, file event of that save) to kill before. The first process saves checkpoints 1 and 2 and dies
# with checkpoint-3 written but not renamed; each resumed process dies in its first save (step 3, then 4), which
# also deletes checkpoint-1 (then 2): before anything is written, before the weights, before the optimizer state,
# before trainer_state.json, before the rename, after it (before the rotation), and between renaming the checkpoint
# rotated out and deleting it.
KILLS = [(3, 12), (1, 1), (1, 2), (1, 7), (1, 10), (1, 13), (1, 15)]
CHECKPOINT_FILES = ("adapter_model.safetensors", "adapter_config.json", "tokenizer_config.json", "optimizer.pt",
                    "scheduler.pt", "rng_state.pth", "trainer_state.json", "args.json")


class ForkServer:
    def __init__(self, work: Path):
        self.work = work
        env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
        self.proc = subprocess.Popen([sys.executable, str(DRIVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, cwd=work, env=env)
        self.n = 0

    def run(self, *argv: str, **env: str) -> tuple[int, str]:
        self.n += 1
        log = self.work / f"run{self.n}.log"
        request = {"argv": list(argv), "cwd": str(self.work), "log": str(log),
                   "env": {"KILL_LOG": str(self.work / "kills.txt"), **env}}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        assert reply, f"the fork server died: {log.read_text()[-3000:] if log.is_file() else ''}"
        return json.loads(reply)["status"], log.read_text()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def leftovers_in(out: Path) -> list[str]:
    return sorted(p.name for p in out.glob("tmp-*")) if out.is_dir() else []


def audit(path: Path, killed: bool = False) -> list[list[str]]:
    """The events of each save; no checkpoint-N was ever incomplete (a killed process reports only a violation)."""
    if killed and not path.is_file():
        return []
    report = json.loads(path.read_text())
    path.unlink()
    assert report["violations"] == [], report["violations"]
    return report["events"]


def assert_checkpoints_whole(out: Path) -> None:
    """Every checkpoint-N has all its files and they load; the latest one is what resolution picks."""
    ckpts = sorted((p for p in out.glob("checkpoint-*") if p.name[len("checkpoint-"):].isdigit()),
                   key=lambda p: int(p.name.split("-")[1]))
    assert ckpts, sorted(p.name for p in out.iterdir())
    for ckpt in ckpts:
        missing = [f for f in CHECKPOINT_FILES if not (ckpt / f).is_file()]
        assert not missing, (ckpt.name, missing)
        load_file(ckpt / "adapter_model.safetensors")
        json.loads((ckpt / "trainer_state.json").read_text())
        for f in ("optimizer.pt", "scheduler.pt"):
            torch.load(ckpt / f, map_location="cpu", weights_only=True)
    assert latest_checkpoint(str(out)) == str(ckpts[-1])


@pytest.mark.slow
def test_kills_during_saves_leave_whole_checkpoints_and_resume_exactly(tmp_path):
    server = ForkServer(tmp_path)
    try:
        status, log = server.run(*SFT, "--output_dir", "ref", OUTPUT="ref", AUDIT=str(tmp_path / "ref.json"))
        assert status == 0, log[-3000:]
        events = audit(tmp_path / "ref.json")
        assert [len(e) for e in events] == [12, 12, 15, 15, 15], events  # 3 more: a rotation's removal
        for i, (save, event) in enumerate(KILLS):
            resume = ["--resume_from_checkpoint", "true"] if i else []
            leftovers = leftovers_in(tmp_path / "out")
            status, log = server.run(*SFT, "--output_dir", "out", *resume, OUTPUT="out", KILL_AT=f"{save}:{event}",
                                     AUDIT=str(tmp_path / "audit.json"))
            assert status == -9, (save, event, log[-3000:])  # killed where planned, after resuming if it did
            audit(tmp_path / "audit.json", killed=True)
            assert_checkpoints_whole(tmp_path / "out")
            for name in leftovers:  # the kill before left them: the resume said it skipped them
                assert f"skipping incomplete checkpoint(s) in out: {name}" in log, log[-3000:]
        assert leftovers_in(tmp_path / "out") == ["tmp-checkpoint-1.old"]
        status, log = server.run(*SFT, "--output_dir", "out", "--resume_from_checkpoint", "true", OUTPUT="out",
                                 AUDIT=str(tmp_path / "audit.json"))
        assert status == 0, log[-3000:]
        audit(tmp_path / "audit.json")
    finally:
        server.close()
    kills = (tmp_path / "kills.txt").read_text().splitlines()
    assert len(kills) == len(KILLS), kills
    assert any("rename tmp-checkpoint-3 -> checkpoint-3" in k for k in kills), kills  # all written, not renamed
    assert any("rmtree tmp-checkpoint-1.old" in k for k in kills), kills  # rotated out, not yet deleted
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["args.json", "checkpoint-4", "checkpoint-5", "logging.jsonl"]
    want, got = load_file(tmp_path / "ref" / "checkpoint-5" / "adapter_model.safetensors"), load_file(
        out / "checkpoint-5" / "adapter_model.safetensors")
    assert want.keys() == got.keys()
    for k in want:
        assert torch.equal(want[k], got[k]), k


@pytest.mark.slow
def test_resume_true_for_rlhf(shared_datasets, tmp_path, sartor_main):
    """rlhf takes `--resume_from_checkpoint true` too (pt is sft_main's): the output directory's newest run with a
    complete checkpoint, here the one a crash left with tmp-checkpoint-2/ only beside checkpoint-1/."""
    base = ["rlhf", "--rlhf_type", "dpo", "--model", "tiny", "--dataset", str(shared_datasets / "dpo_en_demo.json#8"),
            "--max_length", "96", "--truncation_strategy", "right", "--save_steps", "1",
            "--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1", "--logging_steps", "1",
            "--split_dataset_ratio", "0", "--report_to", "none", "--output_dir", "out"]
    r = sartor_main(*base, "--max_steps", "1", "--resume_from_checkpoint", "true", cwd=tmp_path, check=False)
    assert r.returncode == 2 and "--resume_from_checkpoint true: no such directory out" in r.stderr, r.stderr[-2000:]
    sartor_main(*base, "--max_steps", "1", "--resume_from_checkpoint", "false", cwd=tmp_path)
    (first,) = (tmp_path / "out").glob("v0-*")
    (first / "tmp-checkpoint-2").mkdir()  # a save killed midway
    r = sartor_main(*base, "--max_steps", "2", "--resume_from_checkpoint", "true", cwd=tmp_path)
    assert f"skipping incomplete checkpoint(s) in {Path('out') / first.name}: tmp-checkpoint-2" in r.stderr
    (second,) = (tmp_path / "out").glob("v1-*")
    steps = [json.loads(x)["step"] for x in (second / "logging.jsonl").read_text().splitlines() if '"loss"' in x]
    assert steps == [1, 2]  # step 1 from the checkpoint's history, step 2 trained after resuming
    assert json.loads((second / "checkpoint-2" / "trainer_state.json").read_text())["global_step"] == 2
