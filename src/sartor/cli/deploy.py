"""`sartor deploy`: the OpenAI-compatible server."""
from ..arguments import DeployArguments
from .common import run_command


def main(argv: list[str]) -> None:
    from ..deploy.server import deploy_main

    run_command("deploy", DeployArguments, deploy_main, argv,
                "Serve a model or checkpoint (and LoRA adapters: --adapters name=path ...) with an OpenAI-compatible "
                "API: /v1/chat/completions, /v1/completions, /v1/models, /health.")
