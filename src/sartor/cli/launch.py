"""Relaunch a training command under torchrun when NPROC_PER_NODE / NNODES ask for more than one process.

`NPROC_PER_NODE=2 sartor sft ...` runs `python -m torch.distributed.run --nproc_per_node 2 ... -m sartor sft ...`
with the same argv (ms-swift's convention). NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT set the multi-node
rendezvous; CUDA_VISIBLE_DEVICES passes through. Under a launcher already (torchrun, accelerate launch: LOCAL_RANK
is set) nothing is relaunched."""
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from typing import Optional

from ..utils.errors import SartorError

TRAIN_COMMANDS = ("sft", "pt", "rlhf")
DEFAULT_MASTER_PORT = 29500


def _int_env(env: Mapping[str, str], name: str) -> Optional[int]:
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise SartorError(f"{name}={value!r}: give a whole number") from None


def visible_device_count(env: Mapping[str, str]) -> int:
    """GPUs this node may use: CUDA_VISIBLE_DEVICES if set, else what torch sees (0 without CUDA)."""
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    try:
        import torch

        return torch.cuda.device_count()
    except Exception:  # pragma: no cover - torch without a working CUDA runtime
        return 0


def launch_layout(env: Mapping[str, str]) -> Optional[dict]:
    """The torchrun layout the environment asks for, or None (one process, or already under a launcher)."""
    if env.get("LOCAL_RANK") is not None:
        return None
    nproc = _int_env(env, "NPROC_PER_NODE")
    nnodes = _int_env(env, "NNODES") or 1
    if nproc is None and nnodes <= 1:
        return None
    if nproc is None:  # NNODES alone: one process per visible GPU
        nproc = max(visible_device_count(env), 1)
    if nproc < 1 or nnodes < 1:
        raise SartorError(f"NPROC_PER_NODE={nproc}, NNODES={nnodes}: both must be at least 1")
    if nproc * nnodes <= 1:
        return None
    node_rank = _int_env(env, "NODE_RANK") or 0
    if not 0 <= node_rank < nnodes:
        raise SartorError(f"NODE_RANK={node_rank} must be in [0, NNODES={nnodes})")
    addr = env.get("MASTER_ADDR")
    port = _int_env(env, "MASTER_PORT")
    if nnodes > 1:
        if not addr:
            raise SartorError("NNODES > 1 needs MASTER_ADDR: the address of the node with NODE_RANK=0, on every node")
        port = port or DEFAULT_MASTER_PORT
    else:
        addr = addr or "127.0.0.1"
        port = port or free_port()  # two single-node runs on one machine must not collide
    return {"nproc_per_node": nproc, "nnodes": nnodes, "node_rank": node_rank, "master_addr": addr, "master_port": port}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun_command(command: str, argv: list[str], layout: dict) -> list[str]:
    """`python -m torch.distributed.run <layout> -m sartor <command> <argv>`."""
    return [sys.executable, "-m", "torch.distributed.run", *(f"--{k}={v}" for k, v in layout.items()),
            "-m", "sartor", command, *argv]


def wants_dry_run(argv: list[str]) -> bool:
    """--dry_run true on the command line or `dry_run: true` in the YAML file: plan, do not launch."""
    for i, a in enumerate(argv):
        if a == "--dry_run":
            value = argv[i + 1] if i + 1 < len(argv) and not argv[i + 1].startswith("--") else "true"
            return value.lower() in ("true", "1", "yes")
        if a.startswith("--dry_run="):
            return a.split("=", 1)[1].lower() in ("true", "1", "yes")
    if argv and argv[0].endswith((".yaml", ".yml")) and os.path.isfile(argv[0]):
        import yaml

        with open(argv[0], encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
        return isinstance(data, dict) and str(data.get("dry_run", "false")).lower() in ("true", "1", "yes")
    return False


def maybe_launch(command: str, argv: list[str], env: Optional[Mapping[str, str]] = None) -> Optional[int]:
    """Run the command under torchrun if the environment asks for several processes; its exit status, else None."""
    env = os.environ if env is None else env
    if command not in TRAIN_COMMANDS or any(a in ("-h", "--help") for a in argv) or wants_dry_run(argv):
        return None
    layout = launch_layout(env)
    if layout is None:
        return None
    cmd = torchrun_command(command, argv, layout)
    print(f"sartor: launching {layout['nproc_per_node']} process(es) per node on {layout['nnodes']} node(s): "
          + " ".join(cmd[1:]), file=sys.stderr, flush=True)
    child_env = dict(env)
    child_env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // layout["nproc_per_node"])))
    try:
        return subprocess.run(cmd, env=child_env).returncode
    except KeyboardInterrupt:  # torchrun got the same signal and stops its workers
        return 130
