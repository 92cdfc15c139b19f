"""`sartor eval`: evaluation."""
from .common import not_built

main = not_built("eval", "evaluation")
