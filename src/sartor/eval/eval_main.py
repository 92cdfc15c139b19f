"""`eval_main`: answer each validation dataset greedily and score the answers against the references.

Metrics per dataset: ROUGE-L, BLEU-4 and exact match (after trimming whitespace). Results go to
stdout as a table and to a JSON file; each dataset's answers go to a JSONL file beside it."""
import dataclasses
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from ..arguments import EvalArguments
from ..utils.errors import SartorError
from ..utils.logging import get_logger


def score(results: list[dict]) -> dict[str, float]:
    """ROUGE-L, BLEU-4 and exact match over rows with a reference answer."""
    from ..core.metrics import generation_metrics

    scored = [r for r in results if r.get("label") is not None]
    if not scored:
        return {"rows": 0}
    preds, refs = [r["response"] for r in scored], [r["label"] for r in scored]
    metrics = generation_metrics(preds, refs)
    metrics["exact_match"] = round(sum(p.strip() == t.strip() for p, t in zip(preds, refs)) / len(scored), 6)
    metrics["rows"] = len(scored)
    return metrics


def eval_main(args: EvalArguments | None = None, **kwargs: Any) -> dict:
    """Evaluate a model or checkpoint on --val_dataset (or the run's own validation split)."""
    from ..infer.dataset_infer import infer_dataset
    from ..infer.engine import RequestConfig
    from ..core.data import validation_rows
    from ..infer.infer_main import prepare_engine

    args = args or EvalArguments(**kwargs)
    if not args.val_dataset and not args.load_dataset_config:
        raise SartorError("give --val_dataset (files, registered names or hub ids), or --load_dataset_config true with --ckpt_dir")
    engine, args, ckpt = prepare_engine(args)
    try:
        cfg = dataclasses.replace(RequestConfig.from_args(args), temperature=0.0)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        out_dir = Path(args.result_path or (Path(ckpt) / "eval_result" if ckpt else Path("eval_result"))) / stamp
        report: dict[str, Any] = {}
        specs = args.val_dataset or ["validation split"]
        for spec in specs:
            one = dataclasses.replace(args, val_dataset=[spec] if args.val_dataset else [])
            rows = validation_rows(one)
            if args.eval_limit:
                rows = rows.select(range(min(args.eval_limit, len(rows))))
            name = os.path.basename(spec.split("#")[0].rstrip("/")) or spec
            results = infer_dataset(engine, rows, cfg, str(out_dir / f"{name}.jsonl"))
            report[spec] = score(results)
        (out_dir / "metrics.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
        get_logger().info(f"evaluation results in {out_dir}")
        print(f"{'dataset':<40} {'rows':>6} {'rouge-l':>8} {'bleu-4':>8} {'exact':>7}")
        for spec, m in report.items():
            print(f"{spec[:40]:<40} {m.get('rows', 0):>6} {m.get('rouge-l', 0):>8.4f} {m.get('bleu-4', 0):>8.4f} "
                  f"{m.get('exact_match', 0):>7.4f}")
        print(f"metrics_path: {out_dir / 'metrics.json'}")
    finally:
        engine.close()
    return {"metrics": report, "result_dir": str(out_dir)}
