"""The built-in tiny demo model (`--model tiny`).

A Qwen2-architecture causal LM of about 4M parameters with a small byte-level BPE tokenizer
and a ChatML chat template. It is created deterministically on first use into a cache
directory, with no download, so every command runs offline on a laptop and in tests."""
import json
import os
from pathlib import Path

TINY_NAME = "tiny"
TINY_VERSION = "1"
_ASSETS = Path(__file__).resolve().parent / "tiny_assets"
CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
TINY_CONFIG = dict(
    hidden_size=256, intermediate_size=704, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
    max_position_embeddings=2048, rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
    hidden_act="silu", initializer_range=0.02, use_cache=True,
)


def cache_dir() -> Path:
    """Where the tiny model lives: $SARTOR_CACHE/tiny-v<N> (default ~/.cache/sartor)."""
    root = Path(os.environ.get("SARTOR_CACHE", Path.home() / ".cache" / "sartor"))
    return root / f"tiny-v{TINY_VERSION}"


def get_tiny_tokenizer():
    """The tiny model's tokenizer, built from the JSON shipped in the package."""
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(
        tokenizer_file=str(_ASSETS / "tokenizer.json"),
        eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=None, bos_token=None,
        additional_special_tokens=["<|im_start|>", "<|im_end|>", "<|endoftext|>"],
        model_max_length=TINY_CONFIG["max_position_embeddings"], padding_side="right",
        clean_up_tokenization_spaces=False,
    )
    tok.chat_template = CHAT_TEMPLATE
    return tok


def build_tiny_model(seed: int = 0):
    """Create the tiny model in memory with weights fixed by `seed`."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tok = get_tiny_tokenizer()
    config = Qwen2Config(
        vocab_size=len(tok), bos_token_id=None, eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.pad_token_id, **TINY_CONFIG,
    )
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(config)
    finally:
        torch.random.set_rng_state(generator_state)
    model.generation_config.eos_token_id = [config.eos_token_id, tok.convert_tokens_to_ids("<|endoftext|>")]
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.bos_token_id = None
    return model, tok


def ensure_tiny_model(path: str | Path | None = None) -> str:
    """Write the tiny model to `path` (default: the cache) once; return the directory."""
    target = Path(path) if path else cache_dir()
    marker = target / "sartor_tiny.json"
    if marker.is_file() and (target / "model.safetensors").is_file():
        return str(target)
    model, tok = build_tiny_model()
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    (tmp / "sartor_tiny.json").write_text(json.dumps({"name": TINY_NAME, "version": TINY_VERSION}))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(tmp, target)
    except OSError:  # another process won the race; keep theirs
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    return str(target)
