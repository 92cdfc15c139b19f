"""Training data prepared once per node and loaded by the other processes (a no-op in a single process)."""
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .processes import _dist, get_world, main_process_first


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
