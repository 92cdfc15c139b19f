"""`app_main`: a chat web UI over a model or checkpoint, on the same engine as infer and deploy."""
import os
from typing import Any

from ..arguments import AppArguments


def app_main(args: AppArguments | None = None, **kwargs: Any) -> None:
    from ..infer.engine import RequestConfig
    from ..infer.infer_main import prepare_engine
    from .chat_app import build_chat_app
    from .launch import auth_pairs, serve

    args = args or AppArguments(**kwargs)
    auth_pairs(args.auth, args.auth_file)  # a bad --auth / --auth_file fails before anything loads
    engine, args, ckpt = prepare_engine(args)
    if hasattr(engine, "start"):  # vllm loads here rather than on the first message
        engine.start()
    name = os.path.basename(os.path.normpath(ckpt or args.model))
    demo = build_chat_app(engine, title=f"Sartor chat: {name}", defaults=RequestConfig.from_args(args), system=args.system)
    try:
        serve(demo.queue(), args, "chat UI", "chat with the model, using this machine's compute")
    finally:
        engine.close()
