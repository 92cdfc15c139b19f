"""TemplateMeta: how a built-in template is declared (ms-swift's TEMPLATE_MAPPING shape)."""
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from .base import Template
    from .rendered import Rendered

Renderer = Callable[["Template", list[dict], Optional[list[dict]], bool], "Rendered"]

_PLACEHOLDER = re.compile(r"\{\{([A-Z_0-9]+)\}\}")


def fill(piece: str, **values: Any) -> str:
    """Replace `{{NAME}}` placeholders in one pass (so values are never re-scanned)."""
    if "{{" not in piece:
        return piece
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), piece)


@dataclass
class TemplateMeta:
    """A chat format in pieces. Pieces may hold `{{BOS}}`/`{{EOS}}` (the tokenizer's tokens),
    `{{SYSTEM}}`, `{{QUERY}}`, `{{ROUND}}`/`{{ROUND1}}` (1-based user turn) and `{{ROUND0}}`.

    A conversation renders as: `system_prefix` (or `prefix` with no system), then per message
    `prompt` (user), `tool_prompt` (tool) or `response_prefix` + content + `chat_sep`
    (`suffix` after the last message) for the assistant, then `generation_prompt` when asked
    (else `end`). Loss covers the assistant content from the end of the generation prompt up
    to and including `eot` inside `chat_sep`/`suffix`. A `renderer` replaces all of this for
    formats that pieces cannot express (tool calls, thinking)."""

    template_type: str
    prefix: str = ""
    prompt: str = "{{QUERY}}"
    response_prefix: str = ""
    chat_sep: str = ""
    suffix: str = ""
    eot: Optional[str] = None
    system_prefix: Optional[str] = None
    system_in_query: Optional[str] = None
    default_system: Optional[str] = None
    generation_prompt: Optional[str] = None
    end: str = ""
    always_generation_prompt: bool = False
    tool_prompt: Optional[str] = None
    stop_words: list[str] = field(default_factory=list)
    strip_content: bool = False
    strip_system: bool = False
    drop_history_thinking: bool = False
    auto_bos: bool = False
    strip_composed_query: bool = False
    skip_empty_system: bool = False
    alternate: bool = False
    renderer: Optional[Renderer] = None
    tool_call_parser: Optional[Callable[[str], list[dict]]] = None
    supports_tools: bool = False
    # The official format marks no end of the answer (no end-of-turn token: the model creators' training
    # appended EOS). encode() appends the tokenizer's EOS after the final answer, labelled with it, so a
    # fine-tuned model learns to stop, as ms-swift and LLaMA-Factory do; render() and prompts stay official.
    train_eos: bool = False
    render_options: dict = field(default_factory=dict)
    description: str = ""

    @property
    def gen_prompt(self) -> str:
        """The text that opens the model's reply at inference."""
        return self.response_prefix if self.generation_prompt is None else self.generation_prompt

    @property
    def supports_system(self) -> bool:
        return self.system_prefix is not None or self.system_in_query is not None or self.renderer is not None

    def pieces(self) -> list[str]:
        """Every piece of text, to check which placeholders the template needs."""
        items = [self.prefix, self.prompt, self.response_prefix, self.chat_sep, self.suffix, self.eot,
                 self.system_prefix, self.system_in_query, self.generation_prompt, self.end, self.tool_prompt]
        return [p for p in items if p] + list(self.stop_words)
