"""Text metrics for generated answers: ROUGE-L (F) and BLEU-4, on words for Latin script and
characters for CJK, so Chinese and English answers are scored alike. Used by eval and by training's
--predict_with_generate."""
import math
import re
from collections import Counter

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]|[^\W_]+|[^\w\s]", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Lower-cased words, single CJK characters and punctuation marks."""
    return _TOKEN.findall(text.lower())


def _lcs(a: list[str], b: list[str]) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(pred: str, ref: str) -> float:
    """ROUGE-L F1 between one prediction and one reference."""
    p, r = tokenize(pred), tokenize(ref)
    lcs = _lcs(p, r)
    if lcs == 0:
        return 0.0
    prec, rec = lcs / len(p), lcs / len(r)
    return 2 * prec * rec / (prec + rec)


def bleu_4(pred: str, ref: str) -> float:
    """Sentence BLEU-4 with add-one smoothing of the n-gram precisions (n > 1) and the brevity penalty."""
    p, r = tokenize(pred), tokenize(ref)
    if not p or not r:
        return 0.0
    log_sum = 0.0
    for n in range(1, 5):
        pc = Counter(tuple(p[i:i + n]) for i in range(len(p) - n + 1))
        rc = Counter(tuple(r[i:i + n]) for i in range(len(r) - n + 1))
        match = sum(min(c, rc[g]) for g, c in pc.items())
        total = max(len(p) - n + 1, 0)
        if n == 1:
            if match == 0:
                return 0.0
            log_sum += math.log(match / total)
        else:
            log_sum += math.log((match + 1) / (total + 1))
    bp = 1.0 if len(p) > len(r) else math.exp(1 - len(r) / len(p))
    return bp * math.exp(log_sum / 4)


def generation_metrics(preds: list[str], refs: list[str]) -> dict[str, float]:
    """Mean ROUGE-L and BLEU-4 over pairs, as {"rouge-l": ..., "bleu-4": ...}."""
    if not preds:
        return {"rouge-l": 0.0, "bleu-4": 0.0}
    return {"rouge-l": round(sum(map(rouge_l, preds, refs)) / len(preds), 6),
            "bleu-4": round(sum(map(bleu_4, preds, refs)) / len(preds), 6)}
