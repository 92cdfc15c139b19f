"""Several training processes on CPU (gloo): relaunch under torchrun, one run directory, checkpoints written once,
2 ranks x batch 2 train exactly like 1 rank x batch 4, resume under DDP, FSDP2; plus the launcher's and the
model-parallel layout's pure functions."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sartor.cli.launch import torchrun_command, wants_dry_run
from sartor.core.world import launch_layout
from sartor.model.loader import ddp_device_group, rank_device_map
from sartor.train.processes import World, get_world, planned_world
from sartor.utils.errors import SartorError

# LoRA without dropout, data in file order, one micro-batch per step: the global batch of step k is rows 4k..4k+3
# whether one process takes them (batch 4) or two do (batch 2 each; accelerate gives rank r the r-th batch of 2).
COMMON = ["--model", "tiny", "--dataset", "self-cognition#64", "--model_name", "Sartor", "--model_author", "Acme",
          "--max_length", "128", "--max_steps", "6", "--save_steps", "3", "--logging_steps", "1",
          "--split_dataset_ratio", "0", "--train_dataloader_shuffle", "false", "--lora_dropout", "0",
          "--learning_rate", "2e-3", "--warmup_steps", "0", "--lr_scheduler_type", "linear",
          "--gradient_accumulation_steps", "1", "--report_to", "none"]


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE",
                                                           "NPROC_PER_NODE", "NNODES", "MASTER_PORT")}
    env.update(OMP_NUM_THREADS="1", **extra)
    return env


def _run(cmd: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=_env(**env), timeout=600)
    assert r.returncode == 0, r.stderr[-5000:]
    return r


def _torchrun(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    from sartor.core.world import free_port

    return _run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={free_port()}",
                 "-m", "sartor", "sft", *argv], cwd)


def _accelerate(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    """`accelerate launch --multi_gpu --num_processes 2 -m sartor sft ...` (on a CPU machine its processes use gloo)."""
    from sartor.core.world import free_port

    return _run([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                 "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                 "--main_process_port", str(free_port()), "-m", "sartor", "sft", *argv], cwd)


def _rows(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "logging.jsonl").read_text().splitlines() if x.strip()]


def _losses(run: Path) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in _rows(run) if "loss" in r}


def _only_run(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """`NPROC_PER_NODE=2 sartor sft ...`: relaunched under torchrun, 2 ranks x batch 2."""
    work = tmp_path_factory.mktemp("ddp")
    r = _run([sys.executable, "-m", "sartor", "sft", *COMMON, "--per_device_train_batch_size", "2",
              "--output_dir", "out"], work, NPROC_PER_NODE="2")
    return work, _only_run(work / "out"), r


@pytest.fixture(scope="module")
def single_run(tmp_path_factory):
    """The same training in one process with batch 4 (in this process: no interpreter to start)."""
    from sartor.arguments import SftArguments, parse_args
    from sartor.train.sft import sft_main

    work = tmp_path_factory.mktemp("single")
    args, _ = parse_args(SftArguments, [*COMMON, "--per_device_train_batch_size", "4", "--output_dir", str(work / "out")])
    sft_main(args)
    return _only_run(work / "out")


@pytest.mark.slow
def test_relaunch_writes_one_run_directory_and_each_checkpoint_once(ddp_run):
    work, run, r = ddp_run
    assert "launching 2 process(es) per node" in r.stderr and "torch.distributed.run" in r.stderr
    assert r.stdout.count("run_dir:") == 1  # rank 0 alone reports
    assert sorted(p.name for p in run.iterdir()) == ["args.json", "checkpoint-3", "checkpoint-6", "images", "logging.jsonl"]
    steps = [row["step"] for row in _rows(run) if "loss" in row]
    assert steps == [1, 2, 3, 4, 5, 6]  # each step logged once
    for ckpt in ("checkpoint-3", "checkpoint-6"):
        files = {p.name for p in (run / ckpt).iterdir()}
        assert {"adapter_model.safetensors", "adapter_config.json", "args.json", "rng_state_0.pth",
                "rng_state_1.pth"} <= files  # one adapter, and each rank's RNG state for an exact resume
        assert "model.safetensors" not in files
    assert "initial trainable weights identical on all 2 ranks" in r.stderr  # LoRA built alike on both ranks
    assert r.stderr.count("train data:") == 1  # encoded once, by rank 0; rank 1 loaded what it saved
    assert not (run / ".encoded").exists()  # and that copy is gone once training is over


@pytest.mark.slow
def test_ranks_draw_different_random_numbers(ddp_run):
    """Seed + rank: each rank's RNG, saved for the resume, is in a different state, so dropout masks differ."""
    import torch

    _, run, _ = ddp_run
    states = [torch.load(run / "checkpoint-6" / f"rng_state_{r}.pth", weights_only=False) for r in (0, 1)]
    assert states[0]["python"] == states[1]["python"]  # same data order and sampling on both ranks
    assert not torch.equal(states[0]["cpu"], states[1]["cpu"])  # but torch's generator (dropout) differs


