"""TrainingArguments fields given as flags are typed by the installed class, and --bf16/--fp16 choose the dtype."""
import pytest

from sartor.arguments import InferArguments, SftArguments, parse_args
from sartor.utils.errors import SartorError


def ta(argv: list[str]) -> dict:
    args, _ = parse_args(SftArguments, argv)
    return args.training_args or {}


@pytest.mark.parametrize("argv, name, value", [
    (["--do_train"], "do_train", True),                       # a bare boolean flag means true (was [])
    (["--do_train", "false"], "do_train", False),
    (["--tf32", "False"], "tf32", False),                      # Optional[bool]: "False" is false (was truthy)
    (["--label_smoothing_factor", "0.1"], "label_smoothing_factor", 0.1),   # float (was the string '0.1')
    (["--eval_accumulation_steps", "4"], "eval_accumulation_steps", 4),     # Optional[int]
    (["--torch_empty_cache_steps=8"], "torch_empty_cache_steps", 8),
    (["--hub_strategy", "every_save"], "hub_strategy", "every_save"),       # an enum field stays its string
    (["--run_name", "my run"], "run_name", "my run"),
])
def test_pass_through_flags_take_their_field_type(argv, name, value):
    got = ta(argv)[name]
    assert got == value and type(got) is type(value)


def test_yaml_values_are_typed_too(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: tiny\nlabel_smoothing_factor: '0.2'\ndisable_tqdm: 'false'\n", encoding="utf-8")
    got = ta([str(cfg)])
    assert got == {"label_smoothing_factor": 0.2, "disable_tqdm": False}


def test_bad_pass_through_value_names_the_flag():
    with pytest.raises(SartorError, match="--label_smoothing_factor takes a number"):
        ta(["--label_smoothing_factor", "lots"])
    with pytest.raises(SartorError, match="--eval_accumulation_steps needs a value"):
        ta(["--eval_accumulation_steps"])


@pytest.mark.parametrize("argv, dtype", [
    (["--bf16"], "bfloat16"), (["--bf16", "true"], "bfloat16"), (["--fp16", "True"], "float16"),
    (["--bf16", "False"], None), (["--fp16", "false", "--torch_dtype", "float32"], "float32"),
])
def test_bf16_fp16_map_onto_torch_dtype(argv, dtype, caplog):
    from sartor.utils.logging import get_logger

    logger = get_logger()  # configured (INFO, not propagating) before the capture is added
    logger.addHandler(caplog.handler)
    try:
        args, explicit = parse_args(SftArguments, argv)
    finally:
        logger.removeHandler(caplog.handler)
    assert args.torch_dtype == dtype
    assert not {"bf16", "fp16"} & set(args.training_args or {})  # Sartor owns the precision: nothing passes on
    if dtype and "--torch_dtype" not in argv:
        assert "torch_dtype" in explicit
        assert "training in" in caplog.text


def test_conflicting_precisions_are_refused():
    with pytest.raises(SartorError, match="different precisions"):
        parse_args(SftArguments, ["--bf16", "--fp16"])
    with pytest.raises(SartorError, match="--torch_dtype is float32"):
        parse_args(SftArguments, ["--bf16", "--torch_dtype", "float32"])


def test_python_api_dict_is_typed_when_training_arguments_are_built(tmp_path):
    from sartor.train.training_args import build_training_args

    args = SftArguments(model="tiny", training_args={"label_smoothing_factor": "0.1", "tf32": "False"})
    built = build_training_args(args, str(tmp_path), has_eval=False, torch_dtype="float32")
    assert built.label_smoothing_factor == 0.1 and built.tf32 is False
    with pytest.raises(SartorError, match="not a field"):
        build_training_args(SftArguments(model="tiny", training_args={"label_smothing": 0.1}), str(tmp_path),
                            has_eval=False, torch_dtype="float32")


def test_commands_without_training_still_refuse_trainer_flags():
    with pytest.raises(SartorError, match="unknown flag --bf16"):
        parse_args(InferArguments, ["--bf16", "true"])


def test_a_setting_the_installed_training_arguments_lack_is_an_error_not_dropped(tmp_path, monkeypatch):
    """What Sartor itself derives must reach the Trainer: a key TrainingArguments does not take is named."""
    from sartor.train import training_args as T

    monkeypatch.setattr(T, "parallel_kwargs", lambda args, activation_checkpointing: {"ddp_backnd": "gloo"})
    with pytest.raises(SartorError, match=r"transformers [\d.]+: TrainingArguments takes no ddp_backnd"):
        T.build_training_args(SftArguments(model="tiny"), str(tmp_path), has_eval=False, torch_dtype="float32")


def test_the_renamed_checkpointing_pair_is_passed_on_under_the_new_name(tmp_path):
    from sartor.train.training_args import build_training_args

    args = SftArguments(model="tiny", gradient_checkpointing=True,
                        training_args={"gradient_checkpointing_kwargs": {"use_reentrant": True}})
    built = build_training_args(args, str(tmp_path), has_eval=False, torch_dtype="float32")
    assert built.activation_checkpointing is True
    assert built.activation_checkpointing_kwargs == {"use_reentrant": True}  # the user's value, not Sartor's default
