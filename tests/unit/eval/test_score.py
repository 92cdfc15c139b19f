"""eval's scoring of answers against references."""
from sartor.eval.eval_main import score


def test_exact_match_and_rows():
    m = score([{"response": " yes ", "label": "yes"}, {"response": "no", "label": "yes"}, {"response": "x", "label": None}])
    assert m["rows"] == 2 and m["exact_match"] == 0.5 and 0 < m["rouge-l"] < 1
