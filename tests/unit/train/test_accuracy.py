"""Accuracy in the logs: eval_acc from evaluation (per token, or per whole answer with --acc_strategy seq) equals
a hand count of the model's greedy predictions on the trained positions."""
import pytest
import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

from sartor.arguments import SftArguments
from sartor.dataset.collate import PaddedCollator
from sartor.train.trainer import SartorTrainer
from sartor.train.training_args import build_training_args

VOCAB = 61


def model_and_rows():
    """Rows whose last token is the model's own greedy prediction (even rows) or not (odd rows); some rows train
    only that token, others the last four, so whole-answer and per-token accuracy differ."""
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                         tie_word_embeddings=False, pad_token_id=0)
    model = Qwen2ForCausalLM(config).float().eval()
    g = torch.Generator().manual_seed(3)
    rows = []
    for i, n in enumerate([7, 12, 9, 15, 6, 11, 8, 13]):
        ids = torch.randint(1, VOCAB, (n,), generator=g).tolist()
        with torch.no_grad():
            pred = int(model(input_ids=torch.tensor([ids])).logits[0, -2].argmax())
        ids[-1] = pred if i % 2 == 0 else (pred % (VOCAB - 1)) + 1
        trained = 1 if i < 4 else 4
        rows.append({"input_ids": ids, "labels": [-100] * (n - trained) + ids[n - trained:]})
    return model, rows


def hand_counts(model, rows):
    ok = total = seq_ok = 0
    for r in rows:
        with torch.no_grad():
            pred = model(input_ids=torch.tensor([r["input_ids"]])).logits[0, :-1].argmax(-1)
        labels = torch.tensor(r["labels"][1:])
        keep = labels != -100
        right = pred[keep] == labels[keep]
        ok, total, seq_ok = ok + int(right.sum()), total + int(keep.sum()), seq_ok + int(bool(right.all()))
    return ok / total, seq_ok / len(rows)


@pytest.mark.parametrize("strategy", ["token", "seq"])
def test_eval_acc_matches_a_hand_count(tmp_path, strategy):
    model, rows = model_and_rows()
    token_acc, seq_acc = hand_counts(model, rows)
    assert 0 < seq_acc < 1 and token_acc != seq_acc  # the data tells the two apart
    args = SftArguments(model="in-process", per_device_eval_batch_size=3, report_to=["none"], acc_strategy=strategy)
    training_args = build_training_args(args, str(tmp_path), has_eval=True, torch_dtype="float32")
    trainer = SartorTrainer(model=model, args=training_args, eval_dataset=rows, data_collator=PaddedCollator(0),
                            acc_strategy=strategy)
    metrics = trainer.evaluate()
    assert metrics["eval_acc"] == pytest.approx(token_acc if strategy == "token" else seq_acc, abs=1e-6)
    logged = [r for r in trainer.state.log_history if "eval_loss" in r]
    assert logged and logged[-1]["eval_acc"] == metrics["eval_acc"]  # in the log row too (logging.jsonl, plots)
