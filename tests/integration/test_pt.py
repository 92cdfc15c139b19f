"""`sartor pt`: continued pre-training on raw text, as a user runs it on the shared c4 sample."""
import json


def test_pt_trains_on_raw_text_packed(shared_datasets, tmp_path, sartor_main):
    sartor_main("pt", "--model", "tiny", "--dataset", str(shared_datasets / "c4_demo.jsonl") + "#64",
                "--train_type", "full", "--learning_rate", "3e-3", "--max_steps", "6", "--max_length", "256",
                "--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1", "--logging_steps", "1",
                "--split_dataset_ratio", "0", "--report_to", "none", "--output_dir", "out", cwd=tmp_path)
    run = next((tmp_path / "out").glob("v0-*"))
    args = json.loads((run / "args.json").read_text())
    assert args["packing"] is True and args["loss_scale"] == "all"  # pt's defaults
    losses = [json.loads(line)["loss"] for line in (run / "logging.jsonl").read_text().splitlines()
              if '"loss"' in line]
    assert len(losses) == 6 and losses[-1] < losses[0] - 0.1, losses
    r = sartor_main("infer", "--ckpt_dir", str(run / "checkpoint-6"), "--query", "The weather", "--max_new_tokens", "4",
                    "--temperature", "0", cwd=tmp_path)
    assert r.stdout.strip()  # the checkpoint loads and generates
