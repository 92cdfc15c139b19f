"""Preference losses as plain functions of sequence log-probabilities (no model, no trainer).

Every function returns `(per_row_loss, chosen_rewards, rejected_rewards)`: the loss of each row of
the micro-batch (the trainer averages it) and the implicit rewards that go to the log. The
formulas follow the papers and TRL 1.16's implementations of the same losses:

- DPO  (Rafailov et al. 2023):  -log σ(β((log πθ(c) - log πref(c)) - (log πθ(r) - log πref(r))))
- CPO  (Xu et al. 2024):        -log σ(β(log πθ(c) - log πθ(r)))  (+ α·NLL(c), added by the trainer)
- SimPO (Meng et al. 2024):     -log σ(β(mean log πθ(c) - mean log πθ(r)) - γ)  (+ α·NLL(c))
- ORPO (Hong et al. 2024):      NLL(c) - β·log σ(log odds(c) - log odds(r)), odds from mean log-probs
- KTO  (Ethayarajh et al. 2024): 1 - σ(β(logratio - z)) for desirable rows, 1 - σ(β(z - logratio)) otherwise
- RM   (Ouyang et al. 2022):    -log σ(r(c) - r(r))
"""
from typing import Optional

import torch
import torch.nn.functional as F

from ...utils.errors import SartorError

Losses = tuple[torch.Tensor, torch.Tensor, torch.Tensor]

DPO_LOSS_TYPES = ("sigmoid", "hinge", "ipo", "robust")
CPO_LOSS_TYPES = ("sigmoid", "hinge", "ipo")
LOSS_TYPES = {"dpo": DPO_LOSS_TYPES, "cpo": CPO_LOSS_TYPES, "simpo": ("simpo",), "orpo": ("orpo",),
              "kto": ("kto",), "rm": ("pairwise",)}


def default_loss_type(rlhf_type: str) -> str:
    return LOSS_TYPES[rlhf_type][0]


def check_loss_type(rlhf_type: str, loss_type: Optional[str]) -> str:
    """The loss variant to use; an unknown one is a user error naming the valid ones."""
    valid = LOSS_TYPES[rlhf_type]
    loss_type = loss_type or valid[0]
    if loss_type not in valid:
        raise SartorError(f"--loss_type {loss_type} is not a {rlhf_type} loss; choose one of {', '.join(valid)}")
    return loss_type


def _pairwise(logits: torch.Tensor, beta: float, loss_type: str, label_smoothing: float) -> torch.Tensor:
    """The pairwise losses shared by DPO and CPO, on logits = (chosen score - rejected score)."""
    if loss_type == "sigmoid":  # with label_smoothing: conservative DPO (cDPO)
        return -F.logsigmoid(beta * logits) * (1 - label_smoothing) - F.logsigmoid(-beta * logits) * label_smoothing
    if loss_type == "robust":  # robust DPO (Chowdhury et al. 2024): unbiased under label noise
        return (-F.logsigmoid(beta * logits) * (1 - label_smoothing)
                + F.logsigmoid(-beta * logits) * label_smoothing) / (1 - 2 * label_smoothing)
    if loss_type == "hinge":  # SLiC
        return torch.relu(1 - beta * logits)
    if loss_type == "ipo":  # IPO eq. 17; the caller passes length-normalised scores
        return (logits - 1 / (2 * beta)) ** 2
    raise SartorError(f"unknown loss type {loss_type}")


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
             ref_rejected: torch.Tensor, beta: float, loss_type: str = "sigmoid", label_smoothing: float = 0.0,
             chosen_tokens: Optional[torch.Tensor] = None, rejected_tokens: Optional[torch.Tensor] = None) -> Losses:
    """DPO and its variants on summed response log-probs (IPO uses per-token means, as TRL does)."""
    chosen_ratio = policy_chosen - ref_chosen
    rejected_ratio = policy_rejected - ref_rejected
    if loss_type == "ipo":
        if chosen_tokens is None or rejected_tokens is None:
            raise ValueError("ipo needs the response token counts")
        logits = chosen_ratio / chosen_tokens.clamp(min=1) - rejected_ratio / rejected_tokens.clamp(min=1)
    else:
        logits = chosen_ratio - rejected_ratio
    losses = _pairwise(logits, beta, loss_type, label_smoothing)
    return losses, beta * chosen_ratio.detach(), beta * rejected_ratio.detach()


def cpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, beta: float, loss_type: str = "sigmoid",
             label_smoothing: float = 0.0) -> Losses:
    """CPO: DPO without a reference model (the NLL term on chosen is added by the caller)."""
    losses = _pairwise(policy_chosen - policy_rejected, beta, loss_type, label_smoothing)
    return losses, beta * policy_chosen.detach(), beta * policy_rejected.detach()


def simpo_loss(policy_chosen_mean: torch.Tensor, policy_rejected_mean: torch.Tensor, beta: float, gamma: float,
               label_smoothing: float = 0.0) -> Losses:
    """SimPO on per-token mean log-probs with target margin gamma (reward = beta * mean log-prob)."""
    logits = beta * (policy_chosen_mean - policy_rejected_mean) - gamma
    losses = -F.logsigmoid(logits) * (1 - label_smoothing) - F.logsigmoid(-logits) * label_smoothing
    return losses, beta * policy_chosen_mean.detach(), beta * policy_rejected_mean.detach()


def log1mexp(x: torch.Tensor) -> torch.Tensor:
    """log(1 - exp(x)) for x < 0, stable on both sides of -ln 2."""
    return torch.where(x < -0.6931471805599453, torch.log1p(-torch.exp(x)), torch.log(-torch.expm1(x)))


def orpo_odds_term(policy_chosen_mean: torch.Tensor, policy_rejected_mean: torch.Tensor, beta: float) -> Losses:
    """ORPO's odds-ratio term -beta * log σ(log odds(c) - log odds(r)) (the NLL on chosen is added by the caller)."""
    c, r = policy_chosen_mean.float(), policy_rejected_mean.float()
    c, r = c.clamp(max=-1e-6), r.clamp(max=-1e-6)  # log-probs are < 0; keep log(1 - p) finite
    log_odds = (c - r) - (log1mexp(c) - log1mexp(r))
    losses = -beta * F.logsigmoid(log_odds)
    return losses, beta * policy_chosen_mean.detach(), beta * policy_rejected_mean.detach()


def kto_loss(policy: torch.Tensor, ref: torch.Tensor, desirable: torch.Tensor, kl: torch.Tensor, beta: float,
             desirable_weight: float = 1.0, undesirable_weight: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """KTO per-row losses and rewards; `kl` is the (detached, clamped) reference point z0."""
    ratio = policy - ref
    desirable = desirable.bool()
    chosen_losses = 1 - torch.sigmoid(beta * (ratio - kl))
    rejected_losses = 1 - torch.sigmoid(beta * (kl - ratio))
    losses = torch.where(desirable, desirable_weight * chosen_losses, undesirable_weight * rejected_losses)
    return losses, beta * ratio.detach()


def reward_model_loss(chosen_scores: torch.Tensor, rejected_scores: torch.Tensor) -> Losses:
    """Bradley-Terry pairwise loss of a reward model's scalar scores."""
    chosen_scores, rejected_scores = chosen_scores.float(), rejected_scores.float()
    return -F.logsigmoid(chosen_scores - rejected_scores), chosen_scores.detach(), rejected_scores.detach()


def sequence_logps(logits: torch.Tensor, labels: torch.Tensor, chunk_rows: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed log-probability of the labelled tokens of each row, and their count.

    labels[i, t] is the token at position t (-100: not counted); logits[i, t] predicts position t + 1.
    Rows are processed a few at a time so the float32 log-softmax never holds the whole batch."""
    labels = labels[:, 1:].to(logits.device)
    mask = labels.ne(-100)
    safe = labels.masked_fill(~mask, 0)
    sums = []
    for start in range(0, logits.size(0), chunk_rows):
        lg = logits[start:start + chunk_rows, :-1, :].float()
        tok = lg.gather(-1, safe[start:start + chunk_rows].unsqueeze(-1)).squeeze(-1) - torch.logsumexp(lg, dim=-1)
        sums.append((tok * mask[start:start + chunk_rows]).sum(-1))
    return torch.cat(sums), mask.sum(-1)
