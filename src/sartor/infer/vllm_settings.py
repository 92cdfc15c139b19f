"""vLLM settings: sampling parameters per request, LoRA ranks vLLM accepts, and the adapters it serves.

vllm is imported only inside functions: this module loads without it."""
import itertools
import json
import os
from pathlib import Path
from typing import Any, Optional

from ..utils.errors import SartorError
from ..utils.lazy import require
from .engine import RequestConfig

# The ranks vLLM's LoRAConfig accepts for max_lora_rank (1 only in recent versions, so it is left out).
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)
MAX_LORAS = 8  # LoRA slots vLLM keeps on the GPU at once (more adapters are swapped in as requests need them)


def import_vllm() -> Any:
    """The vllm module, or a SartorError (exit 2) with the install hint."""
    return require("vllm", "vllm")


# -- settings --------------------------------------------------------------------------------------------
def sampling_kwargs(cfg: RequestConfig, max_tokens: int, stop_token_ids: Any = (), stops: Any = ()) -> dict:
    """vLLM `SamplingParams` keyword arguments for one request.

    temperature 0 is greedy (top-k and top-p off); top_k <= 0 means off (-1, which every vLLM
    version accepts); the stop strings never show in the text; logprobs: None (none), 0 (the
    chosen token's) or k (and the k most likely), computed from the raw logits as PtEngine does."""
    greedy = cfg.temperature <= 0
    return dict(
        n=1,
        max_tokens=int(max_tokens),
        temperature=0.0 if greedy else float(cfg.temperature),
        top_p=1.0 if greedy else float(cfg.top_p),
        top_k=-1 if greedy or cfg.top_k <= 0 else int(cfg.top_k),
        repetition_penalty=float(cfg.repetition_penalty),
        presence_penalty=float(cfg.presence_penalty),
        frequency_penalty=float(cfg.frequency_penalty),
        seed=cfg.seed,
        stop=[s for s in dict.fromkeys(stops) if s],
        stop_token_ids=sorted(set(stop_token_ids)),
        include_stop_str_in_output=False,
        skip_special_tokens=True,
        logprobs=int(cfg.top_logprobs or 0) if cfg.logprobs else None,
    )


def make_sampling_params(cfg: RequestConfig, max_tokens: int, stop_token_ids: Any = (), stops: Any = ()) -> Any:
    """vllm.SamplingParams for one request; settings vLLM rejects are a SartorError (a 400 in deploy)."""
    vllm = import_vllm()
    try:
        return vllm.SamplingParams(**sampling_kwargs(cfg, max_tokens, stop_token_ids, stops))
    except (ValueError, TypeError) as e:
        raise SartorError(f"vLLM rejects these sampling settings: {e}") from None


def lora_rank(path: str) -> int:
    """The largest LoRA rank of the adapter at `path` (r, or its rank_pattern's largest); DoRA is refused."""
    config_path = Path(path) / "adapter_config.json"
    if not config_path.is_file():
        raise SartorError(f"{path}: no adapter_config.json there (not a LoRA checkpoint)")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("use_dora"):
        raise SartorError(f"{path} is a DoRA adapter, which vLLM does not serve: merge it first "
                          "(--merge_lora true) or use --infer_backend pt")
    ranks = [int(config.get("r") or 8), *(int(v) for v in (config.get("rank_pattern") or {}).values())]
    return max(ranks)


def vllm_lora_rank(rank: int) -> int:
    """The smallest max_lora_rank vLLM accepts that holds `rank`."""
    for allowed in VLLM_LORA_RANKS:
        if rank <= allowed:
            return allowed
    raise SartorError(f"LoRA rank {rank} is larger than vLLM serves (at most {VLLM_LORA_RANKS[-1]}); "
                      "merge the adapter first (--merge_lora true)")


# -- adapters --------------------------------------------------------------------------------------------
class VllmAdapters:
    """LoRA adapters served through vLLM's LoRA support: the served checkpoint's own (used by requests that
    name none) and named ones (`adapter=name`). Mirrors AdapterSet's `paths` and `names`."""

    def __init__(self, default: Optional[str] = None) -> None:
        self.default = default
        self.paths: dict[str, str] = {}  # named adapters only, as AdapterSet
        self.ranks: dict[str, int] = {}
        self._ids: dict[Optional[str], int] = {}
        self._ids_counter = itertools.count(1)
        if default is not None:
            self.ranks[""] = lora_rank(default)
            self._ids[None] = next(self._ids_counter)

    @property
    def names(self) -> list[str]:
        return list(self.paths)

    @property
    def any(self) -> bool:
        return bool(self.ranks)

    @property
    def max_rank(self) -> int:
        return max(self.ranks.values(), default=0)

    def add(self, name: str, path: str) -> int:
        if not name or name in self.paths:
            raise SartorError(f"adapter name {name!r} is empty or given twice")
        if not os.path.isfile(os.path.join(path, "adapter_config.json")):
            raise SartorError(f"--adapters {name}={path}: no adapter_config.json there (not a LoRA checkpoint)")
        rank = lora_rank(path)
        self.paths[name] = path
        self.ranks[name] = rank
        self._ids[name] = next(self._ids_counter)
        return rank

    def request_for(self, name: Optional[str]) -> Any:
        """vllm's LoRARequest for a request naming `name` (None: the served model; None when it is plain)."""
        if name is not None and name not in self.paths:
            raise SartorError(f"no adapter named {name!r}; loaded: {self.names}")
        path = self.paths[name] if name is not None else self.default
        if path is None:
            return None
        import_vllm()
        from vllm.lora.request import LoRARequest

        label = name if name is not None else os.path.basename(os.path.normpath(path)) or "default"
        return LoRARequest(label, self._ids[name], path)
