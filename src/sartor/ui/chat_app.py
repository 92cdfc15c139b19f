"""A gradio chat page over an inference engine: streaming answers, a system prompt,
generation settings and clear. The page keeps the conversation in the browser session only."""
from typing import Any, Iterator, Optional

from ..infer.engine import RequestConfig
from ..utils.lazy import require


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # gradio 6 may wrap text as [{"type": "text", "text": ...}]
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return str(content)


def to_messages(history: list[dict], system: str, query: str) -> list[dict]:
    """The conversation the template renders: system (if any), past turns, the new query."""
    messages = [{"role": "system", "content": system}] if system and system.strip() else []
    messages += [{"role": m["role"], "content": _content_text(m["content"])} for m in history
                 if m.get("role") in ("user", "assistant")]
    return messages + [{"role": "user", "content": query}]


def build_chat_app(engine: Any, title: str, defaults: RequestConfig, system: Optional[str] = None):
    """The gradio Blocks page; `engine` must offer stream(messages, RequestConfig)."""
    gr = require("gradio", "ui")

    def respond(query: str, history: list, system_text: str, temperature: float, top_p: float,
                max_new_tokens: int) -> Iterator[tuple[str, list]]:
        history = list(history or [])
        if not query or not query.strip():
            yield "", history
            return
        cfg = RequestConfig(max_new_tokens=int(max_new_tokens), temperature=float(temperature), top_p=float(top_p) or 1.0,
                            top_k=defaults.top_k, repetition_penalty=defaults.repetition_penalty, stop=list(defaults.stop))
        messages = to_messages(history, system_text, query)
        history = history + [{"role": "user", "content": query}, {"role": "assistant", "content": ""}]
        answer = ""
        for piece in engine.stream(messages, cfg):
            answer += piece
            history[-1] = {"role": "assistant", "content": answer}
            yield "", history
        yield "", history

    with gr.Blocks(title=title) as demo:
        gr.Markdown(f"## {title}")
        chatbot = gr.Chatbot(label="chat", elem_id="chatbot", height=420)
        with gr.Row():
            query = gr.Textbox(label="message", placeholder="Type a message and press Enter", elem_id="query", scale=5)
            send = gr.Button("Send", variant="primary", elem_id="send", scale=1)
        with gr.Accordion("settings", open=False):
            system_box = gr.Textbox(label="system prompt", value=system or "", elem_id="system")
            temperature = gr.Slider(0.0, 2.0, value=defaults.temperature, step=0.05, label="temperature")
            top_p = gr.Slider(0.05, 1.0, value=defaults.top_p, step=0.05, label="top_p")
            max_new = gr.Slider(1, 4096, value=defaults.max_new_tokens, step=1, label="max new tokens")
        clear = gr.Button("Clear", elem_id="clear")
        inputs = [query, chatbot, system_box, temperature, top_p, max_new]
        query.submit(respond, inputs, [query, chatbot])
        send.click(respond, inputs, [query, chatbot])
        clear.click(lambda: ("", []), None, [query, chatbot])
    return demo
