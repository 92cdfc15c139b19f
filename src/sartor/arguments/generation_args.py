"""Sampling settings shared by infer, eval, deploy and the chat UI."""
from dataclasses import dataclass

from ..utils.errors import SartorError
from .fields import arg


@dataclass(frozen=True)
class SamplingDefaultValues:
    """The one source of the sampling defaults (ms-swift 3.x's): the flags, a request's settings and the server's
    defaults all start from these."""

    max_new_tokens: int = 512
    temperature: float = 0.3
    top_k: int = 20
    top_p: float = 0.7
    repetition_penalty: float = 1.0


SAMPLING = SamplingDefaultValues()


@dataclass
class GenerationArguments:
    max_new_tokens: int = arg(SAMPLING.max_new_tokens, "Most tokens to generate per answer.")
    temperature: float = arg(SAMPLING.temperature, "Sampling temperature; 0 means greedy.")
    top_k: int = arg(SAMPLING.top_k, "Sample among the k most likely tokens (0: off).")
    top_p: float = arg(SAMPLING.top_p, "Nucleus sampling probability mass.")
    repetition_penalty: float = arg(SAMPLING.repetition_penalty, "Penalty for repeated tokens (1.0: off).")
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
