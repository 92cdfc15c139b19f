"""The training web UI (`sartor web-ui`): configure, launch and watch runs; chat, export and evaluate."""
from .app import build_web_ui, web_ui_main

__all__ = ["build_web_ui", "web_ui_main"]
