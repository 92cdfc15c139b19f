"""The `jinja` template: the tokenizer's own chat_template, with assistant spans found exactly."""
from typing import Any, Optional

from .base import Template
from .errors import TemplateError
from .jinja_env import render_chat_template, special_token_kwargs
from .messages import checked_messages, normalize_tools
from .meta import TemplateMeta
from .react import react_messages, react_stop_words, uses_react
from .rendered import Rendered

JINJA_META = TemplateMeta(template_type="jinja", renderer=None, supports_tools=True,
                          description="the tokenizer's own chat_template")
_PASS_KEYS = ("role", "content", "tool_calls", "reasoning_content", "name", "tool_call_id")


class JinjaTemplate(Template):
    """Renders with `tokenizer.chat_template` (or `chat_template`); labels by rendering prefixes."""

    def __init__(self, tokenizer: Any, chat_template: Optional[str] = None, **kwargs: Any) -> None:
        source = chat_template or getattr(tokenizer, "chat_template", None)
        if isinstance(source, dict):
            source = source.get("default") or next(iter(source.values()), None)
        if not source:
            raise TemplateError("template 'jinja' needs a tokenizer with a chat_template")
        self.chat_template: str = source
        self.template_kwargs = special_token_kwargs(tokenizer)
        self._special = _special_tokens(tokenizer)
        default_system = kwargs.pop("default_system", None)
        super().__init__(JINJA_META, tokenizer, **kwargs)
        self.default_system = default_system
        self.stop_words = self._detect_stop_words() + react_stop_words(self.tools_prompt)

    # -- rendering -----------------------------------------------------------------------------
    def _render(self, messages: list[dict], tools: Optional[list[dict]], add_generation_prompt: bool) -> str:
        plain = [{k: m[k] for k in _PASS_KEYS if k in m} for m in messages]
        return render_chat_template(self.chat_template, plain, tools, add_generation_prompt,
                                    **self.template_kwargs)

    def _with_default_system(self, messages: list[dict]) -> list[dict]:
        if self.default_system is not None and messages and messages[0]["role"] != "system":
            return [{"role": "system", "content": self.default_system}] + messages
        return messages

    def _prepare(self, messages: list[dict], tools: Optional[list[dict]]) -> tuple[list[dict], Optional[list], int]:
        """Messages with the default system (and, with --tools_prompt, rewritten as ReAct), tools, and how many
        messages were put in front."""
        given = checked_messages(messages)
        tool_list = normalize_tools(tools)
        if uses_react(self.tools_prompt, given, tool_list):
            msgs, shift = react_messages(given, tool_list or [], self.tools_prompt, self.default_system)
            return msgs, None, shift
        msgs = self._with_default_system(given)
        return msgs, tool_list, len(msgs) - len(given)

    def render(self, messages: list[dict], tools: Optional[list[dict]] = None,
               add_generation_prompt: bool = False) -> str:
        msgs, tool_list, _ = self._prepare(messages, tools)
        return self._render(msgs, tool_list, add_generation_prompt)

    def render_spans(self, messages: list[dict], tools: Optional[list[dict]] = None,
                     add_generation_prompt: bool = False) -> Rendered:
        msgs, tool_list, shift = self._prepare(messages, tools)
        full = self._render(msgs, tool_list, add_generation_prompt)
        out = Rendered(parts=[full], _length=len(full))
        out.spans = [(s, e, i - shift) for s, e, i in self._find_spans(full, msgs, tool_list)]
        return out

    def _appends_eos(self, text: str, final_span: tuple[int, int, int]) -> bool:
        """The template writes no special token after the final answer (no end-of-turn marker): append EOS."""
        return not any(tok in text[final_span[0]:] for tok in self._special)

    # -- spans ---------------------------------------------------------------------------------
    def _eot_after(self, text: str, pos: int, limit: Optional[int] = None) -> Optional[int]:
        """End of the first special token at or after `pos` separated from it by whitespace only."""
        best = None
        for tok in self._special:
            p = text.find(tok, pos, limit)
            if p >= 0 and not text[pos:p].strip() and (best is None or p < best[0]):
                best = (p, p + len(tok))
        return best[1] if best else None

    def _find_content(self, text: str, content: str, start: int = 0) -> tuple[int, int]:
        """Where the content (as given, else stripped) lies in `text` from `start`; (-1, -1) if absent."""
        for candidate in dict.fromkeys((content, content.strip())):
            if candidate:
                p = text.find(candidate, start)
                if p >= 0:
                    return p, p + len(candidate)
        return -1, -1

    def _first_special_end(self, text: str, start: int) -> Optional[int]:
        hits = [(q, q + len(tok)) for tok in self._special if (q := text.find(tok, start)) >= 0]
        return min(hits)[1] if hits else None

    def _turn_span(self, turn: str, msg: dict) -> int:
        """Length of the labelled part of an assistant turn rendered last: content, tool calls, eot."""
        p, end = self._find_content(turn, msg["content"])
        if p >= 0 and not msg.get("tool_calls"):
            eot_end = self._eot_after(turn, end)
            return eot_end if eot_end is not None else end
        special_end = self._first_special_end(turn, max(end, 0))
        return special_end if special_end is not None else len(turn.rstrip())

    def _find_spans(self, full: str, msgs: list[dict], tools: Optional[list[dict]]) -> list[tuple[int, int, int]]:
        """Per assistant message: render(messages[:i], generation prompt) is the text before it and
        render(messages[:i+1]) holds its turn. Where that does not hold (templates that rewrite earlier
        turns, e.g. drop reasoning), the content is found in order in the full text."""
        spans: list[tuple[int, int, int]] = []
        cursor = 0
        for i, msg in enumerate(msgs):
            if msg["role"] != "assistant":
                continue
            span, start_hint = self._prefix_span(full, msgs, tools, i)
            if span is None or span[0] < cursor:
                span = self._search_span(full, msg, max(cursor, start_hint), i)
            if span[1] > span[0]:
                spans.append((span[0], span[1], i))
            cursor = max(cursor, span[1])
        return spans

    def _prefix_span(self, full: str, msgs: list[dict], tools: Optional[list[dict]],
                     i: int) -> tuple[Optional[tuple[int, int]], int]:
        """The exact span from prefix renderings, or None; plus where the turn starts if known."""
        try:
            before = self._render(msgs[:i], tools, True) if i else ""
            after = self._render(msgs[: i + 1], tools, False)
        except TemplateError:
            return None, 0
        if not full.startswith(before):
            return None, 0
        if not after.startswith(before):
            return None, len(before)
        turn = after[len(before):]
        length = self._turn_span(turn, msg=msgs[i])
        if full[len(before): len(before) + length] != turn[:length]:
            return None, len(before)
        return (len(before), len(before) + length), len(before)

    def _search_span(self, full: str, msg: dict, start: int, i: int) -> tuple[int, int]:
        content = msg["content"]
        if "</think>" in content:  # templates that drop earlier reasoning keep the answer
            content = content.split("</think>")[-1].lstrip("\n")
        if msg.get("tool_calls") or not content.strip():
            end = self._first_special_end(full, start)
            return start, (end if end is not None else start)
        p, end = self._find_content(full, content, start)
        if p < 0:
            raise TemplateError(f"jinja template: cannot find assistant message {i} in the rendered text")
        eot_end = self._eot_after(full, end)
        return p, (eot_end if eot_end is not None else end)

    def _detect_stop_words(self) -> list[str]:
        words = [self.special["EOS"]] if self.special["EOS"] else []
        probe = [{"role": "user", "content": "ping"}, {"role": "assistant", "content": "pong"}]
        try:
            text = self._render(probe, None, False)
        except TemplateError:
            return words
        pos = text.rfind("pong")
        end = self._eot_after(text, pos + 4) if pos >= 0 else None
        if end is not None:
            for tok in self._special:
                if text.endswith(tok, 0, end):
                    words.insert(0, tok)
                    break
        return list(dict.fromkeys(words))


def _special_tokens(tokenizer: Any) -> list[str]:
    """Every special token string of the tokenizer (declared ones and added tokens marked special)."""
    tokens = {str(t) for t in getattr(tokenizer, "all_special_tokens", []) if t}
    for added in getattr(tokenizer, "added_tokens_decoder", {}).values():
        if getattr(added, "special", False) and added.content:
            tokens.add(added.content)
    return sorted(tokens, key=len, reverse=True)
