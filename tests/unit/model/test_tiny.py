"""The tiny demo model: built offline, deterministic, loadable by plain transformers."""
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from sartor.model.tiny import build_tiny_model, ensure_tiny_model, get_tiny_tokenizer


def test_two_creations_give_identical_weights(tmp_path):
    a = ensure_tiny_model(tmp_path / "a")
    b = ensure_tiny_model(tmp_path / "b")
    wa, wb = load_file(f"{a}/model.safetensors"), load_file(f"{b}/model.safetensors")
    assert wa.keys() == wb.keys() and len(wa) > 10
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k


def test_creation_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_tiny_model()
    assert torch.equal(torch.rand(3), expected)


def test_tiny_is_a_small_qwen2_that_plain_transformers_loads(tiny_dir):
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    tok = AutoTokenizer.from_pretrained(tiny_dir)
    n = sum(p.numel() for p in model.parameters())
    assert model.config.model_type == "qwen2" and 1e6 < n < 2e7
    ids = tok.apply_chat_template([{"role": "user", "content": "你好 who are you?"}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    out = model.generate(**ids, max_new_tokens=3, do_sample=False)
    assert out.shape[1] == ids["input_ids"].shape[1] + 3 or tok.eos_token_id in out[0].tolist()


def test_tokenizer_round_trips_unicode_and_keeps_specials_atomic():
    tok = get_tiny_tokenizer()
    text = "Hello, 世界! 🙂 <|im_start|>user\nhi<|im_end|>"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == text
    assert tok.convert_tokens_to_ids("<|im_end|>") in ids and len(tok) < 5000


def test_model_type_without_model_is_the_old_way_to_pick_a_model(caplog):
    import logging

    from sartor.model.loader import resolve_model_info

    logging.getLogger("sartor").addHandler(caplog.handler)
    try:
        info = resolve_model_info(None, model_type="tiny")
    finally:
        logging.getLogger("sartor").removeHandler(caplog.handler)
    assert info.model_type == "tiny" and info.template == "chatml"
    assert any("--model_type tiny without --model" in r.getMessage() for r in caplog.records)
