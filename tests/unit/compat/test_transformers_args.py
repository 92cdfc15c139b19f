"""TrainingArguments: the field names read from the installed class (only for flags that are not Sartor's own),
and the renamed gradient_checkpointing(_kwargs) -> activation_checkpointing(_kwargs) pair."""
import dataclasses
import subprocess
import sys
import warnings

import pytest
from transformers import TrainingArguments

from sartor.compat import relied_on
from sartor.compat.transformers import RENAMED_TRAINING_ARGS, init_fields, rename_training_args, training_args_fields


def test_fields_are_the_installed_class_fields():
    """A pass-through or misspelt flag is checked against these names; they are the class's own."""
    assert training_args_fields() == {f.name for f in dataclasses.fields(TrainingArguments)}
    assert {"learning_rate", "label_smoothing_factor", "do_train"} <= training_args_fields()


def test_sartor_flags_alone_never_import_transformers():
    """Importing TrainingArguments takes seconds: a command line of Sartor's own flags and aliases parses without it."""
    code = ("import sys\n"
            "from sartor.arguments import SftArguments, parse_args\n"
            "parse_args(SftArguments, ['--model', 'tiny', '--lora_rank', '4', '--sft_type', 'lora'])\n"
            "print('transformers' in sys.modules)")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert imported[-1] == "False"


@pytest.mark.parametrize("old, new", sorted(RENAMED_TRAINING_ARGS.items()))
def test_the_renamed_pair_is_a_documented_alias(old, new):
    fields = {f.name: f for f in dataclasses.fields(TrainingArguments)}
    assert new in fields, relied_on("transformers", f"TrainingArguments has no {new} (the new name of {old})")
    if old in fields:  # the old name, while it stays, is documented as the alias
        assert f"alias of `{new}`" in fields[old].metadata.get("help", ""), relied_on(
            "transformers", f"TrainingArguments.{old} is no longer documented as an alias of {new}")


def test_renamed_pair_reaches_the_installed_name_without_a_warning(tmp_path):
    kwargs = rename_training_args({"gradient_checkpointing": True, "output_dir": str(tmp_path),
                                   "gradient_checkpointing_kwargs": {"use_reentrant": False}})
    assert set(kwargs) == {"activation_checkpointing", "activation_checkpointing_kwargs", "output_dir"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        args = TrainingArguments(**kwargs, report_to=[], use_cpu=True)
    assert args.activation_checkpointing is True and args.activation_checkpointing_kwargs == {"use_reentrant": False}


def test_renaming_both_names_keeps_the_new_one_and_maps_back_for_older_classes():
    both = {"activation_checkpointing": False, "gradient_checkpointing": False, "activation_checkpointing_kwargs": {}}
    assert rename_training_args(both) == {"activation_checkpointing": False, "activation_checkpointing_kwargs": {}}
    old_class = init_fields() - set(RENAMED_TRAINING_ARGS.values())  # a TrainingArguments before the rename
    assert rename_training_args({"activation_checkpointing": True}, old_class) == {"gradient_checkpointing": True}
