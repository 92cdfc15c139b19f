"""Conformance matrix, tuning: LoRA with the registry's default targets attaches where the family names them and
trains; full training trains; a merged LoRA model gives the adapter model's logits."""
import pytest
import torch
from arch_factory import PAD, SPECS, padded_batch, rows
from datasets import Dataset
from transformers import TrainingArguments
from transformers.pytorch_utils import Conv1D

from sartor.arguments import SftArguments
from sartor.dataset.collate import PaddedCollator
from sartor.train.trainer import SartorTrainer
from sartor.tuners.prepare import prepare_model

STEPS = 4


def _lora_args(spec, **kw) -> SftArguments:
    return SftArguments(model="tiny", train_type="lora", target_modules=spec.registry_targets(), lora_rank=4,
                        lora_alpha=8, lora_dropout=0.0, gradient_checkpointing=False, **kw)


def _adapted(model) -> set[str]:
    from peft.tuners.lora import LoraLayer

    return {name for name, module in model.named_modules() if isinstance(module, LoraLayer)}


def _own_loss(model) -> float:
    with torch.no_grad():
        return float(model(**padded_batch()).loss)


def _train(model, tmp_path, lr: float) -> None:
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[], max_steps=STEPS,
                             per_device_train_batch_size=3, learning_rate=lr, lr_scheduler_type="constant",
                             warmup_steps=0, save_strategy="no", logging_strategy="no", disable_tqdm=True,
                             dataloader_num_workers=0, seed=0)
    trainer = SartorTrainer(model=model, args=args, data_collator=PaddedCollator(PAD),
                            train_dataset=Dataset.from_list(rows()))  # the same batch, step after step
    trainer.train()


_PEFT_MOE_REMAP = pytest.mark.xfail(strict=True, reason=(
    "peft 0.21 on transformers 5 (convert_peft_config_for_transformers, applied by get_peft_model to every new "
    "config) maps DeepSeek-V2/V3 to the qwen2_moe v4->v5 conversion: gate_proj/up_proj/down_proj targets are moved to "
    "the fused routed experts' parameters, so the dense first layer's and the shared experts' nn.Linear "
    "gate/up/down_proj get no adapter, and the experts' ParamWrapper refuses Sartor's default --lora_dropout 0.05"))
_LORA_ATTACH = [pytest.param(s, marks=_PEFT_MOE_REMAP) if s.name.startswith("deepseek_v") else s for s in SPECS]


def _decoder_linears(model) -> set[str]:
    """The decoder layers' linear layers (GPT-2's are Conv1D)."""
    return {name for name, module in model.named_modules()
            if isinstance(module, (torch.nn.Linear, Conv1D)) and (".layers." in name or ".h." in name)}


@pytest.mark.parametrize("spec", _LORA_ATTACH, ids=str)
def test_lora_attaches_to_the_modules_the_registry_names(spec):
    """Every linear layer of the decoder that the registry's targets name (all of them for all-linear, the default
    without an entry) carries an adapter, and nothing else does; with Sartor's default --lora_dropout."""
    targets = spec.registry_targets()
    base = spec.build()
    linears = _decoder_linears(base)
    if targets != ["all-linear"]:
        linears = {n for n in linears if n.rsplit(".", 1)[-1] in targets}
    model = prepare_model(base, SftArguments(model="tiny", train_type="lora", target_modules=targets,
                                             gradient_checkpointing=False))
    adapted = {n.removeprefix("base_model.model.") for n in _adapted(model)}
    assert {n.rsplit(".", 1)[-1] for n in linears} >= (set(targets) - {"all-linear"})  # the family names them all
    assert adapted == linears


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_lora_training_lowers_the_loss(spec, tmp_path):
    model = prepare_model(spec.build(), _lora_args(spec))
    assert _adapted(model)
    before = _own_loss(model)
    _train(model, tmp_path, lr=1e-2)
    assert _own_loss(model) < before


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_full_training_lowers_the_loss(spec, tmp_path):
    model = prepare_model(spec.build(), SftArguments(model="tiny", train_type="full", gradient_checkpointing=False))
    assert all(p.requires_grad for p in model.parameters())
    before = _own_loss(model)
    _train(model, tmp_path, lr=1e-3)
    assert _own_loss(model) < before


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_merged_lora_gives_the_adapter_models_logits(spec):
    model = prepare_model(spec.build(), _lora_args(spec, init_weights="false")).eval()  # non-zero adapters
    batch = {k: v for k, v in padded_batch().items() if k != "labels"}
    with torch.no_grad():
        base = model.get_base_model()
        with model.disable_adapter():
            plain = model(**batch).logits
        adapted = model(**batch).logits
        merged_model = model.merge_and_unload()
        merged = merged_model(**batch).logits
    assert not torch.allclose(adapted, plain, atol=1e-4)  # the adapters do change the output
    assert merged_model is base
    torch.testing.assert_close(merged, adapted, rtol=1e-4, atol=1e-5)
