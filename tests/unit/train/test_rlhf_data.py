"""Preference rows through the SFT template: the prompt DPO trains on is the prompt inference feeds the model."""
import pytest
import torch
from datasets import Dataset

from sartor.dataset.canonical import CANONICAL_FEATURES, make_message, make_row
from sartor.model.tiny import get_tiny_tokenizer
from sartor.template import get_template
from sartor.train.preference.data import (IGNORE, KTOCollator, PairCollator, PreferenceEncoder,
                                          encode_preference_dataset, fit)
from sartor.utils.errors import SartorError

HISTORY = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Hi!"},
           {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "What colour is the sky?"}]
ROW = {"messages": [*HISTORY, {"role": "assistant", "content": "The sky is blue."}],
       "rejected_response": "It is green, obviously."}


@pytest.fixture(scope="module")
def template():
    return get_template("chatml", get_tiny_tokenizer(), loss_scale="last_round")


def _encoder(template, method="dpo", max_length=None, max_prompt_length=None, strategy="delete"):
    return PreferenceEncoder(template, method, max_length, max_prompt_length, strategy)


def _response(ids, labels):
    return [i for i, x in zip(ids, labels) if x != IGNORE]


def test_prompt_is_what_inference_feeds_and_only_the_last_answer_is_labelled(template):
    tok = template.tokenizer
    out = _encoder(template).pair(ROW)
    prompt = template.encode_prompt(HISTORY)  # what `sartor infer` gives the model
    for name, answer in (("chosen", "The sky is blue."), ("rejected", "It is green, obviously.")):
        ids, labels = out[f"{name}_input_ids"], out[f"{name}_labels"]
        assert ids[:len(prompt)] == prompt
        assert all(x == IGNORE for x in labels[:len(prompt)])  # the earlier assistant turn ("Hello.") is not trained
        assert tok.decode(_response(ids, labels)) == answer + "<|im_end|>"
        full = template.encode({"messages": [*HISTORY, {"role": "assistant", "content": answer}]})
        assert ids == full["input_ids"]  # exactly the SFT encoding of the conversation


def test_fit_keeps_the_end_of_the_prompt_and_the_start_of_the_answer():
    prompt, response, labels = list(range(10)), [20, 21, 22, 23], [20, 21, 22, 23]
    assert fit(prompt, response, labels, 14, None, "delete") == (prompt, response, labels)
    assert fit(prompt, response, labels, 12, None, "delete") is None
    p, r, lab = fit(prompt, response, labels, 8, 5, "right")
    assert p == [5, 6, 7, 8, 9] and r == [20, 21, 22] and lab == [20, 21, 22]
    p, r, _ = fit(prompt, response, labels, 8, None, "left")  # default: half of max_length for the prompt
    assert p == [6, 7, 8, 9] and r == [20, 21, 22, 23]


def test_truncated_pairs_stay_within_max_length(template):
    long_row = {**ROW, "messages": [{"role": "user", "content": "word " * 200}, ROW["messages"][-1]]}
    assert _encoder(template, max_length=64).pair(long_row)["length"] == 0  # delete: dropped later
    out = _encoder(template, max_length=64, max_prompt_length=40, strategy="right").pair(long_row)
    assert len(out["chosen_input_ids"]) <= 64 and len(out["rejected_input_ids"]) <= 64
    assert _response(out["chosen_input_ids"], out["chosen_labels"])


def test_kto_rows_from_labels_and_from_pairs(template):
    enc = _encoder(template, "kto")
    labelled = enc.kto({"messages": ROW["messages"], "label": False})
    assert len(labelled) == 1 and labelled[0]["label"] is False
    from_pair = enc.kto(ROW)
    assert [r["label"] for r in from_pair] == [True, False]
    assert from_pair[0]["prompt_ids"] == from_pair[1]["prompt_ids"] == template.encode_prompt(HISTORY)


def test_methods_reject_data_of_the_wrong_kind(template):
    with pytest.raises(SartorError, match="preference pairs"):
        _encoder(template, "dpo").pair({"messages": ROW["messages"], "label": True})
    with pytest.raises(SartorError, match="label"):
        _encoder(template, "kto").kto({"messages": ROW["messages"]})
    with pytest.raises(SartorError, match="end with the assistant"):
        _encoder(template, "dpo").pair({"messages": HISTORY, "rejected_response": "x"})


def test_encode_dataset_drops_over_length_rows(template):
    rows = [make_row([make_message("user", q), make_message("assistant", "Yes.")], rejected_response="No.")
            for q in ("Short?", "long " * 300)]
    ds = Dataset.from_list(rows, features=CANONICAL_FEATURES)
    out = encode_preference_dataset(ds, _encoder(template, max_length=128))
    assert len(out) == 1 and set(out.column_names) >= {"chosen_input_ids", "rejected_labels", "length"}
    kto = encode_preference_dataset(ds, _encoder(template, "kto", max_length=128))
    assert kto["label"] == [True, False]


def test_pair_collator_puts_chosen_first_and_pads_right(template):
    enc = _encoder(template)
    rows = [enc.pair(ROW), enc.pair({"messages": [{"role": "user", "content": "Hi"},
                                                  {"role": "assistant", "content": "Hello there."}],
                                     "rejected_response": "Go away."})]
    batch = PairCollator(template.tokenizer.pad_token_id)(rows)
    assert batch["input_ids"].shape[0] == 4
    assert batch["input_ids"][0, :len(rows[0]["chosen_input_ids"])].tolist() == rows[0]["chosen_input_ids"]
    assert batch["input_ids"][3, :len(rows[1]["rejected_input_ids"])].tolist() == rows[1]["rejected_input_ids"]
    assert torch.equal(batch["attention_mask"].sum(1), torch.tensor([len(rows[0]["chosen_input_ids"]),
                                                                      len(rows[1]["chosen_input_ids"]),
                                                                      len(rows[0]["rejected_input_ids"]),
                                                                      len(rows[1]["rejected_input_ids"])]))
    assert (batch["labels"][batch["attention_mask"] == 0] == IGNORE).all()


def test_kto_collator_pairs_each_prompt_with_the_previous_rows_answer():
    rows = [{"prompt_ids": [1, 2], "completion_ids": [3], "completion_labels": [3], "label": True},
            {"prompt_ids": [4], "completion_ids": [5, 6], "completion_labels": [5, 6], "label": False}]
    b = KTOCollator(pad_token_id=0)(rows)
    assert b["input_ids"].tolist() == [[1, 2, 3], [4, 5, 6]]
    assert b["kl_input_ids"].tolist() == [[1, 2, 5, 6], [4, 3, 0, 0]]
    assert b["kl_labels"].tolist() == [[IGNORE, IGNORE, 5, 6], [IGNORE, 3, IGNORE, IGNORE]]
    assert b["label"].tolist() == [True, False]
