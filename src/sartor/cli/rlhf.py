"""`sartor rlhf`: preference training."""
from .common import not_built

main = not_built("rlhf", "preference training")
