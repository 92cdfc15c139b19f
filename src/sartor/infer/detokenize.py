"""Turning generated token ids into text piece by piece, and cutting the text at stop strings.

Decoding token by token breaks multi-byte characters and the spaces that some tokenizers attach
to the next token, so each step decodes a short window of recent tokens and emits only the text
that the new token added (the method of vLLM and text-generation-inference)."""
from typing import Any, Optional


class IncrementalDetokenizer:
    """Feed token ids one at a time; get back the text each one adds (may be '' while a character is incomplete)."""

    def __init__(self, tokenizer: Any, prompt_ids: Optional[list[int]] = None, skip_special_tokens: bool = True,
                 context: int = 6) -> None:
        self.tokenizer = tokenizer
        self.skip_special_tokens = skip_special_tokens
        # A few prompt tokens as context make the first answer token decode as it would mid-text.
        self.ids: list[int] = list(prompt_ids[-context:]) if prompt_ids else []
        self.prefix_offset = 0
        self.read_offset = len(self.ids)

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=self.skip_special_tokens,
                                     clean_up_tokenization_spaces=False)

    def add(self, token_id: int) -> str:
        self.ids.append(token_id)
        prefix = self._decode(self.ids[self.prefix_offset:self.read_offset])
        full = self._decode(self.ids[self.prefix_offset:])
        if len(full) > len(prefix) and not full.endswith("\ufffd"):
            self.prefix_offset = self.read_offset
            self.read_offset = len(self.ids)
            return full[len(prefix):]
        return ""

    def flush(self) -> str:
        """Whatever is still held back at the end (an incomplete character decodes as U+FFFD)."""
        if self.read_offset >= len(self.ids):
            return ""
        prefix = self._decode(self.ids[self.prefix_offset:self.read_offset])
        full = self._decode(self.ids[self.prefix_offset:])
        self.prefix_offset = self.read_offset = len(self.ids)
        return full[len(prefix):] if len(full) > len(prefix) else ""


def cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """Text up to the first stop string, and whether one was found."""
    cut = len(text)
    for s in stops:
        if s and (i := text.find(s)) != -1:
            cut = min(cut, i)
    return text[:cut], cut < len(text)


class StopStringFilter:
    """Holds back the text that might be the start of a stop string, so a stop string never reaches the user."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self.holdback = max((len(s) for s in self.stops), default=1) - 1
        self.text = ""
        self.sent = 0
        self.stopped = False

    def push(self, piece: str) -> str:
        """The text that is now safe to send."""
        if self.stopped or not piece:
            return ""
        start = max(0, len(self.text) - self.holdback)  # a stop string can only end in the new piece
        self.text += piece
        if self.stops:
            visible, found = cut_at_stop(self.text[start:], self.stops)
            if found:
                self.stopped = True
                self.text = self.text[:start] + visible
                return self._take(len(self.text))
        return self._take(max(self.sent, len(self.text) - self.holdback))

    def finish(self) -> str:
        """The held-back rest, at the end of the answer."""
        return "" if self.stopped else self._take(len(self.text))

    def _take(self, upto: int) -> str:
        out = self.text[self.sent:upto]
        self.sent = max(self.sent, upto)
        return out
