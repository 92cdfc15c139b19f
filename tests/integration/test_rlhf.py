"""`sartor rlhf` end to end on the tiny model.

Every method learns a synthetic preference (a fact over its contradiction) well enough that the policy
prefers the chosen answer on held-out pairs; DPO's loss equals a hand computation; the shared demo
files train from the command line; the reward model ranks chosen above rejected and `sartor infer`
prints its scores."""
import json
import math
import random

import pytest
import torch

from sartor.arguments import InferArguments, RLHFArguments
from sartor.cli.main import main as sartor_main
from sartor.infer.infer_main import infer_main
from sartor.model.tiny import get_tiny_tokenizer
from sartor.template import get_template
from sartor.train.preference.data import PairCollator, PreferenceEncoder
from sartor.train.preference.losses import sequence_logps
from sartor.train.rlhf import rlhf_main

pytestmark = pytest.mark.slow

FACTS = [("sky", "blue"), ("grass", "green"), ("snow", "white"), ("sun", "yellow"), ("coal", "black"),
         ("blood", "red"), ("milk", "white"), ("ocean", "blue")]
# wrong colours with as many tokens as the right one ("blue" is two tokens for the tiny tokenizer, the others one), so
# before training the margins are noise around 0 rather than decided by answer length
WRONG = {1: ["orange", "cream", "rose"], 2: ["purple", "pink", "grey", "brown"]}
ASK = ["What colour is the {x}?", "Tell me the colour of the {x}.", "Which colour does the {x} have?",
       "Quick question: what colour is the {x}?", "Do you know what colour the {x} is?", "Name the colour of the {x}.",
       "What is the colour of the {x}?", "I wonder what colour the {x} is.", "Colour of the {x}?",
       "Please say what colour the {x} is.", "Can you tell me the {x}'s colour?", "What colour would you say the {x} is?"]
TRAIN = dict(model="tiny", split_dataset_ratio=0.0, per_device_train_batch_size=8, gradient_accumulation_steps=1,
             max_steps=9, learning_rate=3e-3, lr_scheduler_type="constant", logging_steps=3, report_to=["none"],
             gradient_checkpointing=False, save_steps=1000)


def synthetic_pairs() -> tuple[list[dict], list[dict]]:
    """96 pairs, chosen "The <x> is <its colour>." over rejected "The <x> is <a wrong colour>."; 72 train, 24 held out."""
    rng, tok = random.Random(0), get_tiny_tokenizer()
    rows = [{"messages": [{"role": "user", "content": q.format(x=x)}, {"role": "assistant", "content": f"The {x} is {c}."}],
             "rejected_response": f"The {x} is {rng.choice(WRONG[len(tok.tokenize(' ' + c))])}."}
            for q in ASK for x, c in FACTS]
    rng.shuffle(rows)
    return rows[:72], rows[72:]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """2 shared cores: one intra-op thread avoids OpenMP threads spinning against each other."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("rlhf_data")
    train, held = synthetic_pairs()
    (root / "train.json").write_text(json.dumps(train))
    (root / "held.json").write_text(json.dumps(held))
    return root, held


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data):
    """train(method) -> rlhf_main's result, each method trained once per module."""
    root, _ = data
    out = tmp_path_factory.mktemp("rlhf_runs")
    done: dict = {}

    def train(method: str) -> dict:
        if method not in done:
            with pytest.MonkeyPatch.context() as mp:  # curves are checked on the demo runs; here they only cost time
                mp.setattr("sartor.train.callbacks.plot_run", lambda run_dir: [])
                done[method] = rlhf_main(RLHFArguments(rlhf_type=method, dataset=[str(root / "train.json")],
                                                       output_dir=str(out / method), **TRAIN))
        return done[method]

    return train


def pair_batch(rows: list[dict]) -> dict:
    tok = get_tiny_tokenizer()
    enc = PreferenceEncoder(get_template("chatml", tok, loss_scale="last_round"), "dpo", None, None)
    return PairCollator(tok.pad_token_id)([enc.pair(r) for r in rows])