@pytest.mark.slow
def test_two_ranks_train_like_one_rank_with_the_same_global_batch(ddp_run, single_run):
    _, run, _ = ddp_run
    two, one = _losses(run), _losses(single_run)
    assert sorted(two) == sorted(one) == [1, 2, 3, 4, 5, 6]
    assert one[6] < one[1] - 0.3  # the curve moves far more than the tolerance below
    for step in one:
        assert two[step] == pytest.approx(one[step], abs=1e-4), (step, two, one)
    norms = {r["step"]: r["grad_norm"] for r in _rows(run) if "grad_norm" in r}
    norms1 = {r["step"]: r["grad_norm"] for r in _rows(single_run) if "grad_norm" in r}
    for step in norms1:
        assert norms[step] == pytest.approx(norms1[step], rel=1e-3)


@pytest.mark.slow
def test_resume_under_ddp_continues_the_same_curve(ddp_run):
    """torchrun -m sartor: resume from checkpoint-3 on 2 ranks, steps 4-6 as in the uninterrupted run."""
    import torch
    from safetensors.torch import load_file

    work, run, _ = ddp_run
    _torchrun(*COMMON, "--per_device_train_batch_size", "2", "--output_dir", "resumed",
              "--resume_from_checkpoint", str(run / "checkpoint-3"), cwd=work)
    resumed = _only_run(work / "resumed")
    full, again = _losses(run), _losses(resumed)
    for step in (4, 5, 6):
        assert again[step] == pytest.approx(full[step], abs=1e-4), (step, again, full)
    a = load_file(run / "checkpoint-6" / "adapter_model.safetensors")
    b = load_file(resumed / "checkpoint-6" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


@pytest.mark.slow
def test_fsdp2_on_cpu_saves_the_adapter_once(tmp_path, ddp_run):
    """FSDP2 (gloo) with LoRA, started by `accelerate launch`: same first-step loss as DDP, one run directory, one
    checkpoint holding the whole adapter only. --lazy_tokenize: data that cannot be saved once is built by every
    rank after rank 0."""
    from safetensors.torch import load_file

    _, ddp, _ = ddp_run
    argv = [a if a != "6" else "2" for a in COMMON]  # --max_steps 2
    r = _accelerate(*argv, "--per_device_train_batch_size", "2", "--fsdp", "full_shard auto_wrap",
                    "--output_dir", "out", "--lazy_tokenize", "true", cwd=tmp_path)
    assert "distributed: 2 processes" in r.stderr
    run = _only_run(tmp_path / "out")
    assert _losses(run)[1] == pytest.approx(_losses(ddp)[1], abs=1e-4)
    assert [p.name for p in run.glob("checkpoint-*")] == ["checkpoint-2"]
    adapter = load_file(run / "checkpoint-2" / "adapter_model.safetensors")
    assert all("lora_" in k for k in adapter)
    gathered = sum(v.numel() for v in adapter.values())
    assert gathered == 149_504  # every LoRA weight of the tiny model in full, not one rank's shard
    assert not (run / "checkpoint-2" / "model.safetensors").exists()


# --- the launcher and the layouts, without processes ---------------------------------------------------------


def test_launch_layout_from_the_environment():
    assert launch_layout({}) is None
    assert launch_layout({"NPROC_PER_NODE": "1"}) is None
    assert launch_layout({"NPROC_PER_NODE": "2", "LOCAL_RANK": "0"}) is None  # already under torchrun
    one = launch_layout({"NPROC_PER_NODE": "2", "MASTER_PORT": "29501"})
    assert one == {"nproc_per_node": 2, "nnodes": 1, "node_rank": 0, "master_addr": "127.0.0.1", "master_port": 29501}
    free = launch_layout({"NPROC_PER_NODE": "2"})
    assert 0 < free["master_port"] < 65536
    multi = launch_layout({"NNODES": "2", "NODE_RANK": "1", "MASTER_ADDR": "10.0.0.1", "NPROC_PER_NODE": "8"})
    assert multi == {"nproc_per_node": 8, "nnodes": 2, "node_rank": 1, "master_addr": "10.0.0.1", "master_port": 29500}
    assert launch_layout({"NNODES": "2", "MASTER_ADDR": "h", "CUDA_VISIBLE_DEVICES": "0,1,2"})["nproc_per_node"] == 3
    with pytest.raises(SartorError, match="MASTER_ADDR"):
        launch_layout({"NNODES": "2", "NPROC_PER_NODE": "8"})
    with pytest.raises(SartorError, match="NODE_RANK"):
        launch_layout({"NNODES": "2", "NODE_RANK": "2", "MASTER_ADDR": "h", "NPROC_PER_NODE": "8"})
    cmd = torchrun_command("sft", ["--model", "tiny"], one)
    assert cmd[1:3] == ["-m", "torch.distributed.run"] and cmd[-5:] == ["-m", "sartor", "sft", "--model", "tiny"]
    assert "--nproc_per_node=2" in cmd and "--master_port=29501" in cmd


def test_dry_run_is_planned_not_launched(tmp_path):
    assert wants_dry_run(["--model", "tiny", "--dry_run", "true"])
    assert wants_dry_run(["--dry_run"]) and wants_dry_run(["--dry_run=true"])
    assert not wants_dry_run(["--dry_run", "false"]) and not wants_dry_run(["--model", "tiny"])
    cfg = tmp_path / "run.yaml"
    cfg.write_text("model: tiny\ndry_run: true\n")
    assert wants_dry_run([str(cfg)])
    world = planned_world({"NPROC_PER_NODE": "8", "NNODES": "2", "NODE_RANK": "1"})
    assert (world.world_size, world.local_world_size, world.nnodes, world.rank) == (16, 8, 2, 8)
    assert planned_world({}) == World()


def test_world_from_a_launcher_environment():
    world = get_world({"RANK": "9", "LOCAL_RANK": "1", "WORLD_SIZE": "16", "LOCAL_WORLD_SIZE": "8"})
    assert (world.node_rank, world.nnodes, world.is_main, world.is_local_main, world.distributed) == (1, 2, False, False, True)
    assert get_world({}) == World() and not World().distributed


@pytest.mark.parametrize("local_world, n_gpus, expected", [
    (2, 4, [[0, 1], [2, 3]]),          # the lora_mp_ddp layout
    (2, 8, [[0, 1, 2, 3], [4, 5, 6, 7]]),
    (4, 4, [[0], [1], [2], [3]]),
    (2, 5, [[0, 1], [2, 3]]),          # a spare GPU stays unused
])
def test_each_rank_takes_its_own_group_of_gpus(local_world, n_gpus, expected):
    assert [ddp_device_group(r, local_world, n_gpus) for r in range(local_world)] == expected


def test_rank_device_map_limits_auto_to_the_group_and_moves_json_maps():
    free = lambda i: 80 * 2**30  # noqa: E731 - a fake GPU of 80 GiB free
    group = ddp_device_group(1, 2, 4)
    device_map, limits = rank_device_map("auto", None, group, free)
    assert device_map == "auto" and limits == {2: 80 * 2**30, 3: 80 * 2**30}
    # one command for every rank: --max_memory, like a JSON device map, names a rank's GPUs 0..k-1
    _, limits = rank_device_map("auto", {0: "20GiB", "cpu": "64GiB"}, group, free)
    assert limits == {2: "20GiB", 3: 80 * 2**30, "cpu": "64GiB"}
    _, limits = rank_device_map("auto", {"0": "20GiB", "1": "30GiB"}, group, free)  # JSON keys are strings
    assert limits == {2: "20GiB", 3: "30GiB"}
    with pytest.raises(SartorError, match="--max_memory names GPU 2"):
        rank_device_map("auto", {2: "20GiB"}, group, free)
    moved, _ = rank_device_map({"model.embed_tokens": 0, "model.layers": 1, "lm_head": "cpu"}, None, group, free)
    assert moved == {"model.embed_tokens": 2, "model.layers": 3, "lm_head": "cpu"}
    with pytest.raises(SartorError, match="each rank has 2 GPU"):
        rank_device_map({"model": 2}, None, group, free)
    with pytest.raises(SartorError, match="at least one GPU each"):
        ddp_device_group(0, 4, 2)


def test_dropout_rng_is_offset_by_rank_but_not_the_data_order_rng(monkeypatch):
    import torch

    from sartor.train.processes import offset_rng_by_rank

    def draw(rank: str, offset_cpu: bool = True) -> torch.Tensor:
        monkeypatch.setenv("RANK", rank)
        monkeypatch.setenv("WORLD_SIZE", "2")
        torch.manual_seed(42)  # what the Trainer does on every rank
        offset_rng_by_rank(42, offset_cpu=offset_cpu)
        return torch.rand(4)

    torch.manual_seed(42)
    base = torch.rand(4)
    assert torch.equal(draw("0"), base)  # rank 0 draws what a single process draws
    assert not torch.equal(draw("1"), base)  # rank 1 its own dropout masks
    assert torch.equal(draw("1", offset_cpu=False), base)  # group_by_length: its sampler draws from this RNG


# --- GPU machines: NCCL, DeepSpeed, model parallel + DDP ---------------------------------------------------------


def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _has_deepspeed() -> bool:
    import importlib.util

    return importlib.util.find_spec("deepspeed") is not None


@pytest.mark.gpu
@pytest.mark.skipif(_cuda_count() < 1 or not _has_deepspeed(), reason="needs a CUDA GPU and deepspeed")
@pytest.mark.parametrize("config", ["zero2", "zero3", "zero3_offload"])
def test_deepspeed_lora_checkpoint_holds_the_whole_adapter_only(tmp_path, config):
    """Under ZeRO-3 the 16-bit weights are gathered on save and peft keeps only the adapter's keys of them."""
    from safetensors.torch import load_file

    nproc = str(min(2, _cuda_count()))
    argv = [a if a != "6" else "2" for a in COMMON]
    _run([sys.executable, "-m", "sartor", "sft", *argv, "--per_device_train_batch_size", "2", "--deepspeed", config,
          "--torch_dtype", "bfloat16", "--output_dir", "out"], tmp_path, NPROC_PER_NODE=nproc)
    run = _only_run(tmp_path / "out")
    adapter = load_file(run / "checkpoint-2" / "adapter_model.safetensors")
    assert all("lora_" in k for k in adapter) and sum(v.numel() for v in adapter.values()) == 149_504
    assert not (run / "checkpoint-2" / "model.safetensors").exists()
    assert all(x == x for x in _losses(run).values())  # finite


@pytest.mark.gpu
@pytest.mark.skipif(_cuda_count() < 1 or not _has_deepspeed(), reason="needs a CUDA GPU and deepspeed")
def test_deepspeed_zero3_full_checkpoint_is_whole(tmp_path):
    from transformers import AutoModelForCausalLM

    argv = [a if a != "6" else "2" for a in COMMON]
    _run([sys.executable, "-m", "sartor", "sft", *argv, "--train_type", "full", "--deepspeed", "zero3",
          "--torch_dtype", "bfloat16", "--output_dir", "out"], tmp_path, NPROC_PER_NODE=str(min(2, _cuda_count())))
    model = AutoModelForCausalLM.from_pretrained(_only_run(tmp_path / "out") / "checkpoint-2")
    assert sum(p.numel() for p in model.parameters()) == 4_002_048


@pytest.mark.gpu
@pytest.mark.skipif(_cuda_count() < 2, reason="needs 2 CUDA GPUs")
def test_nccl_ddp_matches_one_gpu(tmp_path):
    _run([sys.executable, "-m", "sartor", "sft", *COMMON, "--per_device_train_batch_size", "2", "--output_dir", "two"],
         tmp_path, NPROC_PER_NODE="2")
    _run([sys.executable, "-m", "sartor", "sft", *COMMON, "--per_device_train_batch_size", "4", "--output_dir", "one"],
         tmp_path, CUDA_VISIBLE_DEVICES="0")
    two, one = _losses(_only_run(tmp_path / "two")), _losses(_only_run(tmp_path / "one"))
    for step in one:
        assert two[step] == pytest.approx(one[step], abs=1e-3)


@pytest.mark.gpu
@pytest.mark.skipif(_cuda_count() < 4, reason="needs 4 CUDA GPUs (lora_mp_ddp: 2 ranks x 2 GPUs)")
def test_model_parallel_with_ddp(tmp_path):
    argv = [a if a != "6" else "2" for a in COMMON]
    r = _run([sys.executable, "-m", "sartor", "sft", *argv, "--device_map", "auto", "--output_dir", "out"], tmp_path,
             NPROC_PER_NODE="2", CUDA_VISIBLE_DEVICES="0,1,2,3")
    assert (_only_run(tmp_path / "out") / "checkpoint-2" / "adapter_model.safetensors").is_file()
    assert "model parallel on GPUs [0, 1]" in r.stderr
