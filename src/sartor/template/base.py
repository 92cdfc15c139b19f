"""Template: renders canonical rows and encodes them into input_ids and labels."""
from typing import Any, Optional, Sequence

from .errors import TemplateError
from .generic import render_generic
from .labels import label_tokens, select_spans, tokenize_batch_with_offsets, truncate
from .messages import checked_messages, normalize_tools
from .meta import TemplateMeta, fill
from .react import check_tools_prompt, parse_react_tool_calls, react_messages, react_stop_words, uses_react
from .rendered import Rendered

LOSS_SCALES = ("default", "last_round", "all")
TRUNCATION_STRATEGIES = ("delete", "left", "right")


class Template:
    """A chat format bound to a tokenizer. `render` gives the text, `encode` ids and labels."""

    def __init__(self, meta: TemplateMeta, tokenizer: Any, default_system: Optional[str] = None,
                 max_length: Optional[int] = None, truncation_strategy: str = "delete",
                 loss_scale: str = "default", tools_prompt: Optional[str] = None) -> None:
        self.tools_prompt = check_tools_prompt(tools_prompt)
        if truncation_strategy not in TRUNCATION_STRATEGIES:
            raise TemplateError(f"truncation_strategy must be one of {TRUNCATION_STRATEGIES}, got {truncation_strategy!r}")
        if loss_scale not in LOSS_SCALES:
            raise TemplateError(f"loss_scale must be one of {LOSS_SCALES}, got {loss_scale!r}")
        if max_length is not None and max_length < 1:
            raise TemplateError(f"max_length must be positive, got {max_length}")
        self.meta = meta
        self.template_type = meta.template_type
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.truncation_strategy = truncation_strategy
        self.loss_scale = loss_scale
        self.render_options: dict[str, Any] = dict(meta.render_options)
        self.default_system = meta.default_system if default_system is None else default_system
        if default_system is not None and not meta.supports_system:
            raise TemplateError(f"template {meta.template_type!r} does not support a system message")
        self.special = {"BOS": getattr(tokenizer, "bos_token", None) or "",
                        "EOS": getattr(tokenizer, "eos_token", None) or ""}
        for name in ("BOS", "EOS"):
            if not self.special[name] and any("{{%s}}" % name in p for p in meta.pieces()):
                raise TemplateError(f"template {meta.template_type!r} needs the tokenizer's "
                                    f"{name.lower()}_token, but the tokenizer has none")
        # every piece with the special tokens filled in, once (pieces without values are filled per message)
        self._filled = {p: fill(p, **self.special) for p in meta.pieces()}
        self.adds_bos = bool(meta.auto_bos and self.special["BOS"]) and _tokenizer_adds_bos(tokenizer)
        self.eots = [e for e in (self.piece("eot"), self.special["EOS"]) if e]
        self.stop_words = self._stop_words() + react_stop_words(self.tools_prompt)

    # -- pieces -------------------------------------------------------------------------------
    def fill(self, piece: Optional[str], **values: Any) -> str:
        """A piece with the tokenizer's special tokens and the given values filled in."""
        if not values and piece in self._filled:
            return self._filled[piece]
        return fill(piece or "", **self.special, **values)

    def piece(self, name: str) -> str:
        """A named piece of the meta (e.g. 'eot', 'gen_prompt') with special tokens filled in."""
        return self.fill(getattr(self.meta, name))

    def _stop_words(self) -> list[str]:
        words = [self.piece("eot")] + [self.fill(w) for w in self.meta.stop_words] + [self.special["EOS"]]
        return list(dict.fromkeys(w for w in words if w))

    # -- rendering -----------------------------------------------------------------------------
    def render_spans(self, messages: list[dict], tools: Optional[list[dict]] = None,
                     add_generation_prompt: bool = False) -> Rendered:
        """The rendered text with the label span of every assistant message."""
        msgs = checked_messages(messages)
        tool_list = normalize_tools(tools)
        if uses_react(self.tools_prompt, msgs, tool_list):
            return self._render_react(msgs, tool_list or [], add_generation_prompt)
        if self.meta.renderer is None:
            return render_generic(self, msgs, tool_list, add_generation_prompt)
        if tool_list and not self.meta.supports_tools:
            raise TemplateError(f"template {self.template_type!r} has no tool format")
        return self.meta.renderer(self, msgs, tool_list, add_generation_prompt, **self.render_options)

    def _render_react(self, msgs: list[dict], tools: list[dict], add_generation_prompt: bool) -> Rendered:
        """--tools_prompt react_*: the tools in the system message, calls and results as text (see react.py)."""
        rewritten, shift = react_messages(msgs, tools, self.tools_prompt, self.default_system)
        if self.meta.renderer is None:
            out = render_generic(self, rewritten, None, add_generation_prompt)
        else:
            out = self.meta.renderer(self, rewritten, None, add_generation_prompt, **self.render_options)
        out.spans = [(s, e, i - shift) for s, e, i in out.spans]
        return out

    def render(self, messages: list[dict], tools: Optional[list[dict]] = None,
               add_generation_prompt: bool = False) -> str:
        """The conversation as text, exactly as the model's own chat template writes it."""
        return self.render_spans(messages, tools, add_generation_prompt).text

    # -- encoding ------------------------------------------------------------------------------
    def encode(self, row: dict) -> Optional[dict]:
        """`{"input_ids", "labels", "length"}` for one canonical row; None when the row is longer than
        max_length and truncation_strategy is 'delete'. The batch-of-one case of `encode_batch`."""
        return self.encode_batch([row])[0]

    def encode_batch(self, rows: Sequence[dict]) -> list[Optional[dict]]:
        """`encode` for many rows: render each, tokenise all texts in one call of the fast tokenizer,
        then label each row's tokens from their character offsets."""
        prepared = [self.training_text(row) for row in rows]
        all_ids, all_offsets = tokenize_batch_with_offsets(self.tokenizer, [text for text, _ in prepared])
        out: list[Optional[dict]] = []
        for ids, offsets, (_, spans) in zip(all_ids, all_offsets, prepared):
            labels = list(ids) if spans is None else label_tokens(ids, offsets, spans)
            result = truncate(ids, labels, self.max_length, self.truncation_strategy)
            out.append(None if result is None else
                       {"input_ids": result[0], "labels": result[1], "length": len(result[0])})
        return out

    def training_text(self, row: dict) -> tuple[str, Optional[list[tuple[int, int]]]]:
        """The text a canonical row trains on and the sorted character spans that carry loss
        (None: every token does, --loss_scale all). Appends EOS after a final answer where the
        template says so (see TemplateMeta.train_eos)."""
        if not isinstance(row, dict) or "messages" not in row:
            raise TemplateError("a row must be a dict with a 'messages' list")
        messages = row["messages"]  # render_spans checks them: roles and loss flags are as given
        rendered = self.render_spans(messages, row.get("tools"))
        text, all_spans = rendered.text, rendered.spans
        eos = getattr(self.tokenizer, "eos_token", None)
        if eos and all_spans and all_spans[-1][2] == len(messages) - 1 and self._appends_eos(text, all_spans[-1]):
            start, _, idx = all_spans[-1]  # the final answer's span runs on through its closing text and EOS
            text += eos
            all_spans = [*all_spans[:-1], (start, len(text), idx)]
        if self.loss_scale == "all":
            return text, None
        return text, select_spans(all_spans, messages, self.loss_scale)

    def _appends_eos(self, text: str, final_span: tuple[int, int, int]) -> bool:
        """Whether training appends EOS after the final answer (see TemplateMeta.train_eos)."""
        return self.meta.train_eos

    def encode_prompt(self, messages: list[dict], tools: Optional[list[dict]] = None) -> list[int]:
        """Token ids of the conversation followed by the generation prompt (for inference)."""
        text = self.render(messages, tools, add_generation_prompt=True)
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def parse_tool_calls(self, text: str) -> list[dict]:
        """Tool calls in a generated reply, as OpenAI `{"type": "function", "function": {...}}` dicts."""
        if self.tools_prompt:
            return parse_react_tool_calls(text)
        if self.meta.tool_call_parser is None:
            raise TemplateError(f"template {self.template_type!r} has no tool-call format")
        return self.meta.tool_call_parser(text)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.template_type!r})"


def _tokenizer_adds_bos(tokenizer: Any) -> bool:
    """Whether the tokenizer puts its BOS token first when it encodes with special tokens."""
    try:
        ids = tokenizer("a", add_special_tokens=True)["input_ids"]
    except Exception:  # noqa: BLE001 - any tokenizer failure just means "no"
        return False
    return bool(ids) and ids[0] == getattr(tokenizer, "bos_token_id", None)
