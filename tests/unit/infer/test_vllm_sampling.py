"""--infer_backend vllm without vllm or a GPU: RequestConfig -> SamplingParams, flags, the missing-vllm error.

A fake `vllm` module is put in sys.modules where vLLM's classes are needed; no real vllm is imported."""
import json
import sys
import types

import pytest

from sartor.arguments import AppArguments, DeployArguments, InferArguments
from sartor.arguments.parser import format_help, parse_args
from sartor.infer.engine import RequestConfig
from sartor.infer.vllm_engine import (VllmEngine, engine_kwargs_from_args, lora_rank, make_sampling_params,
                                      sampling_kwargs, vllm_lora_rank)
from sartor.utils.errors import SartorError


class FakeSamplingParams:
    """Records its arguments and checks what vLLM checks for the values used here."""

    def __init__(self, **kwargs):
        if not 0 <= kwargs.get("temperature", 1.0) <= 2:
            raise ValueError(f"temperature must be in [0, 2], got {kwargs['temperature']}.")
        if kwargs.get("top_k", 0) < -1:
            raise ValueError(f"top_k must be 0 (disable), or at least 1, got {kwargs['top_k']}.")
        self.kwargs = kwargs


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.SamplingParams = FakeSamplingParams
    monkeypatch.setitem(sys.modules, "vllm", module)
    return module


# -- RequestConfig -> SamplingParams ---------------------------------------------------------------------
def test_greedy_turns_sampling_filters_off():
    cfg = RequestConfig(temperature=0, top_k=20, top_p=0.7, max_new_tokens=99, seed=5)
    kw = sampling_kwargs(cfg, 64, {2, 0}, ["###"])
    assert kw["temperature"] == 0.0 and kw["top_k"] == -1 and kw["top_p"] == 1.0
    assert kw["max_tokens"] == 64 and kw["n"] == 1 and kw["seed"] == 5
    assert kw["stop_token_ids"] == [0, 2] and kw["stop"] == ["###"]
    assert kw["include_stop_str_in_output"] is False and kw["skip_special_tokens"] is True
    assert kw["logprobs"] is None


@pytest.mark.parametrize("top_k,expected", [(0, -1), (-1, -1), (1, 1), (50, 50)])
def test_top_k_zero_or_negative_means_off(top_k, expected):
    kw = sampling_kwargs(RequestConfig(temperature=0.8, top_k=top_k, top_p=0.9), 10)
    assert kw["top_k"] == expected and kw["temperature"] == 0.8 and kw["top_p"] == 0.9


def test_penalties_seed_and_logprobs_pass_through():
    cfg = RequestConfig(temperature=1.0, repetition_penalty=1.3, presence_penalty=0.5, frequency_penalty=-0.25,
                        seed=None, logprobs=True, top_logprobs=3)
    kw = sampling_kwargs(cfg, 7)
    assert (kw["repetition_penalty"], kw["presence_penalty"], kw["frequency_penalty"]) == (1.3, 0.5, -0.25)
    assert kw["seed"] is None and kw["logprobs"] == 3
    assert sampling_kwargs(RequestConfig(logprobs=True, top_logprobs=0), 7)["logprobs"] == 0
    assert sampling_kwargs(RequestConfig(logprobs=False, top_logprobs=5), 7)["logprobs"] is None


def test_stop_strings_deduplicated_and_never_empty():
    kw = sampling_kwargs(RequestConfig(), 5, [], ["</s>", "", "</s>", "Observation:"])
    assert kw["stop"] == ["</s>", "Observation:"]


def test_make_sampling_params_builds_vllm_params_and_rejects_bad_values(fake_vllm):
    params = make_sampling_params(RequestConfig(temperature=0, max_new_tokens=3), 3, {2}, ["x"])
    assert isinstance(params, FakeSamplingParams) and params.kwargs["stop_token_ids"] == [2]
    with pytest.raises(SartorError, match="vLLM rejects these sampling settings: temperature"):
        make_sampling_params(RequestConfig(temperature=3.0), 3)


# -- LoRA ranks ------------------------------------------------------------------------------------------
def test_lora_rank_reads_the_adapter_and_rounds_up_to_what_vllm_accepts(tmp_path):
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 12, "rank_pattern": {"q_proj": 24}}))
    assert lora_rank(str(tmp_path)) == 24
    assert [vllm_lora_rank(r) for r in (1, 8, 9, 24, 64, 300, 512)] == [8, 8, 16, 32, 64, 320, 512]
    with pytest.raises(SartorError, match="larger than vLLM serves"):
        vllm_lora_rank(1024)
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 8, "use_dora": True}))
    with pytest.raises(SartorError, match="DoRA"):
        lora_rank(str(tmp_path))


