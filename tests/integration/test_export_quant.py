"""Quantised export end to end: a LoRA checkpoint merged and quantised in one command, loaded back by
plain transformers, with its size and perplexity reported against the unquantised model."""
import json
from pathlib import Path

import pytest
import torch

from sartor.arguments import ExportArguments
from sartor.export.export_main import export_main

ROWS = [
    {"messages": [{"role": "user", "content": "Who are you?"}, {"role": "assistant", "content": "I am Sartor, made by Acme."}]},
    {"messages": [{"role": "user", "content": "What can you do?"}, {"role": "assistant", "content": "I answer questions."}]},
    {"messages": [{"role": "user", "content": "1 + 1 = ?"}, {"role": "assistant", "content": "2"}]},
    {"messages": [{"role": "user", "content": "Say hi."}, {"role": "assistant", "content": "Hi!"}]},
]


@pytest.fixture(scope="module")
def lora_ckpt(tmp_path_factory, tiny_dir):
    """A LoRA checkpoint of the tiny model with non-zero adapter weights (made directly with peft)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    work = tmp_path_factory.mktemp("export-quant")
    ckpt = work / "checkpoint-1"
    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=torch.float32),
                           LoraConfig(r=8, lora_alpha=32, target_modules="all-linear"))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.02)
    model.save_pretrained(ckpt)
    AutoTokenizer.from_pretrained(tiny_dir).save_pretrained(ckpt)
    (ckpt / "args.json").write_text(json.dumps({"model": "tiny", "template": "chatml", "train_type": "lora",
                                                "torch_dtype": "float32", "max_length": 256}))
    data = work / "val.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return ckpt, data


@pytest.mark.slow
def test_lora_checkpoint_to_torchao_int8(lora_ckpt, capsys):
    pytest.importorskip("torchao")
    from transformers import AutoModelForCausalLM

    ckpt, data = lora_ckpt
    out = ckpt.parent / "int8"
    result = export_main(ExportArguments(ckpt_dir=str(ckpt), merge_lora=True, quant_method="torchao", quant_bits=8,
                                         val_dataset=[str(data)], output_dir=str(out)))
    merged = Path(f"{ckpt}-merged")
    assert result["merged_model"] == str(merged) and result["quantized_model"] == str(out)
    printed = capsys.readouterr().out
    assert "size on disk" in printed and "perplexity" in printed and f"quantized_model: {out}" in printed

    config = json.loads((out / "config.json").read_text())
    assert config["quantization_config"]["quant_method"] == "torchao"
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()

    report = json.loads((out / "export_report.json").read_text())
    assert report["quant_method"] == "torchao" and report["quant_bits"] == 8
    assert report["unquantised"]["path"] == str(merged)
    assert report["size_ratio"] < 0.6                     # fp32 linears -> int8; embeddings stay fp32
    assert abs(report["perplexity_change"]) < 0.02
    assert report["eval_rows"] == len(ROWS) and report["eval_rows_from"] == str(data)

    quantised = AutoModelForCausalLM.from_pretrained(out).eval()   # plain transformers, its quantization_config
    weight = quantised.model.layers[0].mlp.down_proj.weight
    assert type(weight).__module__.startswith("torchao"), type(weight)
    reference = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()
    ids = torch.tensor([[5, 17, 42, 99, 311, 7]])
    with torch.no_grad():
        q, r = quantised(ids).logits, reference(ids).logits
    assert (q - r).abs().max() / r.abs().max() < 0.05
    assert (q.argmax(-1) == r.argmax(-1)).float().mean() > 0.8


@pytest.mark.slow
def test_torchao_4bit_generates_after_reload(lora_ckpt):
    """Grouped 4-bit (already merged above or here): plain transformers reloads it and generates."""
    pytest.importorskip("torchao")
    from transformers import AutoModelForCausalLM

    ckpt, data = lora_ckpt
    out = ckpt.parent / "int4"
    export_main(ExportArguments(ckpt_dir=str(ckpt), merge_lora=True, quant_method="torchao", quant_bits=4,
                                group_size=32, val_dataset=[str(data)], output_dir=str(out)))
    report = json.loads((out / "export_report.json").read_text())
    assert report["quant_bits"] == 4 and abs(report["perplexity_change"]) < 0.1
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    ids = torch.tensor([[5, 17, 42, 99]])
    with torch.no_grad():
        generated = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=4,
                                   do_sample=False)
    assert generated.shape == (1, 8)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("method, bits, library", [("gptq", 4, "gptqmodel"), ("awq", 4, "gptqmodel"),
                                                   ("fp8", 8, None), ("bnb", 4, "bitsandbytes"), ("hqq", 4, "hqq")])
def test_gpu_quantised_export_loads_back(lora_ckpt, method, bits, library):
    if library:
        pytest.importorskip(library)
    from transformers import AutoModelForCausalLM

    ckpt, data = lora_ckpt
    out = ckpt.parent / f"{method}{bits}"
    export_main(ExportArguments(ckpt_dir=str(ckpt), quant_method=method, quant_bits=bits, dataset=[str(data)],
                                val_dataset=[str(data)], quant_n_samples=4, group_size=64, output_dir=str(out)))
    report = json.loads((out / "export_report.json").read_text())
    assert report["quantised"]["perplexity"] == report["quantised"]["perplexity"]   # not NaN
    model = AutoModelForCausalLM.from_pretrained(out, device_map="auto")
    assert model.config.quantization_config
