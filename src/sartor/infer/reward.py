"""`sartor infer --ckpt_dir <reward model checkpoint>`: score conversations instead of generating.

A checkpoint is a reward model when its args.json says `rlhf_type: rm`. `--query` is scored as a user
message (or give a JSON list of messages to score a whole conversation); in dataset mode every row is
scored, and its rejected answer too when it has one. Scores go to stdout, one per line, and to a JSONL file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import torch

from ..utils.errors import SartorError
from ..utils.logging import get_logger

if TYPE_CHECKING:
    from ..arguments import InferArguments, ModelArguments


def reward_checkpoint(args: InferArguments) -> Optional[str]:
    """The checkpoint of --ckpt_dir when it holds a reward model, else None."""
    from ..core.reward_model import is_reward_checkpoint
    from .load import ckpt_of

    ckpt = ckpt_of(args)
    return ckpt if ckpt and is_reward_checkpoint(ckpt) else None


def load_reward_checkpoint(args: ModelArguments, ckpt: str) -> tuple[Any, Any, Any]:
    """(reward model in eval mode, tokenizer, ModelInfo): base + adapter (with its score head), or the full checkpoint."""
    from ..model.loader import load_tokenizer
    from ..core.reward_model import load_reward_model
    from ..core.resolve import model_kwargs_of
    from .load import is_adapter

    adapter = is_adapter(ckpt)
    kwargs = model_kwargs_of(args)
    model = load_reward_model({**kwargs, "model_type": kwargs["model_type"] if adapter else None},
                              args.model if adapter else ckpt, None)
    info = model.model_info
    tok_dir = ckpt if (Path(ckpt) / "tokenizer_config.json").is_file() else (args.tokenizer or info.model_dir)
    tokenizer = load_tokenizer(tok_dir, trust_remote_code=args.trust_remote_code)
    model.config.pad_token_id = tokenizer.pad_token_id
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, ckpt, is_trainable=False)
    return model.eval(), tokenizer, info


class RewardScorer:
    """Scores conversations with a reward model, through the template it was trained with."""

    def __init__(self, model: Any, tokenizer: Any, template: Any, batch_size: int = 16):
        self.model, self.tokenizer, self.template, self.batch_size = model, tokenizer, template, batch_size

    @torch.no_grad()
    def score(self, conversations: list[list[dict]]) -> list[float]:
        device = next(self.model.parameters()).device
        out: list[float] = []
        for start in range(0, len(conversations), self.batch_size):
            ids = [self.template.encode({"messages": m})["input_ids"] for m in conversations[start:start + self.batch_size]]
            longest = max(len(x) for x in ids)
            pad = self.tokenizer.pad_token_id
            input_ids = torch.tensor([x + [pad] * (longest - len(x)) for x in ids], device=device)
            mask = torch.tensor([[1] * len(x) + [0] * (longest - len(x)) for x in ids], device=device)
            logits = self.model(input_ids=input_ids, attention_mask=mask, use_cache=False).logits
            out += [float(v) for v in logits[:, 0].float().cpu()]
        return out


def query_messages(query: str) -> list[dict]:
    """--query as a conversation: a JSON list of messages, or the text of one user message."""
    text = query.strip()
    if text.startswith("["):
        try:
            messages = json.loads(text)
        except json.JSONDecodeError:
            messages = None
        if isinstance(messages, list) and all(isinstance(m, dict) and "role" in m for m in messages):
            return messages
    return [{"role": "user", "content": query}]


def reward_main(args: InferArguments, ckpt: str) -> dict:
    """Score --query or the rows of a dataset with the reward model of `ckpt`."""
    from ..template import get_template
    from ..core.resolve import choose_template, read_system
    from .dataset_infer import default_result_path
    from .load import fill_from_checkpoint

    args = fill_from_checkpoint(args, ckpt, with_dataset=args.load_dataset_config)
    model, tokenizer, info = load_reward_checkpoint(args, ckpt)
    template = get_template(choose_template(args.template, info.template, tokenizer), tokenizer,
                            default_system=read_system(args.system))
    scorer = RewardScorer(model, tokenizer, template, batch_size=args.max_batch_size)
    if args.query is not None:
        score = scorer.score([query_messages(args.query)])[0]
        print(f"{score:.6f}", flush=True)
        return {"score": score}
    if not (args.val_dataset or args.load_dataset_config):
        raise SartorError("a reward model scores conversations: give --query, --val_dataset or --load_dataset_config true")
    from ..core.data import validation_rows
    from ..dataset.canonical import decode_row

    rows = [decode_row(r) for r in validation_rows(args)]
    scores = scorer.score([r["messages"] for r in rows])
    pairs = [(i, r) for i, r in enumerate(rows) if r.get("rejected_response") is not None]
    rejected = scorer.score([[*r["messages"][:-1], {"role": "assistant", "content": r["rejected_response"]}]
                             for _, r in pairs])
    rejected_of = {i: s for (i, _), s in zip(pairs, rejected)}
    path = args.result_path or default_result_path(ckpt, args.model)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    results = []
    with open(path, "w", encoding="utf-8") as f:
        for i, (row, score) in enumerate(zip(rows, scores)):
            rec = {"messages": row["messages"], "score": score}
            if i in rejected_of:
                rec.update(rejected_response=row["rejected_response"], rejected_score=rejected_of[i])
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            print(json.dumps({k: v for k, v in rec.items() if k.endswith("score")}), flush=True)
            results.append(rec)
    get_logger().info(f"wrote {len(results)} scores to {path}")
    print(f"result_path: {path}")
    return {"result_path": path, "results": results}
