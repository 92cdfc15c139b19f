"""Causal-LM loss that never holds the whole [tokens x vocab] logits tensor.

Only positions whose next token is trained get logits at all (prompt and padding positions are
skipped), and the float32 cross-entropy runs in chunks under activation checkpointing, so at most
one chunk of float32 logits is alive. Two routes:

- through the model's own forward with a boolean `logits_to_keep` mask (works under DDP, FSDP and
  DeepSpeed wrappers); the kept logits are materialised once in the model's dtype;
- for an unwrapped model, the decoder's hidden states go through the output layer chunk by chunk,
  so no logits tensor beyond one chunk ever exists.

Both return the summed loss, the trained-position mask and whether each trained token was predicted
right; they equal the plain full-logits computation (tested). A MoE model that adds its router's load-balancing
loss gets it on both routes: from the model's output, or from the router logits the decoder returns."""
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from ..compat.torch import compiled_inner
from ..compat.transformers import logits_are_head_of_hidden, router_balance_loss_fn, takes_logits_mask

CHUNK = 4096


def trained_positions(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Boolean mask [B, T] of positions whose next token is trained, and those targets (flattened)."""
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:].ne(-100)
    return keep, labels[:, 1:][keep[:, :-1]]


def _ce_chunk(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    logits = logits.float()
    return F.cross_entropy(logits, targets, reduction="sum"), logits.argmax(-1).eq(targets)


def _head_ce_chunk(hidden: torch.Tensor, targets: torch.Tensor, head: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    return _ce_chunk(head(hidden), targets)


def chunked_ce(rows: torch.Tensor, targets: torch.Tensor, head: torch.nn.Module | None = None,
               chunk: int = CHUNK) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed CE and per-token correctness over rows (logits, or hidden states when `head` is given), chunk by chunk."""
    # a zero that keeps every parameter in the graph when no token is trained (no None grads, no DDP surprise)
    loss = (rows if head is None else head(rows[:0])).float().sum() * 0.0
    correct = []
    for start in range(0, rows.shape[0], chunk):
        part, y = rows[start:start + chunk], targets[start:start + chunk]
        args = (part, y) if head is None else (part, y, head)
        fn = _ce_chunk if head is None else _head_ce_chunk
        if torch.is_grad_enabled() and rows.requires_grad:
            l, c = checkpoint(fn, *args, use_reentrant=False)
        else:
            l, c = fn(*args)
        loss = loss + l
        correct.append(c)
    return loss, (torch.cat(correct) if correct else torch.zeros(0, dtype=torch.bool, device=rows.device))


def _unwrap(model: Any) -> Any:
    """The model inside DDP / DeepSpeed (`.module`) and torch.compile wrappers."""
    while True:
        inner = getattr(model, "module", None)
        if not isinstance(inner, torch.nn.Module):
            inner = compiled_inner(model)
        if inner is None:
            return model
        model = inner


def accepts_logits_to_keep(model: Any) -> bool:
    """Whether the model's forward (or, under PEFT, its base model's) takes a boolean `logits_to_keep` mask."""
    inner = _unwrap(model)
    if takes_logits_mask(inner.forward):
        return True
    base = getattr(inner, "get_base_model", None)
    return base is not None and takes_logits_mask(base().forward)


def _base(model: Any) -> Any:
    """The transformers model inside wrappers and a PEFT model."""
    inner = _unwrap(model)
    return inner.get_base_model() if hasattr(inner, "get_base_model") else inner


def routes_experts(model: Any) -> bool:
    """A mixture-of-experts model whose config asks for the router's load-balancing loss (output_router_logits)."""
    return bool(getattr(getattr(_unwrap(model), "config", None), "output_router_logits", False))


def router_aux_loss_coef(model: Any) -> float:
    """The weight the model's own forward gives its router loss (set from its config when it was built)."""
    base = _base(model)
    coef = getattr(base, "router_aux_loss_coef", None)
    return float(coef if coef is not None else getattr(base.config, "router_aux_loss_coef", 0.0) or 0.0)


def set_router_aux_loss(model: Any, coef: float | None) -> None:
    """--router_aux_loss_coef: > 0 weights the router's load-balancing loss and turns it on, 0 turns it off, None
    keeps the model config's choice. A model without a router gets a one-line note."""
    if coef is None:
        return
    base, coef = _base(model), float(coef)
    if not hasattr(base.config, "output_router_logits"):
        from ..utils.logging import get_logger

        get_logger().warning(f"--router_aux_loss_coef {coef}: {type(base).__name__} has no mixture-of-experts router; "
                             "ignored")
        return
    base.config.router_aux_loss_coef = coef
    base.config.output_router_logits = coef > 0
    if hasattr(base, "router_aux_loss_coef"):  # the model's own forward reads the weight it was built with
        base.router_aux_loss_coef = coef


def can_split_head(model: Any) -> bool:
    """Whether the decoder and output layer can be called apart (plain logits = lm_head(hidden)); a MoE model that
    adds its router's loss only where that loss can be computed from the decoder's router logits."""
    if not logits_are_head_of_hidden(getattr(model, "config", None)):
        return False
    if routes_experts(model) and router_balance_loss_fn(_base(model)) is None:
        return False
    try:
        return model.get_decoder() is not None and model.get_output_embeddings() is not None
    except (AttributeError, NotImplementedError):
        return False


def causal_lm_loss(model: Any, inputs: dict, labels: torch.Tensor, unwrapped: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(summed loss, trained-position mask [B, T], per-token correctness) for one micro-batch, by the cheapest exact route."""
    return causal_lm_loss_and_aux(model, inputs, labels, unwrapped)[:3]


def causal_lm_loss_and_aux(model: Any, inputs: dict, labels: torch.Tensor,
                           unwrapped: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """causal_lm_loss plus the (unweighted) router load-balancing loss of a MoE model that asks for it, else None:
    a per-forward term, added x router_aux_loss_coef(model) to the token-averaged loss as the model's own forward
    adds it. Padding is left out as the model leaves it out (by the attention mask; none: every token counts)."""
    keep, targets = trained_positions(labels)
    moe = routes_experts(model)
    if unwrapped and can_split_head(model):
        extra = {"output_router_logits": True} if moe else {}
        out = model.get_decoder()(**inputs, use_cache=False, **extra)
        hidden = out.last_hidden_state
        loss, ok = chunked_ce(hidden[keep.to(hidden.device)], targets.to(hidden.device), head=model.get_output_embeddings())
        aux = router_balance_loss_fn(_base(model))(out.router_logits, inputs.get("attention_mask")) if moe else None
    elif accepts_logits_to_keep(model):
        out = model(**inputs, use_cache=False, logits_to_keep=keep)
        logits = out.logits.reshape(-1, out.logits.shape[-1])
        loss, ok = chunked_ce(logits, targets.to(logits.device))
        aux = getattr(out, "aux_loss", None) if moe else None
    else:
        out = model(**inputs, use_cache=False)
        flat = out.logits[:, :-1][keep[:, :-1].to(out.logits.device)]
        loss, ok = chunked_ce(flat, targets.to(flat.device))
        aux = getattr(out, "aux_loss", None) if moe else None
    return loss, keep, ok, aux


def causal_lm_loss_sum(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The plain computation over full logits (the reference the routes above must equal)."""
    shift_logits = logits[..., :-1, :].reshape(-1, logits.size(-1))
    shift_labels = labels[..., 1:].reshape(-1).to(shift_logits.device)
    loss_sum = F.cross_entropy(shift_logits.float(), shift_labels, ignore_index=-100, reduction="sum")
    mask = shift_labels.ne(-100)
    with torch.no_grad():
        correct = (shift_logits.argmax(-1).eq(shift_labels) & mask).sum()
    return loss_sum, mask.sum(), correct
