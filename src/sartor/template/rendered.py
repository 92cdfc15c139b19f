"""Rendered text plus the character spans that carry loss, built piece by piece."""
from dataclasses import dataclass, field


@dataclass
class Rendered:
    """A rendered conversation and, per assistant message, the character span it must learn.

    `spans` holds `(start, end, message_index)`; the span covers what the model generates after
    the generation prompt: the assistant content and the end-of-turn token(s) that close it."""

    parts: list[str] = field(default_factory=list)
    spans: list[tuple[int, int, int]] = field(default_factory=list)
    _length: int = 0

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add(self, text: str, label_of: int | None = None) -> None:
        """Append `text`; when `label_of` is a message index the text belongs to its label span."""
        if not text:
            return
        start = self._length
        self.parts.append(text)
        self._length += len(text)
        if label_of is None:
            return
        if self.spans and self.spans[-1][2] == label_of and self.spans[-1][1] == start:
            s, _, idx = self.spans[-1]
            self.spans[-1] = (s, self._length, idx)
        else:
            self.spans.append((start, self._length, label_of))

    def add_turn_end(self, sep: str, eots: list[str], label_of: int | None) -> None:
        """Append the text that closes an assistant turn; the part of `sep` up to and including the
        first end-of-turn string in `eots` is labelled with the turn."""
        hits = [(p, p + len(e)) for e in eots if e and (p := sep.find(e)) >= 0]
        if hits and label_of is not None:
            cut = min(hits)[1]
            self.add(sep[:cut], label_of)
            self.add(sep[cut:])
        else:
            self.add(sep)
