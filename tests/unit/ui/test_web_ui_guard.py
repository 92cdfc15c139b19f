"""A browser cannot make the training web UI run code or touch files outside its folders: flags that run code are
refused in every spelling (and launch nothing) unless `sartor web-ui --allow_code_flags true`; job ids and result
files cannot name other paths."""
import json
import sys

import pytest

from sartor.arguments import aliases
from sartor.ui.web_ui.command import check_argv, export_argv, infer_argv, train_argv
from sartor.ui.web_ui.guard import Policy
from sartor.ui.web_ui.jobs import JobStore
from sartor.utils.errors import SartorError

FORM = {"model": "tiny", "kind": "sft", "train_type": "lora", "datasets": ["self-cognition#10"], "extra": ""}
CODE_SPELLINGS = [
    "--custom_register_path plugin.py",
    "--custom_register_path=plugin.py",
    "--custom-register-path plugin.py",
    "--custom_register_path a.py b.py",
    "--trust_remote_code true",
    "--trust_remote_code",  # a bare boolean is true
    "--trust_remote_code=1",
    "--trust-remote-code=yes",
    "--external_plugins plugin.py",
    "--external-plugins=plugin.py",
    "--model_kwargs '{\"trust_remote_code\": true}'",
]


@pytest.fixture
def policy(tmp_path):
    return Policy(str(tmp_path), "output")


@pytest.mark.parametrize("extra", CODE_SPELLINGS)
def test_code_flags_are_refused_in_every_spelling(policy, extra):
    with pytest.raises(SartorError, match="refused: .*--allow_code_flags true"):
        check_argv(train_argv({**FORM, "extra": extra}), policy)


@pytest.mark.parametrize("field", ["model", "output_dir", "model_name", "datasets"])
def test_a_flag_hidden_in_another_field_is_refused(policy, field):
    value = "--trust_remote_code=true"
    with pytest.raises(SartorError, match="refused"):
        check_argv(train_argv({**FORM, field: [value] if field == "datasets" else value}), policy)


def test_code_flags_in_export_and_eval_forms_are_refused(policy):
    with pytest.raises(SartorError, match="refused"):
        check_argv(export_argv({"ckpt_dir": "c", "merge_lora": True, "extra": "--trust_remote_code true"}), policy)
    with pytest.raises(SartorError, match="refused"):  # the validation-data field is split into words too
        check_argv(infer_argv({"ckpt_dir": "c", "val_dataset": "v.jsonl --custom_register_path p.py",
                               "result_path": "output/eval/r.jsonl"}), policy)


def test_an_alias_of_a_code_flag_is_refused(policy, monkeypatch):
    monkeypatch.setitem(aliases.ALIASES, "register_path", ("test", lambda v: {"custom_register_path": v}))
    with pytest.raises(SartorError, match="refused: --register_path"):
        check_argv(train_argv({**FORM, "extra": "--register_path=plugin.py"}), policy)


def test_code_flags_in_a_config_file_are_refused(tmp_path, policy):
    (tmp_path / "ok.yaml").write_text("learning_rate: 0.001\ntrust_remote_code: false\n")
    (tmp_path / "bad.yaml").write_text("learning_rate: 0.001\ncustom-register-path: [plugin.py]\n")
    check_argv(train_argv({**FORM, "extra": "--config ok.yaml"}), policy)
    for extra in ("--config bad.yaml", "--config=bad.yaml", "--config ok.yaml bad.yaml"):
        with pytest.raises(SartorError, match="refused: `custom-register-path` in bad.yaml"):
            check_argv(train_argv({**FORM, "extra": extra}), policy)


def test_config_files_outside_the_ui_folder_are_not_read(tmp_path):
    (tmp_path / "cfg.yaml").write_text("learning_rate: 0.001\n")
    inner = tmp_path / "ui"
    inner.mkdir()
    policy = Policy(str(inner), "output")
    for path in ("../cfg.yaml", str(tmp_path / "cfg.yaml"), "/etc/passwd.yaml"):
        with pytest.raises(SartorError, match="only from inside"):
            check_argv(train_argv({**FORM, "extra": f"--config {path}"}), policy)
    with pytest.raises(SartorError, match="config file not found: missing.yaml"):
        check_argv(train_argv({**FORM, "extra": "--config missing.yaml"}), policy)


def test_switched_off_code_flags_and_other_flags_pass(policy):
    for extra in ("--trust_remote_code false", "--trust_remote_code=0", "--custom_register_path",
                  "--deepspeed zero2 --warmup_ratio 0.05", "--model_kwargs '{\"low_cpu_mem_usage\": true}'"):
        check_argv(train_argv({**FORM, "extra": extra}), policy)


