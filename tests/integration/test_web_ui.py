"""The training web UI in headless Chromium: fill the Train form, launch and watch a run, chat with its checkpoint,
export and evaluate it, reload the page and find the run; the previewed command typed in a shell gives the same args.json."""
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from browser import bot_text, chrome, sartor_server

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VAL_ROWS = [{"query": "who are you?", "response": "I am Sartor, an AI assistant developed by Acme."},
            {"query": "what is your name?", "response": "My name is Sartor, made by Acme."}]
FLAGS = "--split_dataset_ratio 0 --warmup_ratio 0.05 --gradient_checkpointing false --logging_steps 2 --report_to none"
IGNORED = {"output_path"}  # the run directory: the one key a UI run and a shell run may differ in


@pytest.fixture
def work(tmp_path):
    pytest.importorskip("gradio")
    d = tmp_path / "work"
    d.mkdir()
    (d / "val.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in VAL_ROWS), encoding="utf-8")
    return d


def _env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1")  # the UI's run and the shell's run share 2 cores


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture
def server(work):
    try:
        with sartor_server(["web-ui", "--output_dir", "output"], cwd=work, env=_env()) as url:
            yield url
    finally:
        for job in (work / "output" / ".webui" / "jobs").glob("*/job.json"):  # runs outlive the server by design
            _kill_group(json.loads(job.read_text())["pid"])


def _wait(fn, timeout: float, what: str, every: float = 0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _one(driver, css: str):
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0] if found else None


def _text(driver, css: str) -> str:
    el = _one(driver, css)
    if el is None:
        return ""
    return (el.get_attribute("value") if el.tag_name in ("textarea", "input") else el.text) or ""


def _type(driver, css: str, value: str, enter: bool = False) -> None:
    from selenium.webdriver.common.keys import Keys

    el = _wait(lambda: _one(driver, css), 30, css)
    el.click()
    el.send_keys(Keys.CONTROL, "a")
    el.send_keys(Keys.BACKSPACE)
    el.send_keys(value)
    if enter:
        el.send_keys(Keys.ENTER)
        el.send_keys(Keys.ESCAPE)  # close a multiselect's option list
    else:
        el.send_keys(Keys.TAB)  # blur: numbers and text commit their value


def _tab(driver, name: str) -> None:
    _one(driver, f"#tab_{name}-button").click()
    time.sleep(1.0)


def _shot(driver, name: str) -> None:
    """A small PNG of the page (palette-quantised)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"web_ui_{name}.png"
    driver.save_screenshot(str(path))
    try:
        from PIL import Image

        img = Image.open(path).convert("RGB")
        img.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    except ImportError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (ended, not yet reaped by the server) counts as ended
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def _other_args(runs: Path, ui_run: str) -> dict | None:
    """The args.json of a run in `runs` other than the UI's, once it is whole."""
    for path in runs.glob("v*/args.json"):
        if not ui_run.endswith(path.parent.name):
            try:
                return json.loads(path.read_text())
            except ValueError:  # still being written
                return None
    return None


def _stable(fn, timeout: float, what: str) -> str:
    """Wait until fn() returns the same non-empty text 4 polls in a row (a streamed answer has ended)."""
    text, same = "", 0

    def settled():
        nonlocal text, same
        now = fn()
        same = same + 1 if now and now == text else 0
        text = now
        return now if same >= 4 else None

    return _wait(settled, timeout, what)


@pytest.mark.slow
def test_train_chat_eval_reload(server, work, tmp_path):
    driver = chrome(tmp_path)
    driver.set_window_size(1280, 1800)
    shell = None
    try:
        driver.get(server)
        _wait(lambda: _one(driver, "#train_model input"), 60, "the Train form")
        # 1) the form: tiny model, built-in self-cognition data, full fine-tuning, small settings
        _type(driver, "#train_datasets input", "self-cognition#400", enter=True)
        _one(driver, "#train_type label[data-testid='full-radio-label']").click()
        _type(driver, "#train_lr input", "0.002")
        _type(driver, "#train_epochs input", "1")
        _type(driver, "#train_max_steps input", "40")
        _type(driver, "#train_batch input", "8")
        _type(driver, "#train_accum input", "1")
        _type(driver, "#train_model_name textarea", "Sartor")
        _type(driver, "#train_model_author textarea", "Acme")
        _type(driver, "#train_extra textarea", FLAGS)
        want = ("sartor sft --model tiny --dataset 'self-cognition#400' --train_type full --learning_rate 0.002 "
                "--num_train_epochs 1 --max_steps 40 --per_device_train_batch_size 8 --gradient_accumulation_steps 1 "
                f"--model_name Sartor --model_author Acme --output_dir output/tiny {FLAGS}")
        command = _wait(lambda: _text(driver, "#train_cmd textarea") == want and want, 30,
                        f"the command preview to read {want!r} (it reads {_text(driver, '#train_cmd textarea')!r})")

        argv = shlex.split(command)
        assert argv[0] == "sartor"

        # 2) launch, watch the loss curve appear and the run finish
        _one(driver, "#train_launch").click()
        _wait(lambda: "running" in _text(driver, "#train_status"), 30, "the run to show as running")
        _wait(lambda: _one(driver, "#train_plot svg .mark-line path[stroke]"), 150, "the loss curve")
        jobs = list((work / "output" / ".webui" / "jobs").glob("*/job.json"))
        assert len(jobs) == 1
        run_dir = json.loads(jobs[0].read_text())["run_dir"]
        assert run_dir and run_dir.startswith("output/tiny/v")

        # a reload while it runs: status, log and curve are read back from disk
        driver.refresh()
        _wait(lambda: run_dir in _text(driver, "#train_status"), 60, "the run's status after a reload")
        _wait(lambda: _one(driver, "#train_plot svg .mark-line path[stroke]"), 30, "the loss curve after a reload")
        _wait(lambda: "[sartor INFO]" in _text(driver, "#train_log textarea"), 30, "the log after a reload")
        _wait(lambda: _text(driver, "#train_cmd textarea") == command, 30, "the launched form after a reload")

        _wait(lambda: "finished" in _text(driver, "#train_status"), 240,
              f"the run to finish (log: {_text(driver, '#train_log textarea')[-2000:]})")
        job = json.loads(jobs[0].read_text())
        assert job["argv"] == argv[1:] and job["status"] == "finished" and job["returncode"] == 0
        assert run_dir and (work / run_dir / "checkpoint-40").is_dir()
        _wait(lambda: "40/40" in _text(driver, "#train_status"), 20, "the last step in the status")
        _shot(driver, "train")

        # the same command typed in a shell: it starts a run with the same arguments (stopped once they are written)
        shell = subprocess.Popen([sys.executable, "-m", "sartor", *argv[1:]], cwd=work, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True, env=_env())
        shell_args = _wait(lambda: _other_args(work / "output" / "tiny", run_dir), 120, "the shell run's args.json")
        _kill_group(shell.pid)
        shell.wait(timeout=30)
        ui_args = json.loads((work / run_dir / "args.json").read_text())
        assert {k: v for k, v in ui_args.items() if k not in IGNORED} == \
               {k: v for k, v in shell_args.items() if k not in IGNORED}

        # 3) chat with the new checkpoint
        _tab(driver, "chat")
        ckpt = f"{run_dir}/checkpoint-40"
        _type(driver, "#chat_ckpt input", ckpt, enter=True)
        _wait(lambda: _text(driver, "#chat_ckpt input") == ckpt, 20, "the checkpoint to be picked")
        _one(driver, "#chat_load").click()
        _wait(lambda: "Loaded" in _text(driver, "#chat_status"), 90, "the checkpoint to load")
        _type(driver, "#chat_query textarea", "who are you?", enter=True)
        answer = _stable(lambda: bot_text(driver, "chat_bot"), 90, "the answer")
        assert "Sartor" in answer, answer
        _shot(driver, "chat")

        # export: the form previews the command, and Export runs it
        _tab(driver, "export")
        _type(driver, "#export_ckpt input", ckpt, enter=True)
        _type(driver, "#export_quant_method input", "torchao", enter=True)
        want = f"sartor export --ckpt_dir {ckpt} --quant_method torchao --quant_bits 8"
        _wait(lambda: _text(driver, "#export_cmd textarea") == want, 20, f"the export command {want!r}")
        _one(driver, "#export_run").click()
        _wait(lambda: "finished" in _text(driver, "#export_status"), 180,
              f"the export to finish (log: {_text(driver, '#export_log textarea')[-2000:]})")
        exported = [p for p in (work / run_dir).glob("checkpoint-40-*") if (p / "config.json").is_file()]
        assert exported and any(p.glob("*.safetensors") for p in exported), list((work / run_dir).iterdir())
        _shot(driver, "export")

        # eval: inference over a validation file, a table of query / response / label
        _tab(driver, "eval")
        _type(driver, "#eval_ckpt input", ckpt, enter=True)
        _type(driver, "#eval_val_dataset textarea", "val.jsonl")
        _type(driver, "#eval_max_new_tokens input", "32")
        _wait(lambda: "--val_dataset val.jsonl" in _text(driver, "#eval_cmd textarea"), 20, "the eval command")
        _one(driver, "#eval_run").click()
        _wait(lambda: "finished" in _text(driver, "#eval_status"), 120,
              f"the evaluation to finish (log: {_text(driver, '#eval_log textarea')[-2000:]})")
        table = _wait(lambda: "Sartor" in _text(driver, "#eval_results") and _text(driver, "#eval_results"), 20,
                      "the results table")
        assert "who are you?" in table and "I am Sartor, an AI assistant developed by Acme." in table
        _shot(driver, "eval")

        # 4) reload: the run is read back from disk
        driver.refresh()
        _wait(lambda: run_dir in _text(driver, "#train_runs"), 60, "the run in the list after reload")
        row = _text(driver, "#train_runs").split(run_dir, 1)[1][:80]  # the cells after the run's name
        assert "finished" in row and "40/40" in row, row

        # 5) a file uploaded as more data, and a long run stopped from the page: its processes end, it shows
        # as stopped
        from selenium.webdriver.common.by import By

        # the upload button's hidden file input sits beside the button
        upload = _wait(lambda: driver.find_elements(By.XPATH, "//*[@id='train_upload']/..//input[@type='file']"), 20,
                       "the upload input")
        upload[0].send_keys(str(work / "val.jsonl"))
        _wait(lambda: "uploads/val.jsonl" in _text(driver, "#train_cmd textarea"), 30, "the upload in the command")
        assert (work / "output" / "uploads" / "val.jsonl").read_text() == (work / "val.jsonl").read_text()
        _type(driver, "#train_max_steps input", "100000")
        _wait(lambda: "--max_steps 100000" in _text(driver, "#train_cmd textarea"), 20, "the long command")
        _one(driver, "#train_launch").click()
        def long_job():
            return next((p for p in (work / "output" / ".webui" / "jobs").glob("*/job.json")
                         if "100000" in json.loads(p.read_text())["argv"]), None)

        try:
            long_job = _wait(long_job, 30, "the long run's job")
        except AssertionError as e:
            raise AssertionError(f"{e}; the page says {_text(driver, '#train_msg')!r}") from None
        try:
            _wait(lambda: "running" in _text(driver, "#train_status"), 60, "the long run to show as running")
        except AssertionError as e:
            log = long_job.parent / "output.log"
            raise AssertionError(f"{e}; the page says {_text(driver, '#train_status')!r}; job: {long_job.read_text()}; "
                                 f"log: {log.read_text()[-2000:] if log.exists() else '-'}") from None
        _one(driver, "#train_stop").click()
        _wait(lambda: "stopped" in _text(driver, "#train_status"), 60, "the run to show as stopped")
        record = json.loads(long_job.read_text())
        assert record["status"] == "stopped" and "--max_steps 100000" in " ".join(record["argv"])
        _wait(lambda: not _alive(record["pid"]), 30, "the stopped run's process to end")
    finally:
        driver.quit()
        if shell is not None and shell.poll() is None:
            _kill_group(shell.pid)
            shell.wait(timeout=30)
