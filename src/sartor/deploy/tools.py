"""Tool calls in the model's reply: parsing them out, and keeping their raw text out of streamed content."""
import re
import uuid
from typing import Any, Optional

MARKERS = ("<tool_call>", "<|python_tag|>")
_BLOCK = re.compile(r"<tool_call>.*?(?:</tool_call>|$)", re.S)


def can_parse(template: Any) -> bool:
    meta = getattr(template, "meta", None)
    react = getattr(template, "tools_prompt", None) is not None  # --tools_prompt react_*: Action / Action Input
    return hasattr(template, "parse_tool_calls") and (react or getattr(meta, "tool_call_parser", None) is not None)


def parse(template: Any, text: str) -> tuple[Optional[str], list[dict]]:
    """(content without the tool calls, OpenAI tool_calls with ids); no calls -> (text, [])."""
    try:
        calls = template.parse_tool_calls(text)
    except Exception:  # noqa: BLE001 - an unparsable reply is plain content
        calls = []
    if not calls:
        return text, []
    content = _BLOCK.sub("", text)
    if getattr(template, "tools_prompt", None):
        from ..template.react import text_before_actions

        content = text_before_actions(content)
    for marker in MARKERS:
        content = content.split(marker)[0]
    content = content.strip()
    if content.startswith(("{", "[")):  # a bare JSON call (Llama 3.1 style) is the whole reply
        content = ""
    out = [{"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
            "function": {"name": c["function"]["name"], "arguments": c["function"]["arguments"]}} for c in calls]
    return content or None, out


class ToolStream:
    """Streams content but holds back what may be a tool call (a marker, or a reply that opens with JSON),
    to be parsed when the reply ends."""

    def __init__(self) -> None:
        self.text = ""
        self.sent = 0
        self.held = False

    def push(self, piece: str) -> str:
        self.text += piece
        if self.held:
            return ""
        if self.text.lstrip().startswith(("{", "[")):
            self.held = True
            return ""
        cut = len(self.text)
        for marker in MARKERS:
            i = self.text.find(marker, max(0, self.sent - len(marker)))
            if i != -1:
                cut, self.held = min(cut, i), True
        if not self.held:
            cut = self._partial_marker_start()
        out = self.text[self.sent:cut] if cut > self.sent else ""
        self.sent = max(self.sent, cut)
        return out

    def _partial_marker_start(self) -> int:
        """Where a possible beginning of a marker starts at the end of the text (else its length)."""
        for start in range(max(0, len(self.text) - max(map(len, MARKERS)) + 1), len(self.text)):
            tail = self.text[start:]
            if any(m.startswith(tail) for m in MARKERS):
                return start
        # all-whitespace text may still open with JSON
        return self.sent if not self.text.strip() else len(self.text)

    def rest(self) -> str:
        """The content not sent yet (when the reply had no tool call after all)."""
        out = self.text[self.sent:]
        self.sent = len(self.text)
        return out
