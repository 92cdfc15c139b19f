"""The terminal chat keeps the conversation, streams each answer piece by piece, and obeys its commands."""
import io

from sartor.infer.chat import chat_loop
from sartor.infer.engine import RequestConfig


class RecordingEngine:
    """Answers 'answer N' in three pieces and records the messages of every request."""

    def __init__(self):
        self.requests: list[list[dict]] = []

    def stream(self, messages, cfg):
        self.requests.append(messages)
        yield from ("ans", "wer ", str(len(self.requests)))


def test_history_streaming_and_commands(monkeypatch, capsys):
    script = "hello\nwhat next?\nclear\nafter clear\nreset-system\nBe terse.\nmulti-line\nline one\nline two#\nexit\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    engine = RecordingEngine()
    chat_loop(engine, RequestConfig(), system="You are Sartor.")
    first, second, third, fourth = engine.requests
    sys_msg = {"role": "system", "content": "You are Sartor."}
    assert first == [sys_msg, {"role": "user", "content": "hello"}]
    assert second == [sys_msg, {"role": "user", "content": "hello"}, {"role": "assistant", "content": "answer 1"},
                      {"role": "user", "content": "what next?"}]  # the conversation so far, with the streamed answer
    assert third == [sys_msg, {"role": "user", "content": "after clear"}]  # 'clear' forgot it
    assert fourth == [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "line one\nline two"}]
    out = capsys.readouterr().out
    assert out.count(">>> ") == 4 and ">>> answer 2\n" in out
