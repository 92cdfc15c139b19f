"""`app_main`: a chat web UI over a model or checkpoint, on the same engine as infer and deploy."""
import os
from typing import Any

from ..arguments import AppArguments
from ..utils.logging import get_logger


def app_main(args: AppArguments | None = None, **kwargs: Any) -> None:
    from ..infer.engine import RequestConfig
    from ..infer.infer_main import prepare_engine
    from .chat_app import build_chat_app

    args = args or AppArguments(**kwargs)
    engine, args, ckpt = prepare_engine(args)
    if hasattr(engine, "start"):  # vllm loads here rather than on the first message
        engine.start()
    name = os.path.basename(os.path.normpath(ckpt or args.model))
    demo = build_chat_app(engine, title=f"Sartor chat: {name}", defaults=RequestConfig.from_args(args), system=args.system)
    get_logger().info(f"chat UI on http://{args.server_name}:{args.server_port or 7860}")
    try:
        demo.queue().launch(server_name=args.server_name, server_port=args.server_port, share=args.share,
                            inbrowser=False, show_error=True)
    finally:
        engine.close()
