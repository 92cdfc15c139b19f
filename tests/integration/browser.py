"""Headless Chromium for UI tests (Debian's chromium and chromedriver, driven by selenium)."""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

CHROME_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1600"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 180.0, proc=None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


@contextlib.contextmanager
def sartor_server(argv: list, cwd, env=None):
    """`python -m sartor <argv> --server_port P` in its own process group; yields its URL once it answers and
    ends the group afterwards."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sartor", *argv, "--server_port", str(port)], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, env=env)
    try:
        wait_http(f"http://127.0.0.1:{port}/", proc=proc)
        yield f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def bot_text(driver, chatbot_id: str) -> str:
    """The last bot message of a gradio Chatbot."""
    from selenium.webdriver.common.by import By

    bots = driver.find_elements(By.CSS_SELECTOR, f"#{chatbot_id} .bot, #{chatbot_id} [data-testid='bot']")
    return bots[-1].text.strip() if bots else ""


def chrome(tmp_path):
    """A headless Chrome WebDriver, or a skip when the browser is not installed."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for flag in CHROME_FLAGS + [f"--user-data-dir={tmp_path / 'chrome-profile'}"]:
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(driver_path), options=opts)
