"""Whether a model trains on padding-free batches."""
from typing import Any

from ..utils.logging import get_logger


def takes_position_ids(model_class: type) -> bool:
    """Whether the model's forward takes position ids: one that does not (BLOOM, whose ALiBi bias comes from the
    attention mask alone) cannot tell flattened or packed rows apart, so they would attend to each other."""
    import inspect

    try:
        return "position_ids" in inspect.signature(model_class.forward).parameters
    except (TypeError, ValueError):
        return True


def why_rows_would_mix(info: Any, trust_remote_code: bool) -> str | None:
    """Before loading (from config.json): why rows sharing one sequence would attend to each other, or None. The
    model runs its repository's code (its attention may not honour restarting position ids), or its transformers
    class takes no position ids."""
    import transformers

    from ..model.loader import runs_repository_code

    if runs_repository_code(info, trust_remote_code):
        return "runs its repository's code, whose attention may not honour restarting position ids"
    names = (getattr(info, "config", None) or {}).get("architectures") or []
    cls = getattr(transformers, names[0], None) if names else None
    if cls is not None and not takes_position_ids(cls):
        return "takes no position ids (its attention cannot tell the rows apart)"
    return None


def padding_free_for(model: Any, requested: bool | None) -> bool:
    """Padding-free batches need a model whose attention masks follow restarting position ids:
    transformers' own model classes do, save those whose forward takes no position ids (BLOOM's ALiBi attention
    builds its bias from the attention mask alone, so a flat row would attend across rows); code from a model
    repository may not, so it gets padded batches.
    Unset means on with CUDA and off on CPU, where building the block mask costs more than the padding."""
    import torch

    from ..compat.transformers import PACKED_POSITION_ATTN, attn_implementation, is_library_model

    if requested is None:
        requested = torch.cuda.is_available()
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    native = is_library_model(type(base))
    if requested and not native:
        get_logger().warning(f"{type(base).__name__} comes from the model's own code: padded batches instead of "
                             "padding-free ones (its attention may not honour restarting position ids)")
    if requested and native and not takes_position_ids(type(base)):
        get_logger().warning(f"{type(base).__name__} takes no position ids: padded batches instead of padding-free "
                             "ones (its attention cannot tell the flattened rows apart)")
        return False
    impl = attn_implementation(base)
    if requested and native and impl is not None and impl not in PACKED_POSITION_ATTN:
        get_logger().warning(f"{type(base).__name__} runs {impl} attention, which does not follow restarting position "
                             "ids: padded batches instead of padding-free ones")
        return False
    return requested and native
