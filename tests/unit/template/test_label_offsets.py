"""label_tokens marks a token when its first character lies in a span: the bisect over tokens in text order
and the scan for any other order agree with the per-row encoder's scan on random offsets and spans."""
import random

from _encode_reference import _scan_labels
from sartor.template.labels import IGNORE_INDEX, label_tokens, tokenize_batch_with_offsets


def _random_case(rng: random.Random, ordered: bool) -> tuple[list[int], list[tuple[int, int]], list[tuple[int, int]]]:
    n = rng.randrange(0, 40)
    starts = sorted(rng.randrange(0, 100) for _ in range(n))  # repeats: several tokens of one character
    if not ordered and n > 1:
        i = rng.randrange(n - 1)
        starts[i], starts[i + 1] = starts[i + 1] + 1, starts[i]
    offsets = [(s, s + rng.randrange(0, 4)) for s in starts]
    edges = sorted(rng.randrange(0, 110) for _ in range(2 * rng.randrange(0, 4)))
    spans = list(zip(edges[::2], edges[1::2]))
    return list(range(1, n + 1)), offsets, spans


def test_labels_equal_the_scan_on_random_offsets():
    rng = random.Random(0)
    for case in range(3000):
        ids, offsets, spans = _random_case(rng, ordered=case % 3 != 0)
        assert label_tokens(ids, offsets, spans) == _scan_labels(ids, offsets, spans), (offsets, spans)


def test_no_spans_label_nothing_and_a_span_over_everything_labels_all():
    ids, offsets = [5, 6, 7], [(0, 1), (1, 3), (3, 4)]
    assert label_tokens(ids, offsets, []) == [IGNORE_INDEX] * 3
    assert label_tokens(ids, offsets, [(0, 4)]) == ids


def test_one_call_tokenises_a_batch_as_each_text_alone():
    from sartor.model.tiny import get_tiny_tokenizer

    tok = get_tiny_tokenizer()
    texts = ["<|im_start|>user\nhi<|im_end|>\n", "", "café 😀 — ça va?", "a" * 300]
    ids, offsets = tokenize_batch_with_offsets(tok, texts)
    for text, one_ids, one_offsets in zip(texts, ids, offsets):
        alone = tok(text, add_special_tokens=False, return_offsets_mapping=True)
        assert one_ids == alone["input_ids"] and [tuple(o) for o in one_offsets] == alone["offset_mapping"]
    assert tokenize_batch_with_offsets(tok, []) == ([], [])
