"""Build the tiny demo model's byte-level BPE tokenizer (src/sartor/model/tiny_assets/tokenizer.json).

Deterministic: the same corpus and settings give the same file. Run from the repo root:
    python scripts/make_tiny_tokenizer.py [corpus files ...]
The shipped file was trained on the English demo data in shared/datasets (alpaca_en_demo,
identity, kto_en_demo); other scripts, Chinese included, fall back to byte tokens."""
import json
import sys
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
OUT = Path(__file__).resolve().parents[1] / "src/sartor/model/tiny_assets/tokenizer.json"


def texts(paths: list[str]):
    for p in paths:
        raw = Path(p).read_text(encoding="utf-8")
        try:
            rows = json.loads(raw)
        except json.JSONDecodeError:
            rows = [json.loads(line) for line in raw.splitlines() if line.strip()]
        for row in rows:
            for v in row.values():
                if isinstance(v, str):
                    yield v


def main() -> None:
    paths = sys.argv[1:]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=4096, min_frequency=2, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts(paths), trainer=trainer)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(OUT))
    print(f"wrote {OUT} with {tok.get_vocab_size()} tokens")


if __name__ == "__main__":
    main()
