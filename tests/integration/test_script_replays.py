"""The command lines of the scripts users carry over, replayed unchanged except for the model (--model tiny, or
the script's own model flag given `tiny`) and a small dataset: each exits 0 and trains.

Sources: ms-swift 1.x's examples (llm_sft.py / llm_infer.py sft.sh and infer.sh), ms-swift 2.x's and 3.x's
README quick starts, Chinese-LLaMA-Alpaca-2's run_sft.sh and Qwen's finetune_lora_single_gpu.sh. Where a script
needs a GPU library (DeepSpeed, bitsandbytes) that flag is left out, and said so beside it."""
import json
from pathlib import Path

import pytest


def alpaca_rows(shared_datasets: Path, n: int) -> list[dict]:
    return json.loads((shared_datasets / "alpaca_en_demo.json").read_text(encoding="utf-8"))[:n]


def log_rows(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "logging.jsonl").read_text().splitlines()]


def only_run(out: Path) -> Path:
    runs = list(out.glob("v*-*")) or [out]
    assert len(runs) == 1, runs
    return runs[0]


def trained(run: Path) -> list[dict]:
    rows = log_rows(run)
    assert any("loss" in r for r in rows), rows
    assert list(run.glob("checkpoint-*")), list(run.iterdir())
    return rows


@pytest.fixture
def data(shared_datasets, tmp_path):
    path = tmp_path / "train.json"
    path.write_text(json.dumps(alpaca_rows(shared_datasets, 16), ensure_ascii=False), encoding="utf-8")
    return path


def test_ms_swift_1x_sft_then_infer(sartor_main, tmp_path, data):
    sartor_main(
        "sft", "--model_id_or_path", "tiny", "--model_revision", "master", "--sft_type", "lora",
        "--tuner_backend", "swift", "--template_type", "AUTO", "--dtype", "AUTO", "--output_dir", "output",
        "--dataset", str(data), "--train_dataset_sample", "-1", "--num_train_epochs", "1", "--max_length", "512",
        "--check_dataset_strategy", "warning", "--lora_rank", "8", "--lora_alpha", "32", "--lora_dropout_p", "0.05",
        "--lora_target_modules", "ALL", "--gradient_checkpointing", "true", "--batch_size", "1", "--weight_decay",
        "0.01", "--learning_rate", "1e-4", "--gradient_accumulation_steps", "16", "--max_grad_norm", "0.5",
        "--warmup_ratio", "0.03", "--eval_steps", "100", "--save_steps", "100", "--save_total_limit", "2",
        "--logging_steps", "10", "--use_flash_attn", "false", "--self_cognition_sample", "16",
        "--model_name", "卡卡罗特", "--model_author", "陶白白", cwd=tmp_path)
    run = only_run(tmp_path / "output")
    trained(run)
    ckpt = sorted(run.glob("checkpoint-*"))[-1]
    r = sartor_main(
        "infer", "--ckpt_dir", str(ckpt), "--load_args_from_ckpt_dir", "true", "--eval_human", "false",
        "--max_length", "512", "--use_flash_attn", "false", "--max_new_tokens", "8", "--temperature", "0.1",
        "--top_p", "0.7", "--repetition_penalty", "1.", "--do_sample", "true", "--merge_lora_and_save", "false",
        cwd=tmp_path)
    results = list(run.glob("**/*.jsonl")) + list(tmp_path.glob("**/infer_result*/*.jsonl"))
    assert any(p.name != "logging.jsonl" for p in results), r.stderr[-2000:]


def test_ms_swift_2x_sft_infer_merge_and_app_ui(sartor_main, tmp_path, data):
    sartor_main(
        "sft", "--model", "tiny", "--dataset", f"{data}#8", "self-cognition#8", "--logging_steps", "5",
        "--max_length", "512", "--learning_rate", "1e-4", "--output_dir", "output", "--lora_target_modules", "ALL",
        "--model_name", "小黄", "Xiao Huang", "--model_author", "魔搭", "ModelScope", "--num_train_epochs", "1",
        cwd=tmp_path)
    run = only_run(tmp_path / "output")
    trained(run)
    ckpt = sorted(run.glob("checkpoint-*"))[-1]
    sartor_main("infer", "--ckpt_dir", str(ckpt), "--load_dataset_config", "true", "--show_dataset_sample", "2",
                "--max_new_tokens", "8", cwd=tmp_path)
    r = sartor_main("merge-lora", "--ckpt_dir", str(ckpt), cwd=tmp_path)
    assert "deprecated" in r.stderr and (Path(str(ckpt) + "-merged") / "config.json").is_file()
    r = sartor_main("app-ui", "--help", cwd=tmp_path)
    assert "usage: sartor app" in r.stdout


