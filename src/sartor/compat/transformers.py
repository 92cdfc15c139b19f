"""transformers internals Sartor relies on. transformers itself is imported inside each function, never here.

- TrainingArguments' field names, read from the source file without importing the class (seconds of imports)
  so that a misspelt flag is reported at once; and the renamed pair gradient_checkpointing(_kwargs) ->
  activation_checkpointing(_kwargs) under whichever name the installed class takes.
- Trainer: the private methods Sartor's subclasses override or call (`_save_checkpoint`, `get_batch_samples`,
  `_get_output_dir`, `save_model(_internal_call=)`, `_save_optimizer_and_scheduler`, `_save_scaler`,
  `_save_rng_state`, `_push_from_checkpoint`, `_prepare_inputs`), the steps of `_save_checkpoint` that
  AtomicCheckpoints reproduces, and the stateful callbacks' states it writes into trainer_state.json.
- DynamicCache's per-layer key and value tensors (continuous batching edits the rows of a running batch), and
  the forward's cache argument and output (`past_key_values`, `cache` from 5.24).
- Which model configurations scale logits after the output layer (the loss then cannot call decoder and head
  apart), and whether a model class is transformers' own (its attention honours restarting position ids).
- `transformers.utils.is_flash_attn_2_available`.
- A MoE model's router load-balancing loss function (`load_balancing_loss_func` of its modeling module).
- Attention: which implementations a model class accepts (`_supports_*` flags), the class an auto class loads,
  the implementation a loaded model runs, and those whose masks follow restarting position ids."""
import ast
import builtins
import dataclasses
import functools
import inspect
import textwrap
from typing import Any, Optional

from . import UpstreamChanged, relied_on

# -- TrainingArguments --------------------------------------------------------------------------------------------

# deprecated name -> new name (transformers 5.x documents the old ones as aliases, to be removed in v6)
RENAMED_TRAINING_ARGS = {"gradient_checkpointing": "activation_checkpointing",
                         "gradient_checkpointing_kwargs": "activation_checkpointing_kwargs"}


@functools.lru_cache(maxsize=1)
def training_args_fields() -> frozenset[str]:
    """The field names of the installed transformers' TrainingArguments, from the class itself.

    Importing it takes seconds (torch, peft, ...): the parser asks only for a flag that is neither Sartor's own nor
    an older alias (a pass-through TrainingArguments field, or a misspelt flag), so a command line of Sartor's flags
    never pays for it."""
    from transformers import TrainingArguments

    return frozenset(f.name for f in dataclasses.fields(TrainingArguments))


def init_fields() -> frozenset[str]:
    """The fields TrainingArguments(...) takes (imports transformers)."""
    from transformers import TrainingArguments

    return frozenset(f.name for f in dataclasses.fields(TrainingArguments) if f.init)


def rename_training_args(kwargs: dict[str, Any], fields: Optional[frozenset[str]] = None) -> dict[str, Any]:
    """kwargs with each renamed pair under the name the installed TrainingArguments takes: the new name where it
    exists (no deprecation warning), else the old one. Where both names are given, the new name's value wins."""
    fields = init_fields() if fields is None else fields
    out = dict(kwargs)
    for old, new in RENAMED_TRAINING_ARGS.items():
        if old not in out and new not in out:
            continue
        value = out.pop(new) if new in out else out.pop(old)
        out.pop(old, None)
        out[new if new in fields else old] = value
    return out


# -- Trainer: private methods overridden or called ----------------------------------------------------------------

# method -> the parameters relied on, in order. Overridden: AtomicCheckpoints._save_checkpoint (train/checkpoint.py)
# writes checkpoint-N/ whole; SartorTrainer.get_batch_samples (train/trainer.py) counts trained tokens by the
# loss's rule. The others are called by those overrides and by PreferenceTrainer.prediction_step.
TRAINER_OVERRIDES: dict[str, tuple[str, ...]] = {
    "_save_checkpoint": ("model", "trial"),
    "get_batch_samples": ("epoch_iterator", "num_batches", "device"),
}
TRAINER_CALLS: dict[str, tuple[str, ...]] = {
    "_get_output_dir": ("trial",),
    "save_model": ("output_dir", "_internal_call"),
    "_save_optimizer_and_scheduler": ("output_dir",),
    "_save_scaler": ("output_dir",),
    "_save_rng_state": ("output_dir",),
    "_push_from_checkpoint": ("checkpoint_folder",),
    "_prepare_inputs": ("inputs",),
    "store_flos": (),
}
# attributes read or set: `hp_search_backend` (set in __init__, read by _save_checkpoint); `loss_is_scaled_for_ga`
# (documented in the Trainer's docstring; SartorTrainer and PreferenceTrainer set it to say how their losses are
# scaled, so it is checked with the rest)
TRAINER_ATTRIBUTES = ("hp_search_backend", "loss_is_scaled_for_ga")

