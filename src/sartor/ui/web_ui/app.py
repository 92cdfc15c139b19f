"""`sartor web-ui`: one page with Train, Chat, Export and Eval tabs over runs that live on disk."""
import inspect
import os
from typing import Any, Optional

from ...arguments import WebUIArguments
from ...utils.errors import SartorError
from ...utils.lazy import require
from ...utils.logging import get_logger
from .context import Ctx
from .i18n import LANGS, translator
from .jobs import JobStore

CSS = "#train_log textarea, #export_log textarea, #eval_log textarea {font-family: monospace; font-size: 12px}"


def build_web_ui(output_dir: str = "output", lang: str = "en", cwd: Optional[str] = None,
                 allow_code_flags: bool = False):
    """The gradio Blocks page. Commands run in `cwd` (default: the current directory); runs go under output_dir.
    allow_code_flags: let the page pass flags that run code (guard.py); off, they are refused."""
    if lang not in LANGS:
        raise SartorError(f"--lang must be one of {', '.join(LANGS)}, got {lang!r}")
    gr = require("gradio", "ui")
    from .chat_tab import build_chat_tab
    from .eval_tab import build_eval_tab
    from .export_tab import build_export_tab
    from .train_tab import build_train_tab

    ctx = Ctx(store=JobStore(output_dir, cwd, allow_code_flags), t=translator(lang), lang=lang)
    t = ctx.t
    with gr.Blocks(title=t("title")) as demo:
        gr.Markdown(f"## {t('title')}\n{t('subtitle')} `{output_dir}`")
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab(t("tab_train"), id="train", elem_id="tab_train"):
                train = build_train_tab(ctx, gr)
            with gr.Tab(t("tab_chat"), id="chat", elem_id="tab_chat") as chat_tab:
                chat = build_chat_tab(ctx, gr)
            with gr.Tab(t("tab_export"), id="export", elem_id="tab_export") as export_tab:
                export = build_export_tab(ctx, gr)
            with gr.Tab(t("tab_eval"), id="eval", elem_id="tab_eval") as eval_tab:
                evaluate = build_eval_tab(ctx, gr)
        for fn, outputs in [train["load"], chat["load"], *export["loads"], *evaluate["loads"]]:
            demo.load(fn, None, outputs, show_progress="hidden")
        for tab, part in ((chat_tab, chat), (export_tab, export), (eval_tab, evaluate)):
            fn, inputs, outputs = part["select"]
            tab.select(fn, inputs, outputs, show_progress="hidden")
    return demo


def web_ui_main(args: WebUIArguments | None = None, **kwargs: Any) -> None:
    """Serve the training web UI until interrupted. Runs it launched keep going when it stops."""
    from ..launch import auth_pairs, serve

    args = args or WebUIArguments(**kwargs)
    auth_pairs(args.auth, args.auth_file)  # a bad --auth / --auth_file fails before anything loads
    demo = build_web_ui(args.output_dir, args.lang, allow_code_flags=args.allow_code_flags)
    log = get_logger()
    log.info(f"training web UI: runs under {os.path.abspath(args.output_dir)}")
    if args.allow_code_flags:
        log.warning("--allow_code_flags true: the page may pass flags that run code (--custom_register_path, "
                    "--trust_remote_code, ...): whoever reaches it can run any program as you")
    risk = "run any program as you" if args.allow_code_flags else \
        "launch training and inference commands as you, and train on any data file this account can read"
    # gradio 6 takes css at launch, gradio 5 in Blocks
    options = {"css": CSS} if "css" in inspect.signature(demo.launch).parameters else {}
    serve(demo.queue(default_concurrency_limit=4), args, "training web UI", risk, **options)