@torch.no_grad()
def margins(model, rows: list[dict]) -> torch.Tensor:
    """log π(chosen | prompt) - log π(rejected | prompt) per pair."""
    b = pair_batch(rows)
    logps, _ = sequence_logps(model(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits, b["labels"])
    return logps[:len(rows)] - logps[len(rows):]


def load_policy(tiny_dir: str, ckpt: str):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    return PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_dir), ckpt).eval()


@pytest.fixture(scope="module")
def before(tiny_dir, data):
    from transformers import AutoModelForCausalLM

    return margins(AutoModelForCausalLM.from_pretrained(tiny_dir).eval(), data[1])


def log_rows(run_dir: str) -> list[dict]:
    with open(f"{run_dir}/logging.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.mark.parametrize("method", ["dpo", "orpo", "simpo", "cpo", "kto"])
def test_policy_prefers_chosen_on_held_out_pairs(method, trained, data, before, tiny_dir):
    result = trained(method)
    after = margins(load_policy(tiny_dir, result["last_model_checkpoint"]), data[1])
    frac_before, frac_after = (before > 0).float().mean().item(), (after > 0).float().mean().item()
    print(f"\n{method}: chosen over rejected on {frac_before:.0%} -> {frac_after:.0%} of held-out pairs; "
          f"mean margin {before.mean():.2f} -> {after.mean():.2f} nats")
    assert frac_after >= 0.9 and frac_after >= frac_before + 0.3
    assert after.mean() > before.mean() + 1.0
    rows = log_rows(result["run_dir"])
    for key in ("rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "loss", "elapsed_s"):
        assert key in rows[-2], key
    saved = json.loads(open(f"{result['last_model_checkpoint']}/args.json", encoding="utf-8").read())
    assert saved["rlhf_type"] == method and saved["beta"] == (2.0 if method == "simpo" else 0.1)


def test_dpo_loss_equals_hand_computation(trained, data, tiny_dir):
    """-log σ(β((log πθ(c) - log πref(c)) - (log πθ(r) - log πref(r)))) with πref = the base (adapter disabled),
    each log-prob summed token by token over one unpadded sequence."""
    from transformers import TrainingArguments

    from sartor.train.preference.trainer import PreferenceConfig, PreferenceTrainer

    result = trained("dpo")
    assert log_rows(result["run_dir"])[0]["loss"] == pytest.approx(math.log(2), abs=1e-5)  # πθ = πref at step 0
    policy = load_policy(tiny_dir, result["last_model_checkpoint"])
    rows, beta = data[1][:6], 0.1
    trainer = PreferenceTrainer(model=policy, args=TrainingArguments(output_dir=str(data[0] / "t"), report_to=[],
                                                                      use_cpu=True),
                                config=PreferenceConfig("dpo", "sigmoid", beta), processing_class=get_tiny_tokenizer())
    got = trainer.compute_loss(policy, pair_batch(rows)).item()
    enc = PreferenceEncoder(get_template("chatml", get_tiny_tokenizer(), loss_scale="last_round"), "dpo", None, None)

    def logp(ids, labels):
        with torch.no_grad():
            lp = torch.log_softmax(policy(input_ids=torch.tensor([ids])).logits[0].double(), -1)
        return sum(lp[t - 1, ids[t]].item() for t in range(1, len(ids)) if labels[t] != -100)

    want = 0.0
    for row in rows:
        e = enc.pair(row)
        c, r = (e["chosen_input_ids"], e["chosen_labels"]), (e["rejected_input_ids"], e["rejected_labels"])
        pc, pr = logp(*c), logp(*r)
        with policy.disable_adapter():
            rc, rr = logp(*c), logp(*r)
        want += -math.log(1 / (1 + math.exp(-beta * ((pc - rc) - (pr - rr))))) / len(rows)
    assert got == pytest.approx(want, abs=1e-5)


def test_dpo_checkpoint_infers_and_merges(trained, capsys):
    ckpt = trained("dpo")["last_model_checkpoint"]
    sartor_main(["infer", "--ckpt_dir", ckpt, "--query", "What colour is the sky?", "--temperature", "0",
                 "--max_new_tokens", "8"])
    assert capsys.readouterr().out.strip()
    sartor_main(["export", "--ckpt_dir", ckpt, "--merge_lora", "true"])
    assert "merged" in capsys.readouterr().out


def test_reward_model_scores_chosen_above_rejected(trained, data, capsys):
    root, held = data
    result = trained("rm")
    out = infer_main(InferArguments(ckpt_dir=result["last_model_checkpoint"], val_dataset=[str(root / "held.json")],
                                    result_path=str(root / "scores.jsonl")))
    scores = [(r["score"], r["rejected_score"]) for r in out["results"]]
    right = sum(c > r for c, r in scores) / len(scores)
    with capsys.disabled():
        print(f"\nrm: chosen scored above rejected on {right:.0%} of {len(scores)} held-out pairs")
    assert len(scores) == len(held) and right >= 0.9
    capsys.readouterr()
    sartor_main(["infer", "--ckpt_dir", result["last_model_checkpoint"], "--query", json.dumps(held[0]["messages"])])
    assert float(capsys.readouterr().out.strip()) == pytest.approx(scores[0][0], abs=1e-4)
    # merged: a standalone sequence-classification model with the same scores
    sartor_main(["export", "--ckpt_dir", result["last_model_checkpoint"], "--merge_lora", "true",
                 "--output_dir", str(root / "rm-merged")])
    capsys.readouterr()
    sartor_main(["infer", "--ckpt_dir", str(root / "rm-merged"), "--query", json.dumps(held[0]["messages"])])
    assert float(capsys.readouterr().out.strip()) == pytest.approx(scores[0][0], abs=1e-4)


@pytest.mark.parametrize("method,file,extra", [
    ("dpo", "dpo_en_demo.json", []),
    ("kto", "kto_en_demo.json", ["--train_type", "full", "--gradient_checkpointing", "true"]),
])
def test_demo_files_train_from_the_command_line(method, file, extra, shared_datasets, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sartor_main(["rlhf", "--rlhf_type", method, "--model", "tiny", "--dataset", str(shared_datasets / file),
                 "--max_steps", "2", "--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1",
                 "--max_length", "128", "--truncation_strategy", "right", "--logging_steps", "1",
                 "--report_to", "none", "--output_dir", "output/demo", *extra])
    run = next((tmp_path / "output/demo").glob("v0-*"))
    rows = log_rows(str(run))
    assert [r["step"] for r in rows if "loss" in r] == [1, 2]
    assert all(math.isfinite(r["loss"]) and "rewards/accuracies" in r for r in rows if "loss" in r)
    assert (run / "checkpoint-2" / "args.json").is_file() and (run / "images" / "loss.png").is_file()


def test_ref_model_is_the_model_given(shared_datasets, tiny_dir, tmp_path, monkeypatch):
    """DPO's first loss, before any update, is ln 2 when the reference is the policy itself; with --ref_model set
    to a different model the policy/reference log-ratios differ and so does that loss."""
    import shutil

    from transformers import AutoModelForCausalLM

    other = tmp_path / "other-ref"
    shutil.copytree(tiny_dir, other)
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.save_pretrained(other)
    monkeypatch.chdir(tmp_path)
    first = {}
    for name, extra in [("self", []), ("other", ["--ref_model", str(other)])]:
        sartor_main(["rlhf", "--rlhf_type", "dpo", "--model", "tiny", "--train_type", "full",
                     "--dataset", str(shared_datasets / "dpo_en_demo.json") + "#8", "--max_steps", "1",
                     "--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1", "--max_length", "128",
                     "--truncation_strategy", "right", "--logging_steps", "1", "--report_to", "none",
                     "--output_dir", f"output/{name}", *extra])
        run = next((tmp_path / f"output/{name}").glob("v0-*"))
        first[name] = next(r for r in log_rows(str(run)) if "loss" in r)
    assert first["self"]["loss"] == pytest.approx(math.log(2), abs=1e-4)
    assert abs(first["other"]["loss"] - math.log(2)) > 1e-3
    assert first["other"]["rewards/chosen"] != pytest.approx(0.0, abs=1e-6)