# What transformers' Trainer._save_checkpoint does, in order (calls on self, and module functions):
# AtomicCheckpoints._save_checkpoint does the same into tmp-checkpoint-N/ and then renames it.
SAVE_CHECKPOINT_STEPS = ("store_flos", "_get_output_dir", "save_model", "_save_optimizer_and_scheduler",
                         "_save_scaler", "_save_rng_state", "state.save_to_json", "_push_from_checkpoint",
                         "rotate_checkpoints")


def _trainer_cls(cls: Any = None) -> Any:
    if cls is None:
        from transformers import Trainer

        cls = Trainer
    return cls


def _params(fn: Any) -> list[str]:
    return [p for p in inspect.signature(fn).parameters if p != "self"]


def trainer_signature_problems(cls: Any = None) -> list[str]:
    """What the installed Trainer lacks of TRAINER_OVERRIDES and TRAINER_CALLS (empty: all there). Milliseconds."""
    cls = _trainer_cls(cls)
    problems = []
    for name, want in {**TRAINER_OVERRIDES, **TRAINER_CALLS}.items():
        fn = getattr(cls, name, None)
        if fn is None:
            problems.append(f"Trainer.{name} is gone")
            continue
        got = _params(fn)
        if got[:len(want)] != list(want):
            problems.append(f"Trainer.{name}{tuple(got)} no longer takes {want}")
    return problems


def trainer_api_problems(cls: Any = None) -> list[str]:
    """trainer_signature_problems, and the attributes of TRAINER_ATTRIBUTES; an override must also still be called by
    the Trainer itself, or it would silently stop doing anything. Reads the Trainer's source (half a second)."""
    cls = _trainer_cls(cls)
    problems = trainer_signature_problems(cls)
    called = trainer_self_calls(cls)
    for name in TRAINER_OVERRIDES:
        if name not in called:
            problems.append(f"Trainer no longer calls self.{name}(...), which Sartor overrides")
    init_sets = _self_assignments(cls.__init__)
    for name in TRAINER_ATTRIBUTES:
        if name not in init_sets and not hasattr(cls, name):
            problems.append(f"Trainer has no attribute {name}")
    return problems


@functools.lru_cache(maxsize=1)
def require_trainer_api() -> None:
    """Raise UpstreamChanged, naming each thing, when a private Trainer method that Sartor's subclasses override or
    call is gone or takes other parameters (checked once per process, when the first Sartor trainer is built)."""
    problems = trainer_signature_problems()
    if problems:
        raise UpstreamChanged(relied_on("transformers", "; ".join(problems)) + ". Sartor's Trainer subclasses "
                              "(train/trainer.py, train/checkpoint.py) need the tested versions: "
                              "pip install 'transformers>=5.23,<5.26'")


def _source_tree(fn: Any) -> ast.AST:
    return ast.parse(textwrap.dedent(inspect.getsource(fn)))


def _dotted(node: ast.AST) -> Optional[str]:
    """'a.b.c' for an attribute chain rooted at a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def trainer_self_calls(cls: Any = None) -> frozenset[str]:
    """Names of the methods the Trainer class's own code calls on `self`."""
    names = set()
    for node in ast.walk(_source_tree(_trainer_cls(cls))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            dotted = _dotted(node.func)
            if dotted and dotted.startswith("self."):
                names.add(dotted[5:])
    return frozenset(names)


def _self_assignments(fn: Any) -> frozenset[str]:
    names = set()
    for node in ast.walk(_source_tree(fn)):
        targets = list(node.targets) if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AnnAssign, ast.AugAssign)) else []
        while targets:
            t = targets.pop()
            if isinstance(t, (ast.Tuple, ast.List)):
                targets.extend(t.elts)
            elif isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                names.add(t.attr)
    return frozenset(names)