# -- vllm missing ----------------------------------------------------------------------------------------
def test_missing_vllm_exits_2_with_the_install_hint(monkeypatch, capsys):
    from sartor.cli.main import main

    monkeypatch.setitem(sys.modules, "vllm", None)  # `import vllm` now fails, installed or not
    with pytest.raises(SystemExit) as exc:
        main(["infer", "--model", "tiny", "--infer_backend", "vllm", "--query", "hi"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "pip install 'sartor[vllm]'" in err and "Traceback" not in err


# -- flags -----------------------------------------------------------------------------------------------
VLLM_FLAGS = ["--infer_backend", "vllm", "--gpu_memory_utilization", "0.5", "--tensor_parallel_size", "2",
              "--max_model_len", "1024", "--enforce_eager", "true"]


@pytest.mark.parametrize("cls", [InferArguments, DeployArguments, AppArguments])
def test_vllm_flags_parse_for_every_serving_command(cls):
    args, explicit = parse_args(cls, ["--model", "tiny", *VLLM_FLAGS])
    assert (args.infer_backend, args.gpu_memory_utilization, args.tensor_parallel_size, args.max_model_len,
            args.enforce_eager) == ("vllm", 0.5, 2, 1024, True)
    assert "gpu_memory_utilization" in explicit


def test_vllm_flag_defaults_and_help():
    args = InferArguments(model="tiny")
    assert (args.infer_backend, args.gpu_memory_utilization, args.tensor_parallel_size, args.max_model_len,
            args.enforce_eager) == ("pt", 0.9, 1, None, False)
    text = format_help(InferArguments, "infer", "")
    assert "VllmArguments:" in text and "--gpu_memory_utilization FLOAT" in text


@pytest.mark.parametrize("flag,value,needle", [("--gpu_memory_utilization", "1.5", "(0, 1]"),
                                               ("--tensor_parallel_size", "0", "at least 1"),
                                               ("--max_model_len", "1", "at least 2")])
def test_bad_vllm_flags_are_user_errors(flag, value, needle):
    with pytest.raises(SartorError, match=needle.replace("(", r"\(").replace("]", r"\]")):
        parse_args(InferArguments, ["--model", "tiny", flag, value])


def test_flags_become_vllm_engine_arguments():
    args, explicit = parse_args(InferArguments, ["--model", "tiny", *VLLM_FLAGS, "--torch_dtype", "float16"])
    kw = engine_kwargs_from_args(args, "/m", "/m")
    assert kw == dict(model="/m", dtype="float16", gpu_memory_utilization=0.5, tensor_parallel_size=2,
                      enforce_eager=True, trust_remote_code=False, disable_log_stats=True, max_model_len=1024)
    args, explicit = parse_args(InferArguments, ["--model", "tiny", "--max_batch_size", "64", "--quant_method", "bnb",
                                                 "--quant_bits", "4"])
    kw = engine_kwargs_from_args(args, "/m", "/tok")
    assert kw["dtype"] == "auto" and kw["tokenizer"] == "/tok" and kw["max_num_seqs"] == 64
    assert kw["quantization"] == "bitsandbytes" and "max_model_len" not in kw


def test_prepare_engine_builds_a_vllm_engine_without_starting_it(fake_vllm, tiny_dir):
    from sartor.infer.infer_main import prepare_engine

    args = InferArguments(model="tiny", infer_backend="vllm", max_model_len=512, torch_dtype="float16")
    engine, _, ckpt = prepare_engine(args)
    assert isinstance(engine, VllmEngine) and ckpt is None and not engine.started
    assert engine.engine_kwargs["model"] == tiny_dir and engine.engine_kwargs["dtype"] == "float16"
    assert engine.max_model_len == 512 and engine.max_batch_size == 256
    assert engine.template.template_type == "chatml"
    assert "enable_lora" not in engine.engine_args()
    assert engine.encode([{"role": "user", "content": "hi"}]) == engine.template.encode_prompt(
        [{"role": "user", "content": "hi"}])


def test_prepare_engine_serves_a_lora_checkpoint_as_base_plus_adapter(fake_vllm, tiny_dir, tmp_path):
    from sartor.infer.infer_main import prepare_engine

    ckpt = tmp_path / "checkpoint-5"
    ckpt.mkdir()
    (ckpt / "adapter_config.json").write_text(json.dumps({"r": 8, "lora_alpha": 32, "peft_type": "LORA"}))
    (ckpt / "adapter_model.safetensors").write_bytes(b"")  # the fake engine never reads it
    engine, _, got = prepare_engine(InferArguments(ckpt_dir=str(ckpt), model="tiny", infer_backend="vllm"))
    assert got == str(ckpt) and engine.engine_kwargs["model"] == tiny_dir
    assert engine.adapters.default == str(ckpt) and engine.adapters.names == []
    kw = engine.engine_args()
    assert kw["enable_lora"] is True and kw["max_lora_rank"] == 8 and kw["max_loras"] == 1


def test_full_checkpoint_is_served_directly(fake_vllm, tiny_dir, tmp_path):
    import shutil

    from sartor.infer.infer_main import prepare_engine

    ckpt = tmp_path / "checkpoint-7"
    shutil.copytree(tiny_dir, ckpt)
    engine, _, _ = prepare_engine(InferArguments(ckpt_dir=str(ckpt), infer_backend="vllm", template="chatml"))
    assert engine.engine_kwargs["model"] == str(ckpt) and engine.adapters.default is None
