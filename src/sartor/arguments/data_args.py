"""Which data to train or evaluate on, and how to split and sample it."""
from dataclasses import dataclass
from typing import Optional

from ..utils.errors import SartorError
from .fields import arg


@dataclass
class DataArguments:
    dataset: list[str] = arg([], "Datasets: registered names, hub ids or local files/folders, as id_or_path[:subset1/subset2][#N]; several separated by spaces.")
    val_dataset: list[str] = arg([], "Validation datasets, same syntax as --dataset.")
    split_dataset_ratio: float = arg(0.01, "Fraction of --dataset held out for validation when --val_dataset is not given (0: none).")
    data_seed: int = arg(42, "Seed for sampling, splitting and shuffling data.")
    dataset_num_proc: int = arg(1, "Processes for preprocessing and encoding.")
    streaming: bool = arg(False, "Stream datasets instead of loading them whole (needs --max_steps).")
    strict: bool = arg(False, "Fail on the first bad row (true), or skip bad rows and count them in the log (false).")
    columns: Optional[dict] = arg(None, 'JSON map renaming columns before standardisation, e.g. \'{"question": "query"}\'.')
    custom_dataset_info: list[str] = arg([], "JSON files that register datasets (name -> path or hub id, columns, subsets).")
    load_from_cache_file: bool = arg(True, "Reuse cached preprocessing and encoding results.")
    max_train_samples: Optional[int] = arg(None, "Use at most N training rows in total after mixing datasets (unset: all).")
    model_name: list[str] = arg([], "Name for the self-cognition data: '中文名 EnglishName' (one value serves both languages).")
    model_author: list[str] = arg([], "Author for the self-cognition data: '中文 English' (one value serves both languages).")
    custom_register_path: list[str] = arg([], "Python files that register models, templates or datasets before anything loads.")

    def _validate_data(self) -> None:
        if not 0.0 <= self.split_dataset_ratio < 1.0:
            raise SartorError(f"--split_dataset_ratio must be in [0, 1), got {self.split_dataset_ratio}")
        if self.dataset_num_proc < 1:
            raise SartorError(f"--dataset_num_proc must be at least 1, got {self.dataset_num_proc}")
