"""`sartor export`: merge LoRA, quantise, write an Ollama Modelfile, push to a hub."""
from ..arguments import ExportArguments
from .common import run_command


def main(argv: list[str]) -> None:
    from ..export.export_main import export_main

    run_command("export", ExportArguments, export_main, argv, "Merge a LoRA checkpoint, quantise (torchao, hqq, bnb, gptq, awq, fp8), write an Ollama Modelfile, push to a hub.")
