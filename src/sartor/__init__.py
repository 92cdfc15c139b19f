"""Sartor: fine-tune large language models."""
from .version import __version__
