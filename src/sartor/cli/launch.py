"""Relaunch a training command under torchrun when NPROC_PER_NODE / NNODES ask for more than one process.

`NPROC_PER_NODE=2 sartor sft ...` runs `python -m torch.distributed.run --nproc_per_node 2 ... -m sartor sft ...`
with the same argv (ms-swift's convention). NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT set the multi-node
rendezvous; CUDA_VISIBLE_DEVICES passes through. Under a launcher already (torchrun, accelerate launch: LOCAL_RANK
is set) nothing is relaunched. The layout itself is read from the environment by core.world.launch_layout."""
import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Optional

from ..core.world import launch_layout

TRAIN_COMMANDS = ("sft", "pt", "rlhf")


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
