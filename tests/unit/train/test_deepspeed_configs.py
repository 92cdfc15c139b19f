"""The built-in DeepSpeed configs (--deepspeed zero0..zero3_offload), filled the way transformers fills them.

DeepSpeed itself is not needed: transformers' own "auto"-filling methods (HfTrainerDeepSpeedConfig) run on
accelerate's HfDeepSpeedConfig base, which imports without DeepSpeed."""
import json
from types import SimpleNamespace

import pytest

from sartor.train.ds_configs import BUILTIN, builtin_path, load_config, offloads, resolve_deepspeed, zero_stage
from sartor.utils.errors import SartorError


def _filler_class():
    """transformers' HfTrainerDeepSpeedConfig filling logic on accelerate's DeepSpeed-free config base."""
    from accelerate.utils.deepspeed import HfDeepSpeedConfig
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig as T

    class Filler(HfDeepSpeedConfig):
        def __init__(self, config):
            super().__init__(config)
            self._dtype = None
            self.mismatches = []

        is_auto = T.is_auto
        fill_match = T.fill_match
        fill_only = T.fill_only
        trainer_config_process = T.trainer_config_process
        trainer_config_finalize = T.trainer_config_finalize

    return Filler


def _training_args(tmp_path, **kw):
    from transformers import TrainingArguments

    base = dict(output_dir=str(tmp_path), per_device_train_batch_size=4, gradient_accumulation_steps=2,
                learning_rate=3e-5, weight_decay=0.1, adam_beta1=0.9, adam_beta2=0.95, max_grad_norm=0.7,
                warmup_steps=0.1, report_to=[], use_cpu=True)
    base.update(kw)
    return TrainingArguments(**base)


def _autos(node, path=""):
    if isinstance(node, dict):
        return [a for k, v in node.items() for a in _autos(v, f"{path}.{k}" if path else k)]
    return [path] if node == "auto" else []


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_configs_load_with_their_stage(name):
    config = json.loads(open(builtin_path(name), encoding="utf-8").read())
    stage = int(name[4])
    assert config["zero_optimization"]["stage"] == stage == zero_stage(name)
    assert offloads(name) == ("offload" in name, name == "zero3_offload")
    assert config["train_micro_batch_size_per_gpu"] == "auto" and config["bf16"]["enabled"] == "auto"
    if "offload" in name:  # ZeRO-Offload refuses a torch optimizer: DeepSpeed's (CPU) AdamW, filled from the args
        assert config["optimizer"]["type"] == "AdamW"
    else:  # the Trainer's own optimizer and scheduler
        assert "optimizer" not in config and "scheduler" not in config
    if stage == 3:  # checkpoints hold whole 16-bit tensors (and peft picks the adapter's out of them)
        assert config["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True


@pytest.mark.parametrize("name", BUILTIN)
def test_auto_values_are_filled_like_transformers_does(tmp_path, name):
    world_size = 1  # TrainingArguments.world_size in this single process
    targs = _training_args(tmp_path)
    filler = _filler_class()(resolve_deepspeed(name))
    filler.trainer_config_process(targs)
    model = SimpleNamespace(config=SimpleNamespace(hidden_size=64))
    filler.trainer_config_finalize(targs, model, num_training_steps=100)
    config = filler.config
    assert _autos(config) == [], _autos(config)
    assert config["train_micro_batch_size_per_gpu"] == 4
    assert config["gradient_accumulation_steps"] == 2
    assert config["train_batch_size"] == 4 * 2 * world_size
    assert config["gradient_clipping"] == 0.7
    assert config["bf16"]["enabled"] is False and config["fp16"]["enabled"] is False  # CPU: no mixed precision
    if "optimizer" in config:
        assert config["optimizer"]["params"] == {"lr": 3e-5, "betas": [0.9, 0.95], "eps": targs.adam_epsilon,
                                                 "weight_decay": 0.1}
    if zero_stage(name) == 3:
        zero = config["zero_optimization"]
        assert zero["reduce_bucket_size"] == 64 * 64
        assert zero["stage3_prefetch_bucket_size"] == int(0.9 * 64 * 64)
        assert zero["stage3_param_persistence_threshold"] == 640
    assert filler.mismatches == []


def test_bf16_is_filled_from_the_training_arguments(tmp_path):
    targs = _training_args(tmp_path)
    targs.bf16 = True  # what build_training_args sets on CUDA with --torch_dtype bfloat16
    filler = _filler_class()(resolve_deepspeed("zero2"))
    filler.trainer_config_process(targs)
    assert filler.config["bf16"]["enabled"] is True and filler.config["fp16"]["enabled"] is False


def test_names_aliases_and_files(tmp_path):
    assert resolve_deepspeed("zero3-offload") == builtin_path("zero3_offload")
    assert resolve_deepspeed("default-zero2") == builtin_path("zero2")  # ms-swift 2.x
    assert resolve_deepspeed("ZeRO3") == builtin_path("zero3")
    assert resolve_deepspeed(None) is None
    own = tmp_path / "ds.json"
    own.write_text(json.dumps({"zero_optimization": {"stage": 2, "offload_optimizer": {"device": "cpu"}}}))
    assert resolve_deepspeed(str(own)) == str(own)
    assert zero_stage(str(own)) == 2 and offloads(str(own)) == (True, False)
    assert load_config("zero1")["zero_optimization"]["stage"] == 1
    with pytest.raises(SartorError, match="zero0, zero1"):
        resolve_deepspeed("zero4")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SartorError, match="not valid JSON"):
        resolve_deepspeed(str(bad))


