"""`sartor web-ui`: the training web UI (issue: training web UI)."""
from .common import not_built

main = not_built("web-ui", "the training web UI (issue: training web UI)")
