"""Quantised export: what is refused before any model loads, and group sizes that fit the model."""
import importlib.util

import pytest
import torch

from sartor.arguments import ExportArguments
from sartor.export.export_main import export_main
from sartor.export.quantize import QUANT_BITS, check_quant, fit_group_size, linear_in_features
from sartor.utils.errors import SartorError


def test_bits_outside_a_method_are_refused():
    with pytest.raises(SartorError, match="torchao takes --quant_bits 2 or 3 or 4 or 8"):
        check_quant("torchao", 5, has_calibration=False)
    with pytest.raises(SartorError, match="awq takes --quant_bits 4"):
        check_quant("awq", 8, has_calibration=True)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only message")
@pytest.mark.parametrize("method", ["gptq", "awq", "fp8"])
def test_gpu_methods_say_so_on_cpu(method, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "gptqmodel" else real(name, *a))
    with pytest.raises(SartorError, match="CUDA GPU; on CPU use --quant_method torchao"):
        check_quant(method, QUANT_BITS[method][-1], has_calibration=True)


def test_missing_library_names_the_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gptqmodel" else real(name, *a))
    with pytest.raises(SartorError, match=r"pip install 'sartor\[gptq\]'"):
        check_quant("gptq", 4, has_calibration=True)


def test_calibrated_methods_need_data(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    with pytest.raises(SartorError, match="--dataset"):
        check_quant("gptq", 4, has_calibration=False)
    check_quant("gptq", 4, has_calibration=True)


def test_group_size_shrinks_to_divide_every_layer(tiny_dir):
    features = linear_in_features(tiny_dir)
    assert set(features.values()) == {256, 704}          # hidden and intermediate sizes of the tiny model
    assert fit_group_size(128, features) == 64
    assert fit_group_size(32, features) == 32
    assert fit_group_size(-1, features) == -1


@pytest.mark.parametrize("kwargs, match", [
    (dict(quant_method="torchao", quant_bits=8, to_ollama=True), "ollama create NAME --quantize"),
    (dict(), "nothing to export"),
    (dict(merge_lora=True), "LoRA checkpoint"),
])
def test_export_refuses_before_loading(kwargs, match, tiny_dir):
    with pytest.raises(SartorError, match=match):
        export_main(ExportArguments(model=tiny_dir, **kwargs))
