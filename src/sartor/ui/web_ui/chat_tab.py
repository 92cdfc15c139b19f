"""The Chat tab: pick any checkpoint found on disk and chat with it, streaming (the engine of `sartor app`).

The engine lives in the server, keyed by checkpoint: a reloaded page that sends a message to the same
checkpoint finds it loaded (or loads it)."""
import os
import threading
from typing import Any, Iterator, Optional

from ...utils.errors import SartorError
from ..chat_app import to_messages
from .context import Ctx
from .guard import CODE_FLAGS, Policy, check_checkpoint
from .runs import find_checkpoints

_ENGINES: dict[str, Any] = {}  # one loaded checkpoint at a time: abs path -> engine
_LOCK = threading.Lock()


def get_engine(path: str, policy: Policy) -> Any:
    """The inference engine of a checkpoint (loaded once; loading another frees the previous one). Unless the policy
    allows code flags, a checkpoint whose args.json turns code on is refused, and code stays off whatever it says."""
    key = os.path.realpath(path)
    with _LOCK:
        if key not in _ENGINES:
            if not os.path.isdir(key):
                raise SartorError(f"no checkpoint at {path}")
            check_checkpoint(path, policy)
            from ...arguments import InferArguments
            from ...infer.infer_main import prepare_engine

            _ENGINES.clear()
            given = {"ckpt_dir"} if policy.allow_code_flags else {"ckpt_dir", *CODE_FLAGS}
            args = InferArguments(ckpt_dir=key, explicit_flags=frozenset(given))
            engine, _, _ = prepare_engine(args)
            _ENGINES[key] = engine
        return _ENGINES[key]


def build_chat_tab(ctx: Ctx, gr) -> dict:
    from ...infer.engine import RequestConfig

    t, store = ctx.t, ctx.store
    with gr.Row():
        ckpt = gr.Dropdown([], label=t("checkpoint"), allow_custom_value=True, scale=4, elem_id="chat_ckpt")
        refresh = gr.Button(t("refresh"), scale=1, elem_id="chat_refresh")
        load = gr.Button(t("load"), variant="primary", scale=1, elem_id="chat_load")
    status = gr.Markdown(t("not_loaded"), elem_id="chat_status")
    chatbot = gr.Chatbot(label=t("chat"), elem_id="chat_bot", height=360)
    with gr.Row():
        query = gr.Textbox(label=t("message"), elem_id="chat_query", scale=5)
        send = gr.Button(t("send"), variant="primary", elem_id="chat_send", scale=1)
    with gr.Accordion(t("settings"), open=False):
        system = gr.Textbox(label=t("system"), elem_id="chat_system")
        with gr.Row():
            temperature = gr.Slider(0.0, 2.0, value=0.0, step=0.05, label=t("temperature"), elem_id="chat_temperature")
            max_new = gr.Slider(1, 4096, value=256, step=1, label=t("max_new_tokens"), elem_id="chat_max_new_tokens")
    clear = gr.Button(t("clear"), elem_id="chat_clear")

    def choices(current: Optional[str] = None):
        found = find_checkpoints(store)
        value = current if current else (found[0] if found else None)
        return gr.update(choices=found, value=value)

    def on_load(path: Optional[str]) -> str:
        if not path:
            return t("not_loaded")
        try:
            get_engine(store.abs_path(path), store.policy)
        except SartorError as e:
            return f"⚠️ {e}"
        return f"{t('loaded')}: `{path}`"

    def respond(message: str, history: list, path: Optional[str], system_text: str, temp: float,
                max_new_tokens: int) -> Iterator[tuple[str, list, Any]]:
        history = list(history or [])
        if not message or not message.strip():
            yield "", history, gr.skip()
            return
        if not path:
            yield message, history, t("not_loaded")
            return
        try:
            engine = get_engine(store.abs_path(path), store.policy)
        except SartorError as e:
            yield message, history, f"⚠️ {e}"
            return
        cfg = RequestConfig(max_new_tokens=int(max_new_tokens), temperature=float(temp))
        messages = to_messages(history, system_text, message)
        history += [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        answer = ""
        for piece in engine.stream(messages, cfg):
            answer += piece
            history[-1] = {"role": "assistant", "content": answer}
            yield "", history, gr.skip()
        yield "", history, f"{t('loaded')}: `{path}`"

    inputs = [query, chatbot, ckpt, system, temperature, max_new]
    query.submit(respond, inputs, [query, chatbot, status])
    send.click(respond, inputs, [query, chatbot, status])
    clear.click(lambda: ("", []), None, [query, chatbot])
    refresh.click(choices, ckpt, ckpt)
    load.click(on_load, ckpt, status)
    return {"load": (lambda: choices(None), [ckpt]), "select": (choices, ckpt, ckpt)}
