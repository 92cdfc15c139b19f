"""Interactive chat in a terminal: multi-turn, streaming, and its commands."""
import subprocess
import sys


def test_chat_loop_streams_answers_and_obeys_commands(tmp_path):
    script = "hello\nwhat next?\nclear\nreset-system\nYou are terse.\nmulti-line\nline one\nline two#\nexit\n"
    r = subprocess.run([sys.executable, "-m", "sartor", "infer", "--model", "tiny", "--temperature", "0",
                        "--max_new_tokens", "4"], input=script, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count(">>> ") == 3  # three queries answered: two turns, then one multi-line message
    assert "conversation cleared" in r.stderr
    assert "clear" in r.stderr and "multi-line" in r.stderr and "exit" in r.stderr  # the help line


def test_end_of_input_ends_the_chat(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sartor", "infer", "--model", "tiny", "--max_new_tokens", "2"],
                       input="", capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