def trainer_attributes(cls: Any = None) -> frozenset[str]:
    """Every `self.<name>` the Trainer class's own code assigns (Sartor's subclasses must not reuse these names)."""
    return _self_assignments(_trainer_cls(cls))


def trainer_save_checkpoint_steps(cls: Any = None) -> tuple[str, ...]:
    """What the installed Trainer._save_checkpoint does, in order: its calls on `self` (without `self.`) and of
    module functions, leaving out builtins, environment probes (`is_*`) and barriers of other backends."""
    fn = _trainer_cls(cls)._save_checkpoint
    calls = sorted((n for n in ast.walk(_source_tree(fn)) if isinstance(n, ast.Call)),
                   key=lambda n: (n.lineno, n.col_offset))
    steps: list[str] = []
    for call in calls:
        dotted = _dotted(call.func)
        if dotted is None:
            continue
        if dotted.startswith("self."):
            step = dotted[5:]
            if step.startswith(("args.", "callback_handler.", "accelerator.")):
                continue
        elif "." not in dotted and not dotted.startswith("is_") and not hasattr(builtins, dotted):
            step = dotted
        else:
            continue
        if step not in steps:
            steps.append(step)
    return tuple(steps)


def export_callback_states(trainer: Any) -> None:
    """Put the states of stateful callbacks (early stopping, ...) and of TrainerControl into trainer.state, as
    Trainer._save_checkpoint does before writing trainer_state.json (which resuming reads back)."""
    from transformers.trainer_callback import ExportableState

    state = trainer.state
    for cb in [cb for cb in trainer.callback_handler.callbacks + [trainer.control] if isinstance(cb, ExportableState)]:
        name = cb.__class__.__name__
        if isinstance(state.stateful_callbacks[name], list):
            state.stateful_callbacks[name].append(cb.state())
        else:
            state.stateful_callbacks[name] = cb.state()


# -- the key/value cache ------------------------------------------------------------------------------------------

def cache_layers(cache: Any) -> Optional[list]:
    """The layers of a plain DynamicCache whose rows can be edited (each holds keys and values [batch, heads, seq,
    dim]), or None for any other cache (sliding windows, linear attention, quantised, not yet filled)."""
    from transformers.cache_utils import DynamicCache, DynamicLayer

    if type(cache) is not DynamicCache or not getattr(cache, "layers", None):
        return None
    if not all(type(layer) is DynamicLayer and layer.is_initialized for layer in cache.layers):
        return None
    return list(cache.layers)


def layer_kv(layer: Any) -> tuple[Any, Any]:
    """(keys, values) of one cache layer."""
    return layer.keys, layer.values


def set_layer_kv(layer: Any, keys: Any, values: Any) -> None:
    """Replace one cache layer's keys and values (rows added or removed, columns trimmed)."""
    layer.keys, layer.values = keys, values


def cache_argument(forward_parameters: Any) -> str:
    """The forward's name for the key/value cache: `cache` from transformers 5.24 (`past_key_values` goes in 5.40)."""
    return "cache" if "cache" in forward_parameters else "past_key_values"


def returned_cache(output: Any) -> Any:
    """The key/value cache a forward returned (`cache` from transformers 5.24, `past_key_values` before)."""
    cache = getattr(output, "cache", None)
    return cache if cache is not None else getattr(output, "past_key_values", None)


# -- model classes ------------------------------------------------------------------------------------------------

# configuration attributes with which a causal LM's forward changes the logits after the output layer (soft caps,
# scales, a vocabulary cut, n-gram streams): set to anything but None or 1, the logits are not just
# output_layer(last hidden state). tests/unit/compat/test_transformers_models.py finds them in every model class
# of the installed transformers that has an lm_head.
LOGIT_ADJUSTING_KEYS = (
    "final_logit_softcapping",  # Gemma 2/3/4, PaliGemma, VaultGemma, nanochat, ...
    "logits_soft_cap",  # RecurrentGemma
    "output_logit_soft_cap",  # xLSTM
    "logit_scale",  # Cohere, Aya Vision
    "logits_scaling",  # Granite
    "output_multiplier",  # Muse
    "output_multiplier_scale",  # repository code
    "unpadded_vocab_size",  # Inkling: the logits are cut to the unpadded vocabulary
    "ngram",  # ProphetNet's n-gram streams
)


