"""`sartor deploy`: the OpenAI-compatible server."""
from .common import not_built

main = not_built("deploy", "the OpenAI-compatible server")
