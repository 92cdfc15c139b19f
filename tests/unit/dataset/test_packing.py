"""--packing: rows are bin-packed into sequences of at most max_length tokens, each row exactly once."""
import math
import random

from datasets import Dataset

from sartor.dataset.packing import best_fit_decreasing, pack_dataset


def test_best_fit_finds_the_tight_packing():
    assert best_fit_decreasing([5, 4, 3, 3, 1], 8) == [[0, 2], [1, 3, 4]]  # 2 full bins (first fit: also 2)
    assert best_fit_decreasing([6, 5, 2, 2, 1], 8) == [[0, 2], [1, 3, 4]]  # 6+2, 5+2+1


def test_every_row_once_within_capacity_and_nearly_full():
    rng = random.Random(0)
    lengths = [min(2048, max(32, int(rng.lognormvariate(5.7, 0.8)))) for _ in range(20000)]
    bins = best_fit_decreasing(lengths, 2048)
    assert sorted(i for b in bins for i in b) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in b) <= 2048 for b in bins)
    assert all(b == sorted(b) for b in bins)
    assert len(bins) <= math.ceil(sum(lengths) / 2048) * 1.01 + 1  # within 1% of the lower bound
    assert best_fit_decreasing(lengths, 2048) == bins  # deterministic


def test_pack_dataset_restarts_positions_and_masks_row_starts():
    rows = [{"input_ids": [7] * n, "labels": [3] * n, "length": n} for n in (6, 3, 5, 2)]
    packed = pack_dataset(Dataset.from_list(rows), 8)
    assert len(packed) == 2 and sorted(packed["length"]) == [8, 8]
    for row in packed:
        starts = [i for i, p in enumerate(row["position_ids"]) if p == 0]
        assert all(row["labels"][i] == -100 for i in starts)  # nothing predicts a row's first token from another
        assert sum(1 for lab in row["labels"] if lab != -100) == row["length"] - len(starts)


def test_packing_is_off_for_models_that_run_their_own_code():
    """Their attention may ignore restarting position ids, so packed rows would see each other."""
    from types import SimpleNamespace

    from sartor.model.loader import runs_repository_code

    remote = SimpleNamespace(config={"model_type": "chatglm", "auto_map": {"AutoModelForCausalLM": "modeling.M"}})
    native = SimpleNamespace(config={"model_type": "qwen2"})
    assert runs_repository_code(remote, trust_remote_code=True)
    assert not runs_repository_code(remote, trust_remote_code=False)  # transformers' own class
    assert not runs_repository_code(native, trust_remote_code=True)