def test_ms_swift_3x_sft_then_infer(sartor_main, tmp_path, data):
    sartor_main(
        "sft", "--model", "tiny", "--train_type", "lora", "--dataset", f"{data}#8", "self-cognition#8",
        "--torch_dtype", "bfloat16", "--num_train_epochs", "1", "--per_device_train_batch_size", "1",
        "--per_device_eval_batch_size", "1", "--learning_rate", "1e-4", "--lora_rank", "8", "--lora_alpha", "32",
        "--target_modules", "all-linear", "--gradient_accumulation_steps", "16", "--eval_steps", "50",
        "--save_steps", "50", "--save_total_limit", "2", "--logging_steps", "5", "--max_length", "2048",
        "--output_dir", "output", "--system", "You are a helpful assistant.", "--warmup_ratio", "0.05",
        "--dataloader_num_workers", "4", "--model_author", "swift", "--model_name", "swift-robot", cwd=tmp_path)
    run = only_run(tmp_path / "output")
    trained(run)
    ckpt = sorted(run.glob("checkpoint-*"))[-1]
    r = sartor_main("infer", "--adapters", str(ckpt), "--stream", "true", "--temperature", "0",
                    "--max_new_tokens", "8", cwd=tmp_path, input="who are you?\n")
    assert r.stdout.strip()


def test_chinese_llama_alpaca_2_run_sft(sartor_main, tmp_path, shared_datasets):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.json").write_text(json.dumps(alpaca_rows(shared_datasets, 16), ensure_ascii=False))
    (tmp_path / "dev.json").write_text(json.dumps(alpaca_rows(shared_datasets, 20)[16:], ensure_ascii=False))
    # --deepspeed ds_zero2_no_offload.json left out: DeepSpeed needs a GPU here
    sartor_main(
        "sft", "--model_name_or_path", "tiny", "--tokenizer_name_or_path", "tiny", "--dataset_dir", "data",
        "--per_device_train_batch_size", "1", "--per_device_eval_batch_size", "1", "--do_train", "--do_eval",
        "--seed", "21844", "--fp16", "--num_train_epochs", "1", "--lr_scheduler_type", "cosine",
        "--learning_rate", "1e-4", "--warmup_ratio", "0.03", "--weight_decay", "0", "--logging_strategy", "steps",
        "--logging_steps", "10", "--save_strategy", "steps", "--save_total_limit", "3", "--evaluation_strategy",
        "steps", "--eval_steps", "100", "--save_steps", "200", "--gradient_accumulation_steps", "8",
        "--preprocessing_num_workers", "8", "--max_seq_length", "512", "--output_dir", "output/sft",
        "--overwrite_output_dir", "--ddp_timeout", "30000", "--logging_first_step", "True", "--lora_rank", "64",
        "--lora_alpha", "128", "--trainable", "q_proj,v_proj,k_proj,o_proj,gate_proj,down_proj,up_proj",
        "--lora_dropout", "0.05", "--modules_to_save", "embed_tokens,lm_head", "--torch_dtype", "float16",
        "--validation_file", "dev.json", "--load_in_kbits", "16", "--save_safetensors", "False",
        "--gradient_checkpointing", "--ddp_find_unused_parameters", "False", cwd=tmp_path)
    run = only_run(tmp_path / "output" / "sft")
    rows = trained(run)
    assert all(r["loss"] == r["loss"] for r in rows if "loss" in r)  # finite: no NaN (float16 + trained embeddings)
    args = json.loads((run / "args.json").read_text())
    assert args["torch_dtype"] == "float16" and args["modules_to_save"] == ["embed_tokens", "lm_head"]


def test_qwen_finetune_lora_single_gpu(sartor_main, tmp_path, shared_datasets):
    rows = [{"id": f"identity_{i}", "conversations": [
        {"from": "user", "value": r["instruction"] + ("\n" + r["input"] if r["input"] else "")},
        {"from": "assistant", "value": r["output"]}]} for i, r in enumerate(alpaca_rows(shared_datasets, 16))]
    (tmp_path / "data.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    sartor_main(
        "sft", "--model_name_or_path", "tiny", "--data_path", "data.json", "--bf16", "True",
        "--output_dir", "output_qwen", "--num_train_epochs", "5", "--per_device_train_batch_size", "2",
        "--per_device_eval_batch_size", "1", "--gradient_accumulation_steps", "8", "--evaluation_strategy", "no",
        "--save_strategy", "steps", "--save_steps", "1000", "--save_total_limit", "10", "--learning_rate", "3e-4",
        "--weight_decay", "0.1", "--adam_beta2", "0.95", "--warmup_ratio", "0.01", "--lr_scheduler_type", "cosine",
        "--logging_steps", "1", "--report_to", "none", "--model_max_length", "512", "--lazy_preprocess", "True",
        "--gradient_checkpointing", "--use_lora", cwd=tmp_path)
    run = only_run(tmp_path / "output_qwen")
    losses = [r["loss"] for r in trained(run) if "loss" in r]
    assert len(losses) >= 4 and losses[-1] < losses[0]
