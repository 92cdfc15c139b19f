"""Sampling settings shared by infer, eval, deploy and the chat UI."""
from dataclasses import dataclass

from ..utils.errors import SartorError
from .fields import arg


@dataclass
class GenerationArguments:
    max_new_tokens: int = arg(512, "Most tokens to generate per answer.")
    temperature: float = arg(0.3, "Sampling temperature; 0 means greedy.")
    top_k: int = arg(20, "Sample among the k most likely tokens (0: off).")
    top_p: float = arg(0.7, "Nucleus sampling probability mass.")
    repetition_penalty: float = arg(1.0, "Penalty for repeated tokens (1.0: off).")
    num_beams: int = arg(1, "Beam search width (1: off).")
    stop_words: list[str] = arg([], "Extra strings that end an answer (the template's stop words always apply).")
    stream: bool = arg(True, "Stream answers token by token in interactive chat.")

    def _validate_generation(self) -> None:
        if self.max_new_tokens < 1:
            raise SartorError(f"--max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise SartorError(f"--temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise SartorError(f"--top_p must be in (0, 1], got {self.top_p}")
        if self.num_beams < 1:
            raise SartorError(f"--num_beams must be at least 1, got {self.num_beams}")
