"""Attention the model accepts: Gemma 2 (soft-capped attention logits) loads with eager unless told otherwise, a
refused --attn_impl names what the model takes, and padding-free batches give the padded loss with the chosen
implementation (or fall back to padded batches with a note where it cannot follow restarting position ids)."""
import shutil

import pytest
import torch
from transformers import Gemma2Config, Gemma2ForCausalLM, TrainingArguments

from sartor.dataset.collate import PaddedCollator, PaddingFreeCollator
from sartor.train.padding import padding_free_for
from sartor.train.trainer import SartorTrainer
from sartor.utils.errors import SartorError

SMALL = dict(vocab_size=151936, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, head_dim=8, pad_token_id=0, sliding_window=6)


@pytest.fixture
def gemma2_dir(tmp_path, tiny_dir):
    torch.manual_seed(0)
    Gemma2ForCausalLM(Gemma2Config(**SMALL)).save_pretrained(tmp_path / "g2")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(f"{tiny_dir}/{name}", tmp_path / "g2" / name)
    return str(tmp_path / "g2")


def rows():
    g = torch.Generator().manual_seed(3)
    out = []
    for n, prompt in ((12, 4), (20, 7), (9, 2)):  # longer than the sliding window
        ids = torch.randint(1, 1000, (n,), generator=g).tolist()
        out.append({"input_ids": ids, "labels": [-100] * prompt + ids[prompt:]})
    return out


def loss_of(model, batch, tmp_path) -> float:
    trainer = SartorTrainer(model=model, args=TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[]),
                            data_collator=PaddedCollator(0))
    model.train()
    with torch.no_grad():
        return float(trainer.compute_loss(model, dict(batch), num_items_in_batch=batch["labels"][..., 1:].ne(-100).sum()))


def test_gemma2_eager_padding_free_equals_padded(gemma2_dir, tmp_path):
    from sartor.model.loader import get_model_tokenizer

    from sartor.compat.transformers import attn_implementation

    model, _ = get_model_tokenizer(model=gemma2_dir)
    assert attn_implementation(model) == "eager"
    assert padding_free_for(model, True)
    padded = loss_of(model, PaddedCollator(0)(rows()), tmp_path)
    flat = loss_of(model, PaddingFreeCollator()(rows()), tmp_path)
    # the flattened rows lose each row's first label (predicted from the previous row); padded rows never train it
    assert flat == pytest.approx(padded, rel=1e-5)


def test_a_refused_attn_impl_names_what_the_model_takes(gemma2_dir):
    from sartor.model.loader import get_model_tokenizer

    with pytest.raises(SartorError, match="Gemma2ForCausalLM takes eager, flash_attn, flex_attention") as e:
        get_model_tokenizer(model=gemma2_dir, attn_impl="sdpa")
    assert "\n" not in str(e.value)


def test_an_implementation_that_ignores_position_ids_falls_back_with_a_note(gemma2_dir, monkeypatch, capsys):
    import sartor.compat.transformers as compat

    model = Gemma2ForCausalLM(Gemma2Config(**{**SMALL, "vocab_size": 101}))
    monkeypatch.setattr(compat, "attn_implementation", lambda m: "paged|eager")
    assert not padding_free_for(model, True)
    notes = [line for line in capsys.readouterr().err.splitlines() if "paged|eager" in line]
    assert len(notes) == 1 and "padded batches" in notes[0]
