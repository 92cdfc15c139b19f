"""The process layout a training run asks for through the environment (ms-swift's convention): NPROC_PER_NODE,
NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT and CUDA_VISIBLE_DEVICES. Pure functions of an environment mapping:
the CLI relaunches under torchrun with them (cli/launch.py), --dry_run plans with them (train)."""
import socket
from collections.abc import Mapping
from typing import Optional

from ..utils.errors import SartorError

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
