"""A hub token given on the command line leaves no copy of itself under the output directory, in the logs or in
the printed plan; args.json records only that one was given."""
import json

from sartor.arguments.secrets import GIVEN

TOKEN = "hf_SeCrEt0123456789abcdefTOKEN"


def test_hub_token_never_reaches_disk_or_logs(sartor_main, tmp_path):
    r = sartor_main("sft", "--model", "tiny", "--dataset", "self-cognition#8", "--model_name", "Sartor",
                    "--model_author", "Acme", "--hub_token", TOKEN, "--max_steps", "1", "--split_dataset_ratio", "0",
                    "--report_to", "none", "--output_dir", "out", "--training_args", '{"hub_token": "' + TOKEN + '"}',
                    cwd=tmp_path)
    assert TOKEN not in r.stdout + r.stderr
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "args.json" for p in files) and any(p.suffix == ".safetensors" for p in files)
    leaked = [str(p.relative_to(tmp_path)) for p in files if TOKEN.encode() in p.read_bytes()]
    assert leaked == []
    run = next((tmp_path / "out").glob("v0-*"))
    saved = json.loads((run / "args.json").read_text())
    assert saved["hub_token"] == GIVEN and saved["training_args"]["hub_token"] == GIVEN
    ckpt_saved = json.loads((run / "checkpoint-1" / "args.json").read_text())
    assert ckpt_saved["hub_token"] == GIVEN
    # and the checkpoint still infers: the marker is never taken for a token
    out = sartor_main("infer", "--ckpt_dir", str(run), "--query", "who are you?", "--max_new_tokens", "4",
                      "--temperature", "0", cwd=tmp_path)
    assert TOKEN not in out.stdout + out.stderr


def test_dry_run_plan_masks_the_token(sartor_main, tmp_path):
    r = sartor_main("sft", "--model", "tiny", "--dataset", "self-cognition#8", "--hub_token", TOKEN,
                    "--dry_run", "true", cwd=tmp_path)
    plan = json.loads(r.stdout[r.stdout.index("{"):])
    assert plan["arguments"]["hub_token"] == GIVEN and TOKEN not in r.stdout + r.stderr
