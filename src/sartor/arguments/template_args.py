"""How conversations become token ids and labels."""
from dataclasses import dataclass
from typing import Literal, Optional

from ..utils.errors import SartorError
from .fields import arg


@dataclass
class TemplateArguments:
    template: Optional[str] = arg(None, "Chat template name (see TEMPLATE_MAPPING), or 'jinja' for the tokenizer's own chat_template. Default: the model's registered template.")
    system: Optional[str] = arg(None, "System prompt; overrides the template's default system. A path to a .txt file is read.")
    max_length: Optional[int] = arg(None, "Longest encoded row in tokens (default: the model's max_position_embeddings, capped at 8192).")
    truncation_strategy: Literal["delete", "left", "right"] = arg("delete", "Rows over --max_length: delete them (counted in the log) or cut from the left/right.")
    loss_scale: Literal["default", "last_round", "all"] = arg("default", "Which tokens carry loss: every assistant turn (default), only the last one, or all tokens.")
    tools_prompt: Optional[Literal["react_en", "react_zh"]] = arg(None, "Tools in the ReAct format, for any template (default: the template's own tool format).")
    lazy_tokenize: bool = arg(False, "Encode rows when they are batched instead of before training.")

    def _validate_template(self) -> None:
        if self.max_length is not None and self.max_length < 8:
            raise SartorError(f"--max_length must be at least 8, got {self.max_length}")
