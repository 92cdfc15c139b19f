"""`sartor web-ui` and `sartor app` with a login: a request without it is refused, the browser gets the login page,
the password is logged nowhere; from the page, a flag that runs code is refused with a message and launches nothing."""
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from browser import chrome, free_port, wait_http

SECRET = "pw-7f3a:x"


@contextlib.contextmanager
def _server(argv: list, cwd):
    """The server on a free port; yields (url, a function returning what it wrote on stdout and stderr)."""
    port = free_port()
    log = cwd / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sartor", *argv, "--server_port", str(port)], cwd=cwd,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        wait_http(f"http://127.0.0.1:{port}/", timeout=120, proc=proc)
        yield f"http://127.0.0.1:{port}", lambda: log.read_text(errors="replace")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def _files_holding(root, text: str) -> list:
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with contextlib.suppress(OSError), open(path, "rb") as f:
                if text.encode() in f.read():
                    found.append(path)
    return found


@pytest.mark.slow
def test_web_ui_login_and_refused_code_flag(tmp_path):
    pytest.importorskip("gradio")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    (tmp_path / "users.txt").write_text(f"alice:{SECRET}\n")
    with _server(["web-ui", "--auth_file", "users.txt"], tmp_path) as (url, output):
        assert _status(url + "/config") == 401 and _status(url + "/gradio_api/info") == 401
        driver = chrome(tmp_path)
        try:
            driver.get(url)
            find = driver.find_elements
            deadline = time.time() + 60
            while not find(By.CSS_SELECTOR, "input[type=password]") and time.time() < deadline:
                time.sleep(0.3)
            assert not find(By.ID, "train_launch")  # the login page, not the UI
            find(By.CSS_SELECTOR, "input[type=text], input:not([type])")[0].send_keys("alice")
            find(By.CSS_SELECTOR, "input[type=password]")[0].send_keys(SECRET + "\n")
            deadline = time.time() + 60
            while not find(By.CSS_SELECTOR, "#train_extra textarea") and time.time() < deadline:
                time.sleep(0.3)
            extra = find(By.CSS_SELECTOR, "#train_extra textarea")[0]
            extra.send_keys("--custom_register_path=plugin.py")
            extra.send_keys(Keys.TAB)  # blur: the box commits its value
            time.sleep(1.0)
            find(By.ID, "train_launch")[0].click()
            deadline = time.time() + 30
            while "refused" not in find(By.ID, "train_msg")[0].text and time.time() < deadline:
                time.sleep(0.3)
            message = find(By.ID, "train_msg")[0].text
            assert "refused: --custom_register_path" in message and "--allow_code_flags true" in message
        finally:
            driver.quit()
        assert not (tmp_path / "output" / ".webui" / "jobs").exists() or \
            not any((tmp_path / "output" / ".webui" / "jobs").iterdir())
        text = output()
    assert "share=True" not in text and "login required" in text and "WARNING" not in text
    assert _files_holding(tmp_path, SECRET) == [str(tmp_path / "users.txt")]  # the password is nowhere else


@pytest.mark.slow
def test_app_login(tmp_path):
    pytest.importorskip("gradio")
    with _server(["app", "--model", "tiny", "--auth", f"bob:{SECRET}"], tmp_path) as (url, output):
        assert _status(url + "/config") == 401 and _status(url + "/gradio_api/info") == 401
        deadline = time.time() + 30  # the address line is logged just after the server starts answering
        while "login required" not in output() and time.time() < deadline:
            time.sleep(0.2)
        text = output()
    assert "share=True" not in text and "login required" in text and SECRET not in text
