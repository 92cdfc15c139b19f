"""What a user sees on a piped stderr (a log file, CI, the web UI): Sartor's lines and JSON log rows, no progress
bar redraws between them, and none of the upstream noise Sartor's own calls cause."""
import json


def test_piped_training_log_is_lines_and_json_rows(sartor_cli, tmp_path):
    r = sartor_cli("sft", "--model", "tiny", "--dataset", "self-cognition#12", "--model_name", "Sartor",
                   "--model_author", "Acme", "--num_train_epochs", "2", "--per_device_train_batch_size", "2",
                   "--gradient_accumulation_steps", "2", "--logging_steps", "1", "--dataloader_num_workers", "3",
                   "--split_dataset_ratio", "0.2", "--report_to", "none", "--output_dir", "out", cwd=tmp_path)
    err = r.stderr
    assert "\r" not in err  # no progress-bar redraws
    assert "is_gradient_checkpointing" not in err
    assert err.count("This DataLoader will create") <= 1  # said once, not per loader
    rows = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    steps = [x["step"] for x in rows if "loss" in x]
    assert steps and steps == list(range(1, len(steps) + 1))  # one row per step, whole
    assert any("eval_loss" in x for x in rows)
    ckpt = sorted((tmp_path / "out").glob("v0-*/checkpoint-*"))[-1]
    for argv in (["infer", "--ckpt_dir", str(ckpt), "--query", "who are you?", "--max_new_tokens", "4"],
                 ["export", "--ckpt_dir", str(ckpt), "--merge_lora", "true"]):
        out = sartor_cli(*argv, cwd=tmp_path)
        assert "is_gradient_checkpointing" not in out.stderr and "FutureWarning" not in out.stderr, out.stderr
        assert "\r" not in out.stderr


def test_long_texts_do_not_warn_about_the_tokenizer_limit(tiny_dir, capfd):
    from transformers import AutoTokenizer

    from sartor.compat.noise import quiet_upstream_noise

    quiet_upstream_noise()
    tok = AutoTokenizer.from_pretrained(tiny_dir, model_max_length=8)
    tok("word " * 50)
    assert "Token indices sequence length" not in capfd.readouterr().err


def test_failed_validation_leaves_no_run_directory(sartor_main, tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"instruction": "hi", "output": "hello"}\n{"oops": 1}\n', encoding="utf-8")
    for command in (["sft"], ["rlhf", "--rlhf_type", "dpo"]):
        r = sartor_main(*command, "--model", "tiny", "--dataset", "bad.jsonl", "--strict", "true", "--max_steps", "1",
                        "--output_dir", "out", cwd=tmp_path, check=False)
        assert r.returncode == 2 and "bad.jsonl" in r.stderr
        assert list((tmp_path / "out").glob("v*")) == []
