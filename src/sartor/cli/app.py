"""`sartor app`: the chat web UI."""
from .common import not_built

main = not_built("app", "the chat web UI")
