"""Conformance matrix, loss: Sartor's causal-LM loss on every route that applies equals the model's own forward loss
(the router's load-balancing loss included for MoE models), and padded = padding-free = packed batches."""
import pytest
import torch
from arch_factory import SPECS, padded_batch, rows
from transformers import TrainingArguments

from sartor.dataset.collate import PaddedCollator, PaddingFreeCollator
from sartor.dataset.packing import pack_rows
from sartor.train import loss as L
from sartor.train.padding import padding_free_for
from sartor.train.trainer import SartorTrainer


def _routes(model) -> list[str]:
    routes = ["plain"]
    if L.can_split_head(model):
        routes.append("split_head")
    if L.accepts_logits_to_keep(model):
        routes.append("logits_to_keep")
    return routes


def _route_loss(model, batch: dict, route: str, monkeypatch) -> torch.Tensor:
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with monkeypatch.context() as m:
        if route == "plain":
            m.setattr(L, "accepts_logits_to_keep", lambda model: False)
        total, keep, ok = L.causal_lm_loss(model, inputs, batch["labels"], unwrapped=route == "split_head")
    return total / keep.sum()


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_every_route_equals_the_models_own_loss(spec, monkeypatch):
    model = spec.build().train()  # no dropout in these configs: train mode, as in training
    if spec.attn:
        assert model.config._attn_implementation == spec.attn
    model.config.output_router_logits = False  # the token loss alone first
    batch = padded_batch()
    own = float(model(**batch).loss.detach())
    routes = _routes(model)
    # the decoder+head split where logits are the head's output (not soft-capped or scaled) and no router loss is asked
    assert ("split_head" in routes) == L.logits_are_head_of_hidden(model.config)
    for route in routes:
        assert float(_route_loss(model, batch, route, monkeypatch).detach()) == pytest.approx(own, rel=1e-5, abs=1e-6), route


class _Wrapped(torch.nn.Module):
    """As DDP and DeepSpeed hand the model to compute_loss (.module): the trainer cannot split off the head."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.moe], ids=str)
def test_moe_training_loss_adds_the_router_loss_as_the_model_does(spec, tmp_path, monkeypatch):
    """SartorTrainer.compute_loss on every route that applies (the model itself, a wrapper, a wrapper whose forward
    takes no logits mask) = the model's own loss with the router's load-balancing loss."""
    model = spec.build().train()
    assert model.config.output_router_logits
    batch = padded_batch()
    own = float(model(**batch).loss.detach())
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[])
    trainer = SartorTrainer(model=model, args=args, data_collator=PaddedCollator(0))
    n = torch.tensor(int(batch["labels"][..., 1:].ne(-100).sum()))
    routes = _routes(model)
    assert "logits_to_keep" in routes
    for route in routes:
        with monkeypatch.context() as m:
            if route == "plain":
                m.setattr(L, "accepts_logits_to_keep", lambda model: False)
            called = model if route == "split_head" else _Wrapped(model)
            ours = float(trainer.compute_loss(called, dict(batch), num_items_in_batch=n).detach())
        assert ours == pytest.approx(own, rel=1e-5, abs=1e-6), route
    model.config.output_router_logits = False
    assert ours > float(model(**batch).loss.detach())  # the router loss is really in it


def _rows_are_isolated(model, data: list[dict]) -> bool:
    """In a flattened batch, changing the first row's tokens leaves the later rows' logits exactly as they were."""
    changed = [{**data[0], "input_ids": [(t * 7) % 4000 + 3 for t in data[0]["input_ids"]]}, *data[1:]]
    first = len(data[0]["input_ids"])
    logits = []
    for d in (data, changed):
        b = PaddingFreeCollator()(d)
        with torch.no_grad():  # use_cache=False, as Sartor's loss calls the model
            logits.append(model(input_ids=b["input_ids"], position_ids=b["position_ids"], use_cache=False).logits)
    return torch.equal(logits[0][:, first:], logits[1][:, first:])


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_padded_equals_padding_free_equals_packed(spec):
    """Where Sartor trains padding-free (padding_free_for), rows of a flattened batch never see each other and the
    flattened and packed batches give the padded batch's loss; where the attention cannot tell the flattened rows
    apart (BLOOM's ALiBi takes no position ids), Sartor gives the trainer padded batches instead."""
    model = spec.build().train()
    model.config.output_router_logits = False
    data = rows()
    batches = {"padded": PaddedCollator(0)(data), "flat": PaddingFreeCollator()(data),
               "packed": PaddingFreeCollator()([pack_rows(data)])}
    losses = {}
    for name, batch in batches.items():
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        with torch.no_grad():
            losses[name] = float(L.causal_lm_loss(model, inputs, batch["labels"], True)[0])
    isolated = _rows_are_isolated(model.eval(), data)
    assert padding_free_for(model, True) == isolated == (spec.name != "bloom")
    if isolated:
        for name in ("flat", "packed"):
            assert losses[name] == pytest.approx(losses["padded"], rel=1e-5), (name, losses)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_packing_stays_on_only_where_rows_are_told_apart(spec):
    """--packing is decided from config.json before loading: off for a class whose forward takes no position ids."""
    from types import SimpleNamespace

    from sartor.arguments import SftArguments
    from sartor.train.methods import SftMethod

    info = SimpleNamespace(config={"architectures": [spec.model_class], "model_type": "x"})
    args = SftMethod().adjust(SftArguments(model="tiny", packing=True), info)
    assert args.packing == (spec.name != "bloom")


@pytest.mark.parametrize("spec", [s for s in SPECS if s.moe], ids=str)
def test_moe_router_loss_is_the_same_padded_and_padding_free(spec, tmp_path):
    """The router's load-balancing loss counts the rows' tokens alike whether padding is masked or absent."""
    model = spec.build().train()
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[])
    trainer = SartorTrainer(model=model, args=args, data_collator=PaddedCollator(0))
    losses = []
    for batch in (PaddedCollator(0)(rows()), PaddingFreeCollator()(rows())):
        n = torch.tensor(int(batch["labels"][..., 1:].ne(-100).sum()))
        losses.append(float(trainer.compute_loss(model, dict(batch), num_items_in_batch=n).detach()))
    assert losses[1] == pytest.approx(losses[0], rel=1e-5)
