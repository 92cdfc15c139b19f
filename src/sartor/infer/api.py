"""The one-call Python API: inference(model, template, query, history, system) -> (response, history)."""
from typing import Any, Optional

from .engine import PtEngine, RequestConfig


def inference(model: Any, template: Any, query: str, history: Optional[list] = None, system: Optional[str] = None,
              **generation: Any) -> tuple[str, list]:
    """Answer `query` after `history` ([[query, response], ...] or messages); return the answer and the new history.

    `generation` takes RequestConfig fields (max_new_tokens, temperature, top_p, ...)."""
    history = list(history or [])
    messages: list[dict] = [{"role": "system", "content": system}] if system else []
    for turn in history:
        if isinstance(turn, dict):
            messages.append(turn)
        else:
            messages += [{"role": "user", "content": turn[0]}, {"role": "assistant", "content": turn[1]}]
    messages.append({"role": "user", "content": query})
    engine = PtEngine(model, template.tokenizer, template)
    response = engine.infer([messages], RequestConfig(**generation))[0].text
    return response, history + [[query, response]]
