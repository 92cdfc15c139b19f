"""PreferenceTrainer: SartorTrainer with DPO / ORPO / SimPO / CPO / KTO / reward-model losses.

The batch comes from PairCollator (chosen rows then rejected rows) or KTOCollator. One policy forward
scores chosen and rejected together; the reference scores them under no_grad, from `ref_model` or,
for a LoRA policy, from the same weights with the adapter disabled. Loss of a micro-batch is the
mean over its rows; the Trainer divides by the accumulation steps (loss_is_scaled_for_ga = False)."""
from __future__ import annotations

from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

import torch

from ..trainer import SartorTrainer
from . import losses as L

if TYPE_CHECKING:
    from ...arguments import RLHFArguments


@dataclass
class PreferenceConfig:
    """The method and its hyper-parameters (resolved from RLHFArguments)."""

    rlhf_type: str = "dpo"
    loss_type: str = "sigmoid"
    beta: float = 0.1
    label_smoothing: float = 0.0
    rpo_alpha: Optional[float] = None
    cpo_alpha: float = 1.0
    simpo_gamma: float = 1.0
    desirable_weight: float = 1.0
    undesirable_weight: float = 1.0

    @classmethod
    def from_args(cls, args: RLHFArguments) -> PreferenceConfig:
        return cls(rlhf_type=args.rlhf_type, loss_type=L.check_loss_type(args.rlhf_type, args.loss_type),
                   beta=resolved_beta(args), label_smoothing=args.label_smoothing, rpo_alpha=args.rpo_alpha,
                   cpo_alpha=args.cpo_alpha, simpo_gamma=args.simpo_gamma, desirable_weight=args.desirable_weight,
                   undesirable_weight=args.undesirable_weight)


def resolved_beta(args: RLHFArguments) -> float:
    if args.beta is not None:
        return args.beta
    return 2.0 if args.rlhf_type == "simpo" else 0.1


