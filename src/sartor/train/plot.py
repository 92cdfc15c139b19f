"""Training curves from logging.jsonl as PNG files in images/."""
import json
from pathlib import Path

from ..utils.logging import get_logger

_KEYS = ("loss", "eval_loss", "acc", "eval_acc", "learning_rate", "grad_norm", "tokens/s")


def plot_run(run_dir: str) -> list[str]:
    """Write images/<metric>.png for each metric present; returns the written paths."""
    log = Path(run_dir) / "logging.jsonl"
    if not log.is_file():
        return []
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        get_logger().warning("matplotlib is not installed: no training curves in images/ (pip install matplotlib)")
        return []
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    out_dir = Path(run_dir) / "images"
    out_dir.mkdir(exist_ok=True)
    written = []
    for key in _KEYS:
        pts = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float))]
        if not pts:
            continue
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="." if len(pts) < 50 else None)
        ax.set_xlabel("step")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        path = out_dir / (key.replace("/", "_per_") + ".png")
        fig.savefig(path, dpi=80, bbox_inches="tight")
        plt.close(fig)
        written.append(str(path))
    return written
