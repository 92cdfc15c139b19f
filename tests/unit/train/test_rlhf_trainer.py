"""PreferenceTrainer on a small in-process model: the loss against a hand computation, the frozen reference,
gradient accumulation, and the logged rewards."""
import math
from types import SimpleNamespace

import pytest
import torch
from datasets import Dataset
from transformers import Qwen2Config, Qwen2ForCausalLM, TrainingArguments

from sartor.model.tiny import get_tiny_tokenizer
from sartor.template import get_template
from sartor.train.preference.data import KTOCollator, PairCollator, PreferenceEncoder
from sartor.train.preference.model import build_reference
from sartor.train.preference.trainer import PreferenceConfig, PreferenceTrainer

ROWS = [{"messages": [{"role": "user", "content": f"What colour is thing {i}?"},
                      {"role": "assistant", "content": f"Thing {i} is blue."}],
         "rejected_response": f"Thing {i} is {'green' if i % 2 else 'a very loud purple'}."} for i in range(4)]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """2 shared cores: one intra-op thread avoids OpenMP threads spinning against each other."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def tok():
    return get_tiny_tokenizer()


def small_model(tok, seed=0):
    torch.manual_seed(seed)
    config = Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256,
                         tie_word_embeddings=True, pad_token_id=tok.pad_token_id)
    return Qwen2ForCausalLM(config)


def encoded(tok, method="dpo"):
    enc = PreferenceEncoder(get_template("chatml", tok, loss_scale="last_round"), method, None, None)
    if method == "kto":
        return [r for row in ROWS for r in enc.kto(row)]
    return [enc.pair(r) for r in ROWS]


def trainer_for(model, tok, tmp_path, config, ref=None, batch=4, accum=1, optim="sgd"):
    args = TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=batch,
                             gradient_accumulation_steps=accum, learning_rate=0.5, max_steps=1, optim=optim,
                             lr_scheduler_type="constant", report_to=[], save_strategy="no", logging_steps=1,
                             remove_unused_columns=False, train_sampling_strategy="sequential", disable_tqdm=True,
                             use_cpu=True, weight_decay=0.0, max_grad_norm=0.0)
    rows = encoded(tok, config.rlhf_type)
    collator = KTOCollator(tok.pad_token_id) if config.rlhf_type == "kto" else PairCollator(tok.pad_token_id)
    return PreferenceTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), data_collator=collator,
                             processing_class=tok, config=config, ref_model=ref)


def hand_logp(model, ids, labels):
    """log π(answer | prompt) from one unpadded sequence, token by token."""
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0].double(), -1)
    return sum(logp[t - 1, ids[t]].item() for t in range(1, len(ids)) if labels[t] != -100)


def test_full_training_dpo_loss_equals_hand_computation_with_a_frozen_copy(tok, tmp_path):
    policy = small_model(tok)
    ref = build_reference("dpo", policy, SimpleNamespace(ref_model=None, adapters=[]), {})
    assert ref is not policy and not any(p.requires_grad for p in ref.parameters())
    with torch.no_grad():  # move the policy away from the reference
        for p in policy.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    beta = 0.3
    trainer = trainer_for(policy, tok, tmp_path, PreferenceConfig("dpo", "sigmoid", beta), ref=ref)
    rows = encoded(tok)
    batch = PairCollator(tok.pad_token_id)(rows)
    policy.eval()
    got = trainer.compute_loss(policy, batch).item()
    want = 0.0
    for r in rows:
        pc, pr = hand_logp(policy, r["chosen_input_ids"], r["chosen_labels"]), hand_logp(policy, r["rejected_input_ids"], r["rejected_labels"])
        rc, rr = hand_logp(ref, r["chosen_input_ids"], r["chosen_labels"]), hand_logp(ref, r["rejected_input_ids"], r["rejected_labels"])
        want += -math.log(1 / (1 + math.exp(-beta * ((pc - rc) - (pr - rr))))) / len(rows)
    assert got == pytest.approx(want, abs=1e-5)


def test_reference_stays_frozen_while_the_policy_trains(tok, tmp_path):
    policy = small_model(tok)
    ref = build_reference("dpo", policy, SimpleNamespace(ref_model=None, adapters=[]), {})
    before = {n: p.detach().clone() for n, p in ref.named_parameters()}
    start = {n: p.detach().clone() for n, p in policy.named_parameters()}
    trainer = trainer_for(policy, tok, tmp_path, PreferenceConfig("dpo", "sigmoid", 0.1), ref=ref)
    trainer.train()
    assert all(torch.equal(p, before[n]) for n, p in ref.named_parameters())
    assert any(not torch.equal(p, start[n]) for n, p in policy.named_parameters())
    assert build_reference("orpo", policy, SimpleNamespace(ref_model=None, adapters=[]), {}) is None


@pytest.mark.parametrize("method,loss_type,beta", [("dpo", "sigmoid", 0.1), ("simpo", "simpo", 2.0),
                                                   ("orpo", "orpo", 0.1)])
def test_batch_4_equals_batch_2_with_2_accumulation_steps(tok, tmp_path, method, loss_type, beta):
    """(kto is left out by design: its KL reference point is estimated within each micro-batch.)"""
    weights = []
    for batch, accum in ((4, 1), (2, 2)):
        policy = small_model(tok)
        ref = build_reference(method, policy, SimpleNamespace(ref_model=None, adapters=[]), {})
        trainer = trainer_for(policy, tok, tmp_path / f"{batch}", PreferenceConfig(method, loss_type, beta), ref=ref,
                              batch=batch, accum=accum)
        trainer.train()
        weights.append({n: p.detach().clone() for n, p in policy.named_parameters()})
    for name, w in weights[0].items():
        assert torch.allclose(w, weights[1][name], atol=1e-6), name


def test_logged_rewards(tok, tmp_path):
    policy = small_model(tok)
    ref = build_reference("dpo", policy, SimpleNamespace(ref_model=None, adapters=[]), {})
    trainer = trainer_for(policy, tok, tmp_path, PreferenceConfig("dpo", "sigmoid", 0.1), ref=ref)
    trainer.train()
    first = trainer.state.log_history[0]
    for key in ("rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen"):
        assert key in first, key
    assert first["loss"] == pytest.approx(math.log(2), abs=1e-6)  # policy == reference at step 0
    assert first["rewards/chosen"] == pytest.approx(0.0, abs=1e-6)
