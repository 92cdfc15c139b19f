"""Interactive terminal chat: multi-turn, streaming, and the commands clear, reset-system, multi-line, exit."""
import sys
from typing import Optional

from .engine import PtEngine, RequestConfig

HELP = ("commands: 'clear' forgets the conversation, 'reset-system' sets a new system prompt, "
        "'multi-line' switches to multi-line input (end a message with '#'), 'single-line' switches back, 'exit' quits")


def _read(prompt: str, multi_line: bool) -> Optional[str]:
    try:
        if not multi_line:
            return input(prompt)
        lines = [input(prompt)]
        while not lines[-1].endswith("#"):
            lines.append(input())
        return "\n".join(lines)[:-1]
    except EOFError:
        return None


def chat_loop(engine: PtEngine, cfg: RequestConfig, system: Optional[str], stream: bool = True) -> None:
    """Read queries from stdin until 'exit' or end of input; answers go to stdout as they are generated."""
    print(HELP, file=sys.stderr)
    history: list[dict] = []
    multi_line = False
    while True:
        query = _read("<<< ", multi_line)
        if query is None or query.strip() == "exit":
            break
        cmd = query.strip()
        if cmd == "clear":
            history = []
            print("(conversation cleared)", file=sys.stderr)
            continue
        if cmd == "reset-system":
            system = _read("system: ", False) or None
            history = []
            continue
        if cmd in ("multi-line", "single-line"):
            multi_line = cmd == "multi-line"
            continue
        if not cmd:
            continue
        messages = ([{"role": "system", "content": system}] if system else []) + history + [{"role": "user", "content": query}]
        print(">>> ", end="", flush=True)
        if stream:
            answer = ""
            for piece in engine.stream(messages, cfg):
                answer += piece
                print(piece, end="", flush=True)
            print()
        else:
            answer = engine.infer([messages], cfg)[0].text
            print(answer)
        history += [{"role": "user", "content": query}, {"role": "assistant", "content": answer}]