def test_training_args_take_the_builtin_config_when_deepspeed_is_installed(tmp_path, monkeypatch):
    """build_training_args passes the resolved file to TrainingArguments; without deepspeed it says what to install."""
    import importlib.util

    from sartor.arguments import SftArguments
    from sartor.train.parallel_flags import parallel_kwargs

    args = SftArguments(model="tiny", dataset=["x"], deepspeed="zero3")
    if importlib.util.find_spec("deepspeed") is None:
        with pytest.raises(SartorError, match="pip install 'sartor\\[deepspeed\\]'"):
            parallel_kwargs(args, activation_checkpointing=True)
    else:  # pragma: no cover - GPU machines
        assert parallel_kwargs(args, activation_checkpointing=True)["deepspeed"] == builtin_path("zero3")


def test_fsdp_flags_become_an_fsdp2_config(tmp_path):
    from sartor.arguments import SftArguments
    from sartor.train.parallel_flags import fsdp_layout, fsdp_settings, parallel_kwargs

    assert fsdp_settings(None, None) == (False, None)
    on, config = fsdp_settings("full_shard auto_wrap", None)
    assert on and config == {"version": 2, "reshard_after_forward": True}
    _, config = fsdp_settings("shard_grad_op offload", '{"fsdp_cpu_ram_efficient_loading": true}')
    assert config == {"version": 2, "reshard_after_forward": False, "cpu_offload": True, "cpu_ram_efficient_loading": True}
    assert fsdp_layout(config) == "shard_grad_op offload"
    with pytest.raises(SartorError, match="unknown option 'hybrid'"):
        fsdp_settings("hybrid", None)
    kw = parallel_kwargs(SftArguments(model="tiny", dataset=["x"], fsdp="full_shard auto_wrap"), activation_checkpointing=True)
    assert kw["fsdp"] is True and kw["fsdp_config"]["activation_checkpointing"] is True
    assert kw["activation_checkpointing"] is False  # FSDP's own checkpointing instead of the Trainer's
    with pytest.raises(SartorError, match="not both"):
        parallel_kwargs(SftArguments(model="tiny", dataset=["x"], fsdp="full_shard", deepspeed="zero2"), True)
