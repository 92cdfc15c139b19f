"""The Trainer subclass: token-exact loss under padding and accumulation, accuracy and speed in logs."""
import time
from contextlib import ExitStack

import torch
from transformers import Trainer

from ..compat.transformers import require_trainer_api
from .checkpoint import AtomicCheckpoints
from .guards import FiniteGuardCallback, check_loss
from .loss import causal_lm_loss_and_aux, router_aux_loss_coef
from .mixed_precision import AdapterInputs, autocast_is_on, half_dtype


class SartorTrainer(AtomicCheckpoints, Trainer):
    """Loss = sum over every trained token of the optimizer step / their count (all micro-batches, all ranks).
    Checkpoints appear under their name only once complete (see checkpoint.py)."""

    def __init__(self, *args, acc_strategy: str = "token", generation_evaluator=None,
                 activation_offloading: bool = False, **kwargs):
        require_trainer_api()  # the private Trainer methods overridden and called here and in checkpoint.py
        super().__init__(*args, **kwargs)
        self.activation_offloading = activation_offloading
        from transformers.trainer_callback import PrinterCallback, ProgressCallback

        for cb in (PrinterCallback, ProgressCallback):  # our ProgressBarCallback shows progress and log rows
            self.remove_callback(cb)
        self.acc_strategy = acc_strategy
        self.generation_evaluator = generation_evaluator
        self._meter, self._eval_meter = _meter(), _meter()
        self._adapter_inputs = AdapterInputs()
        self._autocast_on: bool | None = None
        self._guard = FiniteGuardCallback(self)
        self.add_callback(self._guard)  # last: it sees the saves every other callback asked for

    def precision(self, inputs: dict):
        """The context every forward of the loss runs in: the accelerator's autocast, adapters without input copies."""
        device = next(v.device for v in inputs.values() if isinstance(v, torch.Tensor))
        return self._adapter_inputs.autocast(self.accelerator, self.model, device.type, half_dtype(self.args))

    def get_batch_samples(self, epoch_iterator, num_batches: int, device) -> tuple[list, torch.Tensor | None]:
        """The micro-batches of one optimizer step and their number of trained tokens (overrides an undocumented
        Trainer method: compat.transformers.TRAINER_OVERRIDES declares and checks its signature).

        Counted by the rule of the loss (labels[..., 1:] != -100) whatever the model class:
        transformers counts unshifted labels for a class it maps to no loss type (GPT2LMHeadModel, remote-code
        QWenLMHeadModel, ...), which also counts position 0 when it is trained (pt), and under DataParallel
        it splits the count per GPU although our loss is computed once on the gathered logits."""
        batch_samples = []
        for _ in range(num_batches):
            try:
                batch_samples.append(next(epoch_iterator))
            except StopIteration:
                break
        if not batch_samples or "labels" not in batch_samples[0]:
            return batch_samples, None
        count = sum(b["labels"][..., 1:].ne(-100).sum() for b in batch_samples).to(device)
        if self.args.average_tokens_across_devices and self.args.world_size > 1:
            count = self.accelerator.gather(count).sum()
        return batch_samples, count

    def training_step(self, model, inputs, num_items_in_batch=None):
        with ExitStack() as stack:
            if self._autocast_on is None:
                self._autocast_on = autocast_is_on(self.accelerator, self.args.device.type, half_dtype(self.args))
            # forward and backward (which recomputes checkpointed layers) see adapters alike
            stack.enter_context(self._adapter_inputs.uncast(self.model, self._autocast_on))
            if self.activation_offloading:
                from .offload import ActivationOffload

                # forward saves to host memory; backward brings it back
                stack.enter_context(ActivationOffload(model.parameters()))
            loss = super().training_step(model, inputs, num_items_in_batch)
        check_loss(loss, self.state.global_step + 1, self.args)
        return loss

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        meter = self._meter if model.training else self._eval_meter
        if "attention_mask" in inputs:
            meter["tokens"] += int(inputs["attention_mask"].sum())
        else:
            meter["tokens"] += int(inputs["input_ids"].numel())
        with self.precision(inputs):
            loss_sum, keep, token_ok, aux = causal_lm_loss_and_aux(model, inputs, labels, unwrapped=model is self.model)
        n_tokens = torch.tensor(token_ok.numel(), device=loss_sum.device)
        outputs = {"loss": loss_sum}
        if isinstance(aux, torch.Tensor):  # a MoE router's load-balancing loss, once per micro-batch as in its own loss
            meter["aux"] += float(aux.detach())
            meter["aux_n"] += 1
            aux = router_aux_loss_coef(model) * aux
        else:
            aux = None
        if num_items_in_batch is not None and model.training:
            loss = loss_sum / torch.as_tensor(num_items_in_batch).clamp(min=1)  # no trained token: 0, not NaN
            if aux is not None:
                loss = loss + aux.to(loss.device)
            if self.args.average_tokens_across_devices and self.args.world_size > 1:
                loss = loss * self.args.world_size  # DDP averages gradients over ranks
            self.loss_is_scaled_for_ga = True
        else:
            loss = loss_sum / n_tokens.clamp(min=1)
            if aux is not None:
                loss = loss + aux.to(loss.device)
        meter["correct"] += int(token_ok.sum())
        meter["counted"] += int(n_tokens)
        if self.acc_strategy == "seq":
            self._count_seq_acc(meter, keep, token_ok, inputs.get("position_ids"))
        return (loss, outputs) if return_outputs else loss

    @torch.no_grad()
    def _count_seq_acc(self, meter: dict, keep: torch.Tensor, token_ok: torch.Tensor,
                       position_ids: torch.Tensor | None) -> None:
        """Whole answers right: per row, or per packed sequence when position ids restart."""
        if position_ids is not None:
            seq = (position_ids == 0).long().cumsum(-1)
            seq = seq + torch.arange(seq.shape[0], device=seq.device).unsqueeze(1) * (seq.max() + 1)
        else:
            seq = torch.arange(keep.shape[0], device=keep.device).unsqueeze(1).expand_as(keep)
        ids = seq[keep.to(seq.device)].to(token_ok.device)
        if ids.numel() == 0:
            return
        uniq, inverse = ids.unique(return_inverse=True)
        wrong = torch.zeros(len(uniq), dtype=torch.long, device=ids.device).index_add_(0, inverse, (~token_ok).long())
        meter["seq_ok"] += int((wrong == 0).sum())
        meter["seqs"] += len(uniq)

    def log(self, logs: dict, start_time=None) -> None:
        self._guard.check_log(logs, self.state.global_step, self.args)
        if "loss" in logs and self.model.training:
            m = self._meter
            now = time.time()
            if self.acc_strategy == "seq" and m["seqs"]:
                logs["acc"] = round(m["seq_ok"] / m["seqs"], 6)
            elif m["counted"]:
                logs["acc"] = round(m["correct"] / m["counted"], 6)
            logs["tokens/s"] = round(m["tokens"] / max(now - m["t0"], 1e-6), 2)
            if m["aux_n"]:
                logs["aux_loss"] = self._mean_aux(m)
            if torch.cuda.is_available():
                logs["memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
            else:
                logs["memory_gib"] = round(_rss_gib(), 3)
            self._meter = _meter(now)
        super().log(logs, start_time)


    def evaluation_loop(self, dataloader, description, prediction_loss_only=None, ignore_keys=None,
                        metric_key_prefix: str = "eval"):
        """Adds {prefix}_acc (per token, or per whole answer with --acc_strategy seq), summed over every rank."""
        self._eval_meter = _meter()
        output = super().evaluation_loop(dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix)
        m = self._eval_meter
        ok, n = (m["seq_ok"], m["seqs"]) if self.acc_strategy == "seq" else (m["correct"], m["counted"])
        if self.args.world_size > 1:
            total = self.accelerator.reduce(torch.tensor([ok, n], device=self.args.device), reduction="sum")
            ok, n = (int(v) for v in total.tolist())
        if n:
            output.metrics[f"{metric_key_prefix}_acc"] = round(ok / n, 6)
        if m["aux_n"]:
            output.metrics[f"{metric_key_prefix}_aux_loss"] = self._mean_aux(m)
        return output

    def _mean_aux(self, m: dict) -> float:
        """The router loss averaged over the forwards since the last log row (over every rank)."""
        total, n = m["aux"], m["aux_n"]
        if self.args.world_size > 1:
            both = self.accelerator.reduce(torch.tensor([total, n], device=self.args.device, dtype=torch.float64), reduction="sum")
            total, n = both.tolist()
        return round(total / max(n, 1), 6)

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval"):
        """Loss and accuracy; with --predict_with_generate also ROUGE-L and BLEU-4 of greedy answers."""
        metrics = super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        if self.generation_evaluator is not None and eval_dataset is None:
            scores = self.generation_evaluator(self.model, half_dtype(self.args))
            extra = {f"{metric_key_prefix}_{k}": v for k, v in scores.items()}
            if extra:
                self.log(extra)
                metrics.update(extra)
        return metrics


def _meter(t0: float | None = None) -> dict:
    """Counts since the last log row: tokens seen, trained tokens right / counted, whole answers right / seen, and
    the MoE router loss summed over forwards."""
    return {"tokens": 0, "correct": 0, "counted": 0, "t0": time.time() if t0 is None else t0, "seq_ok": 0, "seqs": 0,
            "aux": 0.0, "aux_n": 0}


def _rss_gib() -> float:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    except Exception:  # pragma: no cover - non-POSIX
        return 0.0

