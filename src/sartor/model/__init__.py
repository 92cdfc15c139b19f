from .loader import ModelInfo, get_model_tokenizer, resolve_model_info
from .registry import MODEL_MAPPING, ModelMeta, ModelType, get_model_meta, register_model
from .tiny import ensure_tiny_model, get_tiny_tokenizer
