"""--truncation_strategy delete: over-length rows are dropped and counted; an emptied validation set turns
evaluation off instead of stopping the run; an emptied training set is a clear error."""
import pytest
from datasets import Dataset

from sartor.dataset.encode import encode_dataset
from sartor.model.tiny import get_tiny_tokenizer
from sartor.template import get_template
from sartor.utils.errors import SartorError


def rows(*answers: str) -> Dataset:
    return Dataset.from_list([{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": a}]}
                              for a in answers])


@pytest.fixture
def template():
    return get_template("chatml", get_tiny_tokenizer(), max_length=32, truncation_strategy="delete")


def test_over_length_rows_are_dropped(template):
    out = encode_dataset(rows("short", "long " * 40, "fine"), template, load_from_cache_file=False)
    assert len(out) == 2 and max(out["length"]) <= 32


def test_an_emptied_validation_set_means_no_evaluation(template):
    assert encode_dataset(rows("long " * 40), template, load_from_cache_file=False, validation=True) is None


def test_an_emptied_training_set_is_an_error(template):
    with pytest.raises(SartorError, match="max_length"):
        encode_dataset(rows("long " * 40), template, load_from_cache_file=False)
