"""torch.compile's wrapper keeps the model it wraps as `_orig_mod` (compiling is lazy: nothing compiles here)."""
import torch

from sartor.compat import relied_on
from sartor.compat.torch import compiled_inner


def test_the_compiled_wrapper_gives_back_the_model():
    model = torch.nn.Linear(2, 2)
    assert compiled_inner(torch.compile(model)) is model, relied_on("torch", "torch.compile's module has no _orig_mod")
    assert compiled_inner(model) is None
