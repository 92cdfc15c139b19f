"""ROUGE-L and BLEU-4 behave as their definitions say."""
import pytest

from sartor.core.metrics import bleu_4, generation_metrics, rouge_l, tokenize


def test_identical_texts_score_one():
    assert rouge_l("the cat sat on the mat", "the cat sat on the mat") == pytest.approx(1.0)
    assert bleu_4("the cat sat on the mat", "the cat sat on the mat") == pytest.approx(1.0)


def test_disjoint_texts_score_zero():
    assert rouge_l("alpha beta", "gamma delta") == 0.0
    assert bleu_4("alpha beta", "gamma delta") == 0.0


def test_rouge_l_by_hand():
    # LCS of "a b c d" and "a c d e" is "a c d" (3): P = 3/4, R = 3/4, F = 0.75
    assert rouge_l("a b c d", "a c d e") == pytest.approx(0.75)


def test_chinese_is_scored_per_character():
    assert tokenize("我是Sartor，你好") == ["我", "是", "sartor", "，", "你", "好"]
    assert rouge_l("我是小助手", "我是助手") == pytest.approx(2 * (4 / 5) * 1.0 / (4 / 5 + 1.0))


def test_partial_overlap_is_between_zero_and_one():
    m = generation_metrics(["the cat is on the mat"], ["the cat sat on the mat"])
    assert 0 < m["rouge-l"] < 1 and 0 < m["bleu-4"] < 1