@pytest.mark.parametrize("extra", CODE_SPELLINGS[:-3])
def test_allow_code_flags_lets_them_through(tmp_path, extra):
    (tmp_path / "plugin.py").write_text("")
    check_argv(train_argv({**FORM, "extra": extra}), Policy(str(tmp_path), "output", allow_code_flags=True))


def test_a_refused_launch_starts_nothing(tmp_path):
    store = JobStore("output", cwd=str(tmp_path))
    marker = tmp_path / "ran"
    with pytest.raises(SartorError, match="refused"):
        store.launch(train_argv({**FORM, "extra": "--custom_register_path=plugin.py"}),
                     cmd=[sys.executable, "-c", f"open({str(marker)!r}, 'w')"])
    assert store.list() == [] and not marker.exists()


def _checkpoint(path, **saved):
    path.mkdir(parents=True)
    (path / "adapter_config.json").write_text("{}")
    (path / "args.json").write_text(json.dumps({"model": "tiny", **saved}))
    return path


def test_a_checkpoint_whose_args_turn_code_on_is_refused(tmp_path, policy):
    _checkpoint(tmp_path / "plain")
    _checkpoint(tmp_path / "remote", trust_remote_code=True)
    _checkpoint(tmp_path / "plugin", custom_register_path=["p.py"])
    check_argv(export_argv({"ckpt_dir": "plain", "merge_lora": True}), policy)
    for ckpt in ("remote", "plugin"):
        with pytest.raises(SartorError, match=f"refused: checkpoint {ckpt}, trained with"):
            check_argv(export_argv({"ckpt_dir": ckpt, "merge_lora": True}), policy)
        with pytest.raises(SartorError, match="refused: checkpoint"):
            check_argv(infer_argv({"ckpt_dir": ckpt, "val_dataset": "v.jsonl", "result_path": "output/r.jsonl"}),
                       policy)
    # switched off explicitly, the checkpoint's value is not used
    check_argv(export_argv({"ckpt_dir": "remote", "merge_lora": True, "extra": "--trust_remote_code false"}), policy)
    allowed = Policy(policy.cwd, "output", allow_code_flags=True)
    check_argv(export_argv({"ckpt_dir": "plugin", "merge_lora": True}), allowed)


def test_the_chat_tab_refuses_such_a_checkpoint(tmp_path, policy):
    from sartor.ui.web_ui.chat_tab import get_engine

    ckpt = _checkpoint(tmp_path / "remote", trust_remote_code=True)
    with pytest.raises(SartorError, match="refused: checkpoint"):
        get_engine(str(ckpt), policy)


def test_the_uploads_folder_holds_data_only(tmp_path, policy):
    uploads = tmp_path / "output" / "uploads"
    _checkpoint(uploads / "sub")
    (uploads / "args.json").write_text(json.dumps({"trust_remote_code": True}))
    check_argv(train_argv({**FORM, "datasets": ["output/uploads/data.jsonl"]}), policy)  # data: fine
    for form in ({**FORM, "model": "output/uploads"}, {**FORM, "extra": "--adapters output/uploads/sub"},
                 {**FORM, "output_dir": "output/./uploads/x"}):
        with pytest.raises(SartorError, match="uploads folder"):
            check_argv(train_argv(form), policy)
    with pytest.raises(SartorError, match="uploads folder"):
        check_argv(export_argv({"ckpt_dir": "output/uploads/../uploads", "merge_lora": True}), policy)


def test_results_are_written_and_read_inside_the_output_dir(policy):
    form = {"ckpt_dir": "c", "val_dataset": "v.jsonl"}
    check_argv(infer_argv({**form, "result_path": "output/eval/r.jsonl"}), policy)
    for path in ("elsewhere/r.jsonl", "output/../r.jsonl", "/tmp/r.jsonl"):
        with pytest.raises(SartorError, match="--result_path"):
            check_argv(infer_argv({**form, "result_path": path}), policy)


@pytest.mark.parametrize("job_id", ["../../../secret", "..", "a/b", "/etc", ""])
def test_a_job_id_names_no_other_path(tmp_path, job_id):
    outside = tmp_path / "secret"
    outside.mkdir()
    record = {"id": "x", "pid": 2 ** 22 + 7, "status": "running", "command": "sft"}
    (outside / "job.json").write_text(json.dumps(record))
    (outside / "stderr.log").write_text("private\n")
    store = JobStore("output", cwd=str(tmp_path))
    store.dir.mkdir(parents=True)
    assert store.get(job_id) is None and store.stop(job_id) is None
    assert store.log(job_id) == "" and store.stdout(job_id) == ""
