"""--predict_with_generate: answer the validation prompts greedily and score ROUGE-L and BLEU-4."""
from typing import Any

import torch

from ..utils.logging import get_logger


class GenerationEvaluator:
    """Called by the trainer at each evaluation with the model being trained."""

    def __init__(self, template: Any, rows: Any, max_batch_size: int = 16, limit: int | None = 256):
        from ..dataset.canonical import decode_row
        from ..infer.dataset_infer import split_prompt

        items = [decode_row(r) for r in (rows.select(range(min(limit, len(rows)))) if limit else rows)]
        pairs = [split_prompt(r) for r in items]
        self.prompts = [p for p, label in pairs if label is not None]
        self.labels = [label for _, label in pairs if label is not None]
        self.template = template
        self.max_batch_size = max_batch_size
        tok = template.tokenizer
        longest = max((len(tok(label, add_special_tokens=False)["input_ids"]) for label in self.labels), default=16)
        self.max_new_tokens = min(512, longest + 16)

    @torch.no_grad()
    def __call__(self, model: Any, autocast_dtype: torch.dtype | None = None) -> dict[str, float]:
        from ..eval.metrics import generation_metrics
        from ..infer.engine import PtEngine, RequestConfig

        if not self.prompts:
            return {}
        was_training = model.training
        model.eval()
        engine = PtEngine(model, self.template.tokenizer, self.template, max_batch_size=self.max_batch_size,
                          autocast_dtype=autocast_dtype)
        try:
            outs = engine.infer(self.prompts, RequestConfig(temperature=0.0, max_new_tokens=self.max_new_tokens))
        finally:
            engine.close()
            model.train(was_training)
        metrics = generation_metrics([o.text for o in outs], self.labels)
        get_logger().info(f"generation eval on {len(self.prompts)} rows: {metrics}")
        return metrics
