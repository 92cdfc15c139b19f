"""Built-in model entries, one module per group of families. Importing this package fills
`sartor.model.registry.MODEL_MAPPING`."""
from . import qwen, llama, mistral_gemma_phi, deepseek_yi, chinese  # noqa: F401
