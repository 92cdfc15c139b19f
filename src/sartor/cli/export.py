"""`sartor export`: merge LoRA (and later quantise, push, Ollama)."""
from ..arguments import ExportArguments
from .common import run_command


def main(argv: list[str]) -> None:
    from ..export.export_main import export_main

    run_command("export", ExportArguments, export_main, argv, "Merge a LoRA checkpoint into a standalone model.")
