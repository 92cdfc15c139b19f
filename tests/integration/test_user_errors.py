"""Bad input from a user gets a clear one-line error and exit status 2, never a stack trace.

One case runs as a user runs it, in a new process; the others call the same entry point in this process
(`sartor.cli.main.main`, what the console script calls), which spares each the interpreter start and imports."""
import importlib.util
import json

import pytest


def test_a_user_error_exits_2_from_a_new_process(tmp_path, sartor_cli):
    r = sartor_cli("sft", "--model", "tiny", "--dataset", "missing.json", cwd=tmp_path, check=False)
    assert r.returncode == 2 and "missing.json" in r.stderr and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert not (tmp_path / "output").exists()  # found out before a run directory was made


@pytest.mark.parametrize("argv,needle", [
    (["sft", "--model", "./no/such/dir", "--dataset", "self-cognition", "--model_name", "A", "--model_author", "B"],
     "no such directory"),
    (["sft", "--model", "tiny", "--dataset", "self-cognition"], "--model_name"),
    (["sft", "--model", "tiny", "--dataset", "self-cognition", "--template", "chatmll", "--model_name", "A",
      "--model_author", "B"], "chatmll"),
    (["infer", "--ckpt_dir", "/no/such/ckpt", "--query", "hi"], "/no/such/ckpt"),
    (["export", "--ckpt_dir", "."], "--merge_lora"),
    (["sft", "--model", "tiny", "--per_device_train_batch_size", "0"], "--per_device_train_batch_size"),
    pytest.param(["sft", "--model", "tiny", "--dataset", "self-cognition#4", "--model_name", "A", "--model_author", "B",
                  "--use_liger_kernel", "true", "--max_steps", "1"], "sartor[liger]",
                 marks=pytest.mark.skipif(importlib.util.find_spec("liger_kernel") is not None,
                                          reason="liger-kernel is installed")),
])
def test_clear_error_exit_2(tmp_path, argv, needle, sartor_main):
    r = sartor_main(*argv, cwd=tmp_path, check=False)
    code, err = r.returncode, r.stderr
    assert code == 2, err[-2000:]
    assert needle in err
    assert "Traceback" not in err
    if needle != "sartor[liger]":  # (that one is found when the trainer is built)
        assert not (tmp_path / "output").exists()  # no empty run directory left behind


def test_bad_row_names_file_and_row(tmp_path, sartor_main):
    data = tmp_path / "bad.jsonl"
    data.write_text(json.dumps({"instruction": "hi", "output": "hello"}) + "\n" + json.dumps({"instruction": 5}) + "\n")
    r = sartor_main("sft", "--model", "tiny", "--dataset", str(data), "--strict", "true", "--max_steps", "1",
                    cwd=tmp_path, check=False)
    code, err = r.returncode, r.stderr
    assert code == 2 and "bad.jsonl" in err and "row 2" in err and "Traceback" not in err


def test_repository_code_needs_trust_remote_code(tmp_path, sartor_main):
    """A model whose config maps its classes to code in its repository is refused, before anything of it runs."""
    model = tmp_path / "acme-model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({
        "model_type": "acme_custom", "architectures": ["AcmeForCausalLM"],
        "auto_map": {"AutoConfig": "configuration_acme.AcmeConfig",
                     "AutoModelForCausalLM": "modeling_acme.AcmeForCausalLM"}}))
    (model / "modeling_acme.py").write_text("raise SystemExit('repository code ran')\n")
    for argv in (["infer", "--model", str(model), "--query", "hi"],
                 ["sft", "--model", str(model), "--dataset", "self-cognition#4", "--model_name", "A",
                  "--model_author", "B"]):
        r = sartor_main(*argv, cwd=tmp_path, check=False)  # the repository's code would exit with its message
        code, err = r.returncode, r.stderr
        assert code == 2 and "--trust_remote_code true" in err, (code, err[-1500:])
        assert "Traceback" not in err
