"""Several training processes (torchrun, accelerate launch, `NPROC_PER_NODE=N sartor sft`): who is who, one run
directory, data prepared once, identical initial weights and per-rank dropout.

Every function here is a no-op in a single process, so sft_main reads the same either way."""
import os
import shutil
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


def _saveable(ds: Any) -> bool:
    try:
        import datasets
    except ImportError:  # pragma: no cover
        return False
    return ds is None or isinstance(ds, datasets.Dataset)


def share_datasets(build: Callable[[], tuple], cache_dir: str) -> tuple:
    """Run `build` (load + encode + pack) once per node, on its main process, which saves the encoded datasets
    under cache_dir; the other processes load them from there. Lazy and streaming datasets (cheap to build, and
    not saveable) are built by every process after the main one."""
    world = get_world()
    if not world.distributed or _dist() is None:
        return build()
    cache = Path(cache_dir) / f"node{world.node_rank}"
    with main_process_first(local=True) as is_main:
        if is_main:
            shutil.rmtree(cache, ignore_errors=True)
            result = build()
            if all(_saveable(ds) for ds in result):
                import datasets

                shown = datasets.is_progress_bar_enabled()
                datasets.disable_progress_bars()
                try:
                    for i, ds in enumerate(result):
                        if ds is not None:
                            ds.save_to_disk(str(cache / str(i)))
                finally:
                    if shown:
                        datasets.enable_progress_bars()
                (cache / "done").write_text(str(len(result)))
            return result
        if not (cache / "done").is_file():
            return build()
        import datasets

        n = int((cache / "done").read_text())
        return tuple(datasets.load_from_disk(str(cache / str(i))) if (cache / str(i)).is_dir() else None
                     for i in range(n))


def remove_shared_datasets(cache_dir: str) -> None:
    """Drop what share_datasets saved (each node's main process, once training is over)."""
    world = get_world()
    if world.distributed and world.is_local_main:
        shutil.rmtree(Path(cache_dir) / f"node{world.node_rank}", ignore_errors=True)
        try:
            Path(cache_dir).rmdir()
        except OSError:
            pass


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


def check_world_args(args: Any, world: World) -> None:
    """Option combinations several processes cannot take."""
    fsdp, _ = fsdp_settings(getattr(args, "fsdp", None), getattr(args, "fsdp_config", None))
    if args.deepspeed and fsdp:
        raise SartorError("give --deepspeed or --fsdp, not both")
    if fsdp and getattr(args, "lorap_lr_ratio", None):
        raise SartorError("--lorap_lr_ratio builds its own optimizer, which the Trainer does not take under --fsdp")
    if not world.distributed:
        return
    if getattr(args, "device_map", None) not in (None, "cpu") and (args.deepspeed or fsdp):
        raise SartorError("--device_map (model parallel) combines with plain DDP only, not --deepspeed / --fsdp")


def fsdp_settings(fsdp: Optional[str], fsdp_config: Optional[str]) -> tuple[bool, Optional[dict]]:
    """--fsdp and --fsdp_config as TrainingArguments' fsdp=True and an FSDP2 fsdp_config.

    --fsdp takes the usual option words ('full_shard auto_wrap', 'shard_grad_op', 'offload'; 'true' is full_shard),
    translated here into fsdp_config (reshard_after_forward, cpu_offload) as transformers wants them now."""
    if not fsdp or str(fsdp).lower() in ("false", "0", "no", "none"):
        return False, None
    import json

    config: dict = {}
    if fsdp_config:
        text = fsdp_config.strip()
        try:
            config = json.loads(text) if text.startswith("{") else json.loads(Path(text).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SartorError(f"--fsdp_config {fsdp_config}: no such file") from None
        except json.JSONDecodeError as e:
            raise SartorError(f"--fsdp_config {fsdp_config}: not valid JSON ({e})") from None
    config = {(k[5:] if k.startswith("fsdp_") else k): v for k, v in config.items()}
    config.setdefault("version", 2)
    for word in str(fsdp).replace(",", " ").split():
        word = word.lower()
        if word in ("true", "1", "yes", "fsdp", "fsdp2", "full_shard"):
            config.setdefault("reshard_after_forward", True)
        elif word == "shard_grad_op":
            config.setdefault("reshard_after_forward", False)
        elif word == "offload":
            config.setdefault("cpu_offload", True)
        elif word != "auto_wrap":
            raise SartorError(f"--fsdp {fsdp!r}: unknown option {word!r}; use e.g. 'full_shard auto_wrap' "
                              "(words: full_shard, shard_grad_op, offload, auto_wrap)")
    config.setdefault("reshard_after_forward", True)
    return True, config


def fsdp_layout(config: Optional[dict]) -> Optional[str]:
    """'full_shard' / 'shard_grad_op' (+ ' offload') of an fsdp_config, for the memory estimate."""
    if not config:
        return None
    return ("full_shard" if config.get("reshard_after_forward", True) else "shard_grad_op") + (
        " offload" if config.get("cpu_offload") else "")


def parallel_kwargs(args: Any, activation_checkpointing: bool) -> dict:
    """The TrainingArguments fields of the parallel layout: backend, timeout, DeepSpeed config, FSDP.

    Under FSDP, gradient checkpointing is FSDP's own (fsdp_config activation_checkpointing), which avoids the
    extra all-gather of the Trainer's checkpointing."""
    import torch

    from .ds_configs import resolve_deepspeed

    world = get_world()
    fsdp, fsdp_config = fsdp_settings(getattr(args, "fsdp", None), getattr(args, "fsdp_config", None))
    if fsdp and args.deepspeed:
        raise SartorError("give --deepspeed or --fsdp, not both")
    kwargs: dict = dict(ddp_backend=args.ddp_backend or (default_backend() if world.distributed else None),
                        ddp_timeout=args.ddp_timeout, ddp_find_unused_parameters=args.ddp_find_unused_parameters,
                        deepspeed=resolve_deepspeed(args.deepspeed))
    if kwargs["deepspeed"]:
        import importlib.util

        if importlib.util.find_spec("deepspeed") is None:
            raise SartorError(f"--deepspeed {args.deepspeed} needs the deepspeed package: "
                              "pip install 'sartor[deepspeed]' (on a machine with CUDA)")
    if fsdp:  # FSDP checkpoints activations itself; the Trainer's checkpointing would add an all-gather
        if activation_checkpointing:
            fsdp_config.setdefault("activation_checkpointing", True)
        kwargs.update(fsdp=True, fsdp_config=fsdp_config, activation_checkpointing=False, gradient_checkpointing=False)
    if world.distributed and not torch.cuda.is_available():
        kwargs["use_cpu"] = True  # accelerate's multi-CPU (gloo) mode; otherwise it does not see the process group
    return kwargs