class PreferenceTrainer(SartorTrainer):
    """Trains a policy (or a reward model) on preference data; logs rewards/* like TRL."""

    def __init__(self, *args: Any, config: PreferenceConfig, ref_model: Optional[torch.nn.Module] = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.config = config
        self.loss_is_scaled_for_ga = False  # each micro-batch loss is a mean over its rows
        self.ref_model = ref_model.to(self.args.device) if ref_model is not None else None
        self._sums: dict[str, dict[str, list[float]]] = {"train": defaultdict(lambda: [0.0, 0.0]),
                                                         "eval": defaultdict(lambda: [0.0, 0.0])}

    # -- log-probabilities ---------------------------------------------------------------------
    @staticmethod
    def _logps(model: Any, batch: dict, prefix: str = "") -> tuple[torch.Tensor, torch.Tensor]:
        out = model(input_ids=batch[f"{prefix}input_ids"], attention_mask=batch[f"{prefix}attention_mask"], use_cache=False)
        return L.sequence_logps(out.logits, batch[f"{prefix}labels"])

    @torch.no_grad()
    def _ref_logps(self, model: Any, batch: dict, prefix: str = "") -> torch.Tensor:
        if self.ref_model is not None:
            return self._logps(self.ref_model, batch, prefix)[0]
        unwrapped = self.accelerator.unwrap_model(model)
        with unwrapped.disable_adapter():
            return self._logps(unwrapped, batch, prefix)[0]

    # -- losses --------------------------------------------------------------------------------
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        self._meter["tokens"] += int(inputs["attention_mask"].sum())
        method = {"kto": self._kto, "rm": self._reward_model}.get(self.config.rlhf_type, self._pairwise)
        with self.precision(inputs):
            loss, stats = method(model, inputs)
        self._record("train" if model.training else "eval", stats)
        return (loss, None) if return_outputs else loss

    def _pairwise(self, model: Any, batch: dict) -> tuple[torch.Tensor, dict]:
        c = self.config
        logps, ntok = self._logps(model, batch)
        n = logps.size(0) // 2
        chosen, rejected, n_chosen, n_rejected = logps[:n], logps[n:], ntok[:n], ntok[n:]
        nll = -chosen.sum() / n_chosen.sum().clamp(min=1)
        extra: dict = {}
        if c.rlhf_type == "dpo":
            ref = self._ref_logps(model, batch)
            losses, r_c, r_r = L.dpo_loss(chosen, rejected, ref[:n], ref[n:], c.beta, c.loss_type, c.label_smoothing,
                                          n_chosen, n_rejected)
            loss = losses.mean() + (c.rpo_alpha * nll if c.rpo_alpha else 0.0)
        elif c.rlhf_type == "cpo":
            losses, r_c, r_r = L.cpo_loss(chosen, rejected, c.beta, c.loss_type, c.label_smoothing)
            loss = losses.mean() + c.cpo_alpha * nll
        elif c.rlhf_type == "simpo":
            mean_c, mean_r = chosen / n_chosen.clamp(min=1), rejected / n_rejected.clamp(min=1)
            losses, r_c, r_r = L.simpo_loss(mean_c, mean_r, c.beta, c.simpo_gamma, c.label_smoothing)
            loss = losses.mean() + c.cpo_alpha * nll
        elif c.rlhf_type == "orpo":
            mean_c, mean_r = chosen / n_chosen.clamp(min=1), rejected / n_rejected.clamp(min=1)
            losses, r_c, r_r = L.orpo_odds_term(mean_c, mean_r, c.beta)
            loss = nll + losses.mean()
            extra["odds_ratio_loss"] = (float(losses.detach().sum()), n)
        else:  # pragma: no cover - guarded by RLHFArguments
            raise ValueError(c.rlhf_type)
        stats = _pair_stats(r_c, r_r)
        stats.update(extra)
        stats["logps/chosen"] = (float(chosen.detach().sum()), n)
        stats["logps/rejected"] = (float(rejected.detach().sum()), n)
        stats["nll_loss"] = (float(nll.detach()), 1)
        return loss, stats

    def _reward_model(self, model: Any, batch: dict) -> tuple[torch.Tensor, dict]:
        scores = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False).logits[:, 0]
        n = scores.size(0) // 2
        losses, r_c, r_r = L.reward_model_loss(scores[:n], scores[n:])
        return losses.mean(), _pair_stats(r_c, r_r)

    def _kto(self, model: Any, batch: dict) -> tuple[torch.Tensor, dict]:
        c = self.config
        logps, _ = self._logps(model, batch)
        ref = self._ref_logps(model, batch)
        if batch["input_ids"].size(0) > 1:  # z0: KL(policy || ref) estimated on mismatched prompt/completion pairs
            with torch.no_grad():
                kl_policy = self._logps(model, batch, "kl_")[0]
            kl = (kl_policy - self._ref_logps(model, batch, "kl_")).mean().clamp(min=0)
        else:
            kl = torch.zeros((), device=logps.device)
        desirable = batch["label"].to(logps.device).bool()
        losses, rewards = L.kto_loss(logps, ref, desirable, kl.detach(), c.beta, c.desirable_weight, c.undesirable_weight)
        right_side = torch.where(desirable, rewards > c.beta * kl, rewards < c.beta * kl)
        n_c, n_r = int(desirable.sum()), int((~desirable).sum())
        stats = {"rewards/chosen": (float(rewards[desirable].sum()), n_c),
                 "rewards/rejected": (float(rewards[~desirable].sum()), n_r),
                 "rewards/accuracies": (float(right_side.float().sum()), len(rewards)),
                 "logps/chosen": (float(logps.detach()[desirable].sum()), n_c),
                 "logps/rejected": (float(logps.detach()[~desirable].sum()), n_r),
                 "kl": (float(kl), 1)}
        return losses.mean(), stats

    # -- metrics -------------------------------------------------------------------------------
    def _record(self, mode: str, stats: dict) -> None:
        for key, (total, count) in stats.items():
            acc = self._sums[mode][key]
            acc[0] += total
            acc[1] += count

    def _pop_metrics(self, mode: str) -> dict[str, float]:
        sums = self._sums[mode]
        keys = sorted(sums)
        if not keys:
            return {}
        local = torch.tensor([[sums[k][0], sums[k][1]] for k in keys], dtype=torch.float64, device=self.args.device)
        total = self.accelerator.reduce(local, reduction="sum") if self.args.world_size > 1 else local
        sums.clear()
        out = {k: round(float(t / n), 6) for k, (t, n) in zip(keys, total.tolist()) if n > 0}
        if "rewards/chosen" in out and "rewards/rejected" in out:
            out["rewards/margins"] = round(out["rewards/chosen"] - out["rewards/rejected"], 6)
        return out

    def log(self, logs: dict, start_time=None) -> None:
        if "loss" in logs:
            logs.update(self._pop_metrics("train"))
        elif "eval_loss" in logs:
            logs.update({f"eval_{k}": v for k, v in self._pop_metrics("eval").items()})
        super().log(logs, start_time)

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad(), (self.compute_loss_context_manager() or nullcontext()):
            loss = self.compute_loss(model, inputs)
        return loss.detach(), None, None


def _pair_stats(r_c: torch.Tensor, r_r: torch.Tensor) -> dict:
    n = r_c.numel()
    return {"rewards/chosen": (float(r_c.sum()), n), "rewards/rejected": (float(r_r.sum()), n),
            "rewards/accuracies": (float((r_c > r_r).float().sum()), n)}
