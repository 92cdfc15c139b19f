"""Several training processes (torchrun, accelerate launch, `NPROC_PER_NODE=N sartor sft`): who is who, one run
directory, identical initial weights and per-rank dropout.

Every function here is a no-op in a single process, so the recipe reads the same either way."""
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Optional

from ..utils.errors import SartorError
from ..utils.logging import get_logger


@dataclass(frozen=True)
class World:
    """This process's place among the training processes."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    local_world_size: int = 1

    @property
    def nnodes(self) -> int:
        return max(1, self.world_size // max(1, self.local_world_size))

    @property
    def node_rank(self) -> int:
        return self.rank // max(1, self.local_world_size)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def is_local_main(self) -> bool:
        return self.local_rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _env_int(env: Mapping[str, str], *names: str, default: int) -> int:
    for name in names:
        if env.get(name, "").strip():
            return int(env[name])
    return default


def get_world(env: Optional[Mapping[str, str]] = None) -> World:
    """The world a launcher (torchrun, accelerate launch) set up in the environment; one process without one."""
    env = os.environ if env is None else env
    world_size = _env_int(env, "WORLD_SIZE", default=1)
    local_world_size = _env_int(env, "LOCAL_WORLD_SIZE", default=world_size)
    return World(rank=_env_int(env, "RANK", default=0), local_rank=_env_int(env, "LOCAL_RANK", default=0),
                 world_size=world_size, local_world_size=local_world_size)


def planned_world(env: Optional[Mapping[str, str]] = None) -> World:
    """The world of this run: the launcher's, else what NPROC_PER_NODE x NNODES will launch (for --dry_run)."""
    env = os.environ if env is None else env
    if env.get("LOCAL_RANK") is not None:
        return get_world(env)
    from ..core.world import launch_layout

    layout = launch_layout({**env, "MASTER_ADDR": env.get("MASTER_ADDR") or "planned", "MASTER_PORT": "1"})
    if layout is None:
        return World()
    nproc, nnodes = layout["nproc_per_node"], layout["nnodes"]
    return World(rank=layout["node_rank"] * nproc, world_size=nproc * nnodes, local_world_size=nproc)


def default_backend() -> str:
    """nccl on CUDA, gloo elsewhere."""
    import torch

    return "nccl" if torch.cuda.is_available() else "gloo"


def _dist():
    import torch.distributed as dist

    return dist if dist.is_available() and dist.is_initialized() else None


def init_distributed(backend: Optional[str], timeout_s: int) -> World:
    """Join the process group now (before data preparation, which waits on it), with --ddp_timeout.

    TrainingArguments later finds the group initialised and reuses it. Ranks other than 0 log warnings only."""
    world = get_world()
    if not world.distributed or _dist() is not None:
        return world
    import torch
    from accelerate import PartialState

    cuda = torch.cuda.is_available()
    try:
        PartialState(cpu=not cuda, backend=backend or default_backend(), timeout=timedelta(seconds=timeout_s))
    except ValueError as e:  # e.g. --ddp_backend nccl without CUDA
        raise SartorError(f"cannot start distributed training with --ddp_backend {backend}: {e}") from None
    if not world.is_main:
        get_logger().setLevel("WARNING")
    get_logger().info(f"distributed: {world.world_size} processes ({world.nnodes} node(s) x {world.local_world_size}), "
                      f"backend {backend or default_backend()}, timeout {timeout_s}s")
    return world


def barrier() -> None:
    dist = _dist()
    if dist is not None:
        dist.barrier()


@contextmanager
def main_process_first(local: bool = True) -> Iterator[bool]:
    """The main process (of each node when `local`) runs the block first; the others wait on a barrier (the
    process group's timeout is --ddp_timeout, hours by default) and then run it, finding its results cached.
    Yields whether this process is that main process."""
    world = get_world()
    is_main = world.is_local_main if local else world.is_main
    if not world.distributed or _dist() is None:
        yield True
        return
    if not is_main:
        barrier()
    try:
        yield is_main
    finally:
        if is_main:
            barrier()


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """rank src's object on every rank."""
    dist = _dist()
    if dist is None:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def shared_run_dir(make: Callable[[], str]) -> str:
    """Rank 0 makes the run directory (v<N>-<timestamp>) and tells the others; each node's main process makes sure
    it exists there too (nodes without a shared file system)."""
    world = get_world()
    run_dir = make() if world.is_main else None
    run_dir = broadcast_object(run_dir)
    if world.distributed:
        Path(run_dir).mkdir(parents=True, exist_ok=True)
    return run_dir


def offset_rng_by_rank(seed: int, offset_cpu: bool = True) -> None:
    """Seed the dropout RNG with seed + rank so ranks draw different dropout masks.

    Called after the model and tuner are built (their initialisation used `seed` on every rank, so all ranks
    start from the same weights) and after the Trainer seeded everything with `seed`. On CUDA only the device
    RNG is offset; the CPU RNG stays identical across ranks because samplers without their own generator
    (group_by_length) draw the data order from it. On CPU, dropout draws from the CPU RNG: it is offset unless
    `offset_cpu` is false (a sampler depends on it)."""
    world = get_world()
    if not world.distributed or world.rank == 0:
        return
    import torch

    if torch.cuda.is_available():
        torch.cuda.manual_seed(seed + world.rank)
    elif offset_cpu:
        torch.manual_seed(seed + world.rank)


def trainable_fingerprint(model: Any) -> list[float]:
    """One float64 sum per trainable parameter tensor (the local shard's, under ZeRO-3 / FSDP)."""
    import torch

    with torch.no_grad():
        return [float(p.detach().sum(dtype=torch.float64)) for p in model.parameters() if p.requires_grad and p.numel()]


def check_same_init(model: Any) -> Optional[bool]:
    """Whether every rank holds the same trainable weights before training (LoRA initialised alike); logged.

    None in a single process."""
    dist = _dist()
    if dist is None:
        return None
    mine = trainable_fingerprint(model)
    gathered: list = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, mine)
    same = all(g == gathered[0] for g in gathered)
    if same:
        get_logger().info(f"initial trainable weights identical on all {len(gathered)} ranks")
    else:
        differ = [r for r, g in enumerate(gathered) if g != gathered[0]]
        get_logger().warning(f"initial trainable weights differ between rank 0 and ranks {differ}: "
                             "something drew random numbers differently before the tuner was built")
    return same