def _configs(config: Any) -> list:
    """The configuration and, for composite models, its text (decoder) configuration."""
    found = [config]
    get_text = getattr(config, "get_text_config", None)
    if callable(get_text):
        try:
            text = get_text(decoder=True)
        except (TypeError, ValueError):
            text = None
        if text is not None and text is not config:
            found.append(text)
    return found


def logits_are_head_of_hidden(config: Any) -> bool:
    """Whether logits = get_output_embeddings()(get_decoder()(...).last_hidden_state) for a model with this config."""
    return config is not None and all(getattr(c, k, None) in (None, 1, 1.0)
                                      for c in _configs(config) for k in LOGIT_ADJUSTING_KEYS)


def takes_logits_mask(forward: Any) -> bool:
    """Whether a model's forward takes `logits_to_keep`; such a forward (transformers >= 5.23) takes a boolean
    [batch, seq] mask too and returns the kept positions' logits flattened to [kept, vocab]."""
    try:
        return "logits_to_keep" in inspect.signature(forward).parameters
    except (ValueError, TypeError):
        return False


def is_library_model(model_class: type) -> bool:
    """Whether the class is transformers' own (not code from a model repository)."""
    return model_class.__module__.startswith("transformers.models.")


def flash_attn_2_available() -> bool:
    """Whether flash-attention 2 can run here (the package and a supported GPU)."""
    from transformers.utils import is_flash_attn_2_available

    return is_flash_attn_2_available()


# -- mixture-of-experts routers -----------------------------------------------------------------------------------

def router_balance_loss_fn(model: Any) -> Optional[Any]:
    """For a MoE causal LM whose forward adds the router's load-balancing loss, a function (router_logits,
    attention_mask) -> that loss exactly as its forward computes it (unweighted): the modeling module's own
    `load_balancing_loss_func(router_logits, model.num_experts, model.num_experts_per_tok, attention_mask)`, which is
    not in the module's `__all__`. None where the module or the model lacks any of those names."""
    import sys

    module = sys.modules.get(type(model).__module__)
    fn = getattr(module, "load_balancing_loss_func", None)
    experts, top_k = getattr(model, "num_experts", None), getattr(model, "num_experts_per_tok", None)
    if not callable(fn) or not isinstance(experts, int) or not isinstance(top_k, int):
        return None
    if list(inspect.signature(fn).parameters)[:4] != ["gate_logits", "num_experts", "top_k", "attention_mask"]:
        return None
    return lambda router_logits, attention_mask: fn(tuple(router_logits), experts, top_k, attention_mask)


# -- attention implementations ------------------------------------------------------------------------------------

# the implementations whose masks follow restarting position ids without an attention mask (a padding-free
# batch): masking_utils builds the block-diagonal mask for eager, sdpa and flex_attention when no cache is passed;
# flash-attention's varlen kernels read the row starts from the position ids
PACKED_POSITION_ATTN = ("eager", "sdpa", "flex_attention", "flash_attention_2", "flash_attention_3")


def accepted_attn_impls(model_class: Any) -> list[str]:
    """The attention implementations a model class accepts, in transformers' names: eager always, and those its
    `_supports_flash_attn`, `_supports_sdpa` and `_supports_flex_attn` class flags allow."""
    flags = (("_supports_flash_attn", "flash_attention_2"), ("_supports_sdpa", "sdpa"),
             ("_supports_flex_attn", "flex_attention"))
    return ["eager"] + [name for flag, name in flags if getattr(model_class, flag, False) is True]


def model_class_for(config: Any, auto_class: Any = None) -> Optional[type]:
    """The class `auto_class` (default AutoModelForCausalLM) builds for a configuration (its `_model_mapping`);
    None for a configuration it does not map (code from a model repository)."""
    from transformers import AutoModelForCausalLM

    mapping = getattr(auto_class or AutoModelForCausalLM, "_model_mapping", None)
    try:
        return mapping[type(config)] if mapping is not None else None
    except (KeyError, ValueError):
        return None


def attn_implementation(model: Any) -> Optional[str]:
    """The attention implementation a loaded model runs (`config._attn_implementation`)."""
    return getattr(getattr(model, "config", None), "_attn_implementation", None)
