"""Several LoRA adapters over one base model, one active at a time (PEFT's load_adapter/set_adapter)."""
import os
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from ..utils.errors import SartorError

BASE = None  # the adapter name of requests for the served model itself


class AdapterSet:
    """Named adapters loaded next to the model. A request names one (or none: the served model).

    When the served model is itself a LoRA checkpoint (a PeftModel with adapter 'default'), requests
    without an adapter use that one; when it is a plain model, they run with every adapter off."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.paths: dict[str, str] = {}
        self._base_is_plain = not _is_peft(model)
        self._active: Any = object()  # nothing activated yet

    @property
    def names(self) -> list[str]:
        return list(self.paths)

    def add(self, name: str, path: str) -> Any:
        """Load the adapter at `path` as `name`; returns the model (wrapped in a PeftModel the first time)."""
        from peft import PeftModel

        if not name or name in self.paths:
            raise SartorError(f"adapter name {name!r} is empty or given twice")
        if not os.path.isfile(os.path.join(path, "adapter_config.json")):
            raise SartorError(f"--adapters {name}={path}: no adapter_config.json there (not a LoRA checkpoint)")
        if _is_peft(self.model):
            self.model.load_adapter(path, adapter_name=name, is_trainable=False)
        else:
            self.model = PeftModel.from_pretrained(self.model, path, adapter_name=name, is_trainable=False)
        self.model.eval()
        self.paths[name] = path
        self._active = object()
        return self.model

    @contextmanager
    def activate(self, name: Optional[str]) -> Iterator[None]:
        """Make `name` the adapter the next forward passes use (None: the served model)."""
        if name is not BASE and name not in self.paths:
            raise SartorError(f"no adapter named {name!r}")
        if name != self._active and _is_peft(self.model):
            if name is BASE and self._base_is_plain:
                self.model.base_model.disable_adapter_layers()
            else:
                self.model.base_model.enable_adapter_layers()
                self.model.set_adapter(name or "default")
            self._active = name
        yield


def _is_peft(model: Any) -> bool:
    try:
        from peft import PeftModel
    except ImportError:
        return False
    return isinstance(model, PeftModel)
