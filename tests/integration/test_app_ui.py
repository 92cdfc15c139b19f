"""The chat web UI in headless Chromium: type a message, read the streamed answer back from the page."""
import os
import time
from pathlib import Path

import pytest

from browser import bot_text, chrome, sartor_server

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def trained(quickstart_run):
    pytest.importorskip("gradio")
    return quickstart_run[0]


@pytest.fixture
def app_server(trained):
    with sartor_server(["app", "--ckpt_dir", "output/quickstart", "--temperature", "0", "--max_new_tokens", "48"],
                       cwd=trained) as url:
        yield url


@pytest.mark.slow
def test_chat_page_streams_the_checkpoint_answer(app_server, trained, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from sartor import InferArguments
    from sartor.infer.engine import RequestConfig
    from sartor.infer.infer_main import prepare_engine

    cwd = os.getcwd()
    os.chdir(trained)
    try:
        engine, _, _ = prepare_engine(InferArguments(ckpt_dir="output/quickstart"))
    finally:
        os.chdir(cwd)
    expected = engine.infer([[{"role": "user", "content": "who are you?"}]],
                            RequestConfig(temperature=0, max_new_tokens=48))[0].text.strip()
    assert "Sartor" in expected

    driver = chrome(tmp_path)
    try:
        driver.get(app_server)
        box = None
        for _ in range(120):
            boxes = driver.find_elements(By.CSS_SELECTOR, "#query textarea")
            if boxes:
                box = boxes[0]
                break
            time.sleep(0.5)
        assert box is not None, "the message box did not appear"
        box.send_keys("who are you?")
        box.send_keys(Keys.ENTER)
        text, stable = "", 0
        for _ in range(240):
            time.sleep(0.5)
            now = bot_text(driver, "chatbot")
            stable = stable + 1 if now and now == text else 0
            text = now
            if stable >= 4:
                break
        SHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SHOTS / "app_chat.png"))
        assert text == expected, (text, expected)
    finally:
        driver.quit()
