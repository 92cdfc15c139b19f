"""A small renderer for the subset of Go text/template that Ollama Modelfile templates use.

It exists so that a translated TEMPLATE can be checked in Python, without Ollama: at export time
on a probe conversation, and in the tests on many. Supported: text with `{{- -}}` trim markers,
`if / else if / else / end`, `range [$i, $x :=] PIPE / else / end`, `$x := PIPE`, `$x = PIPE`,
fields (`.Role`, `$.System`, `$x.Content`), string/number/bool literals, parentheses and the
functions eq, ne, lt, le, gt, ge, and, or, not, len, slice and index. Anything else is an error,
so a template that uses more than this is noticed rather than rendered wrongly.

`ollama_values` reproduces what the Ollama server hands a chat template: the Modelfile's SYSTEM
prepended when the request has no system message, consecutive messages of one role merged, and
`.System` the joined system messages."""
import re
from dataclasses import dataclass, field
from typing import Any, Optional


class GoTemplateError(ValueError):
    """The template uses Go template syntax outside the supported subset, or is malformed."""


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<raw>`[^`]*`)|(?P<num>-?\d+)|(?P<lp>\()|(?P<rp>\))'
                    r"|(?P<assign>:=|=)|(?P<comma>,)|(?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
                    r"|(?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*))")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


# -- parsing ------------------------------------------------------------------------------------
@dataclass
class _Node:
    kind: str                      # text | output | if | range | assign | declare
    text: str = ""
    expr: Any = None               # parsed pipeline (tokens -> tree)
    var: str = ""                  # for assign/declare
    index_var: Optional[str] = None
    elem_var: Optional[str] = None
    body: list = field(default_factory=list)
    orelse: list = field(default_factory=list)


def _lex(source: str) -> list[tuple[str, str]]:
    """Split into ('text', s) and ('action', s) items, applying trim markers."""
    items: list[tuple[str, str]] = []
    pos = 0
    trim_next = False
    for m in _ACTION.finditer(source):
        text = source[pos:m.start()]
        if trim_next:
            text = text.lstrip(" \t\r\n")
        if m.group(1):
            text = text.rstrip(" \t\r\n")
        if text:
            items.append(("text", text))
        body = m.group(2).strip()
        if body.startswith("/*"):
            pass  # comment
        else:
            items.append(("action", body))
        trim_next = bool(m.group(3))
        pos = m.end()
    tail = source[pos:]
    if trim_next:
        tail = tail.lstrip(" \t\r\n")
    if "{{" in tail:
        raise GoTemplateError(f"unclosed action near {tail[tail.index('{{'):][:30]!r}")
    if tail:
        items.append(("text", tail))
    return items


def _tokens(expr: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    expr = expr.rstrip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise GoTemplateError(f"cannot parse {expr[pos:]!r} in {{{{ {expr} }}}}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _parse_expr(tokens: list, i: int = 0, stop: str = "") -> tuple[Any, int]:
    """A command: one operand, or a function name followed by operands. Returns (tree, next index)."""
    args = []
    while i < len(tokens) and tokens[i][0] != stop:
        kind, value = tokens[i]
        if kind == "lp":
            sub, i = _parse_expr(tokens, i + 1, "rp")
            if i >= len(tokens):
                raise GoTemplateError("unbalanced parentheses")
            args.append(sub)
            i += 1
        elif kind in ("str", "raw"):
            args.append(("lit", _unquote(value)))
            i += 1
        elif kind == "num":
            args.append(("lit", int(value)))
            i += 1
        elif kind == "ident" and value in ("true", "false", "nil"):
            args.append(("lit", {"true": True, "false": False, "nil": None}[value]))
            i += 1
        elif kind in ("ident", "var", "field"):
            args.append((kind, value))
            i += 1
        else:
            raise GoTemplateError(f"unexpected {value!r}")
    if not args:
        raise GoTemplateError("empty expression")
    if args[0][0] == "ident":
        return ("call", args[0][1], args[1:]), i
    if len(args) > 1:
        raise GoTemplateError(f"{len(args)} operands without a function")
    return args[0], i


def _unquote(value: str) -> str:
    if value.startswith("`"):
        return value[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), value[1:-1])


def _pipeline(expr: str) -> Any:
    if "|" in expr:
        raise GoTemplateError(f"pipes ('|') are not supported: {{{{ {expr} }}}}")
    tree, i = _parse_expr(_tokens(expr))
    return tree


def parse(source: str) -> list[_Node]:
    """The template as a tree of nodes."""
    root: list[_Node] = []
    stack: list[tuple[_Node, str]] = []   # (node, which list is open: body/orelse)
    current = root

    def close_to(lst: list) -> None:
        nonlocal current
        current = lst

    for kind, value in _lex(source):
        if kind == "text":
            current.append(_Node("text", text=value))
            continue
        word = value.split(None, 1)[0] if value else ""
        rest = value[len(word):].strip()
        if word == "if":
            node = _Node("if", expr=_pipeline(rest))
            current.append(node)
            stack.append((node, "body"))
            close_to(node.body)
        elif word == "range":
            node = _Node("range")
            m = re.match(r"(\$\w*)\s*(?:,\s*(\$\w*)\s*)?:=\s*(.*)$", rest, re.S)
            if m:
                first, second, rest = m.group(1), m.group(2), m.group(3)
                node.index_var, node.elem_var = (first, second) if second else (None, first)
            node.expr = _pipeline(rest)
            current.append(node)
            stack.append((node, "body"))
            close_to(node.body)
        elif word == "else":
            if not stack or stack[-1][1] != "body":
                raise GoTemplateError("{{ else }} without an open if/range")
            node, _ = stack[-1]
            stack[-1] = (node, "orelse")
            if rest.startswith("if ") or rest == "if":
                inner = _Node("if", expr=_pipeline(rest[2:].strip()))
                node.orelse.append(inner)
                stack.append((inner, "body"))  # closed together with its parent by one {{ end }}
                inner.text = "elseif"
                close_to(inner.body)
            elif rest:
                raise GoTemplateError(f"unsupported {{{{ else {rest} }}}}")
            else:
                close_to(node.orelse)
        elif word == "end":
            if not stack:
                raise GoTemplateError("{{ end }} without an open if/range")
            while True:
                node, _ = stack.pop()
                if node.text != "elseif":
                    break
            if stack:
                parent, which = stack[-1]
                close_to(getattr(parent, which))
            else:
                close_to(root)
        elif word in ("with", "define", "template", "block", "break", "continue"):
            raise GoTemplateError(f"{{{{ {word} }}}} is not supported")
        else:
            m = re.match(r"(\$\w*)\s*(:=|=)\s*(.*)$", value, re.S)
            if m:
                current.append(_Node("declare" if m.group(2) == ":=" else "assign", var=m.group(1),
                                     expr=_pipeline(m.group(3))))
            else:
                current.append(_Node("output", expr=_pipeline(value)))
    if stack:
        raise GoTemplateError("missing {{ end }}")
    return root


# -- evaluation ---------------------------------------------------------------------------------
def _truth(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, (bool, int, float, str, list, tuple, dict)):
        return bool(value)
    return True


def _field(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        return value.get(name)
    return getattr(value, name, None)


def _text(value: Any) -> str:
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _slice(seq: Any, *idx: int) -> Any:
    if len(idx) > 2:
        raise GoTemplateError("slice takes at most 2 indices here")
    start = idx[0] if idx else 0
    stop = idx[1] if len(idx) > 1 else len(seq)
    if not 0 <= start <= stop <= len(seq):
        raise GoTemplateError(f"slice index out of range: {start}:{stop} of {len(seq)}")
    return seq[start:stop]


def _eq(a: Any, *others: Any) -> bool:
    if not others:
        raise GoTemplateError("eq needs at least two arguments")
    return any(a == b for b in others)


_FUNCS = {
    "eq": _eq, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b, "not": lambda a: not _truth(a),
    "len": lambda a: len(a), "slice": _slice, "index": lambda a, *k: _index(a, k),
}


def _index(value: Any, keys: tuple) -> Any:
    for k in keys:
        try:
            value = value[k]
        except (IndexError, KeyError, TypeError):
            raise GoTemplateError(f"index {k!r} out of range") from None
    return value


class _Scope:
    def __init__(self, root: Any) -> None:
        self.frames: list[dict] = [{"$": root}]

    def lookup(self, name: str) -> Any:
        for frame in reversed(self.frames):
            if name in frame:
                return frame[name]
        raise GoTemplateError(f"undefined variable {name}")

    def assign(self, name: str, value: Any) -> None:
        for frame in reversed(self.frames):
            if name in frame:
                frame[name] = value
                return
        raise GoTemplateError(f"undefined variable {name} (assign with := first)")


def _eval(tree: Any, dot: Any, scope: _Scope) -> Any:
    kind = tree[0]
    if kind == "lit":
        return tree[1]
    if kind == "field":
        value = dot
        for name in tree[1].split(".")[1:]:
            if name:
                value = _field(value, name)
        return value
    if kind == "var":
        head, *names = tree[1].split(".")
        value = scope.lookup(head)
        for name in names:
            value = _field(value, name)
        return value
    if kind == "call":
        name, args = tree[1], tree[2]
        if name == "and":
            value = None
            for a in args:
                value = _eval(a, dot, scope)
                if not _truth(value):
                    return value
            return value
        if name == "or":
            value = None
            for a in args:
                value = _eval(a, dot, scope)
                if _truth(value):
                    return value
            return value
        fn = _FUNCS.get(name)
        if fn is None:
            raise GoTemplateError(f"function {name!r} is not supported")
        return fn(*[_eval(a, dot, scope) for a in args])
    if kind == "ident":
        raise GoTemplateError(f"function {tree[1]!r} used as a value")
    raise GoTemplateError(f"cannot evaluate {tree!r}")


def _run(nodes: list[_Node], dot: Any, scope: _Scope, out: list[str]) -> None:
    for node in nodes:
        if node.kind == "text":
            out.append(node.text)
        elif node.kind == "output":
            out.append(_text(_eval(node.expr, dot, scope)))
        elif node.kind == "declare":
            scope.frames[-1][node.var] = _eval(node.expr, dot, scope)
        elif node.kind == "assign":
            scope.assign(node.var, _eval(node.expr, dot, scope))
        elif node.kind == "if":
            branch = node.body if _truth(_eval(node.expr, dot, scope)) else node.orelse
            scope.frames.append({})
            _run(branch, dot, scope, out)
            scope.frames.pop()
        elif node.kind == "range":
            seq = _eval(node.expr, dot, scope)
            items = list(seq.items()) if isinstance(seq, dict) else list(enumerate(seq or []))
            if not items:
                scope.frames.append({})
                _run(node.orelse, dot, scope, out)
                scope.frames.pop()
            for key, item in items:
                frame: dict = {}
                if node.index_var:
                    frame[node.index_var] = key
                if node.elem_var:
                    frame[node.elem_var] = item
                scope.frames.append(frame)
                _run(node.body, item, scope, out)
                scope.frames.pop()


def render_go_template(source: str, data: dict) -> str:
    """Execute `source` (Go text/template subset) on `data` (a dict of Ollama's template values)."""
    out: list[str] = []
    _run(parse(source), data, _Scope(data), out)
    return "".join(out)


def ollama_values(messages: list[dict], system: Optional[str] = None) -> dict:
    """The values Ollama's chat endpoint gives a template that ranges over .Messages.

    `system` is the Modelfile's SYSTEM: Ollama prepends it when the request has no system message.
    Consecutive messages of one role (tool messages excepted) are merged with a blank line."""
    msgs = [{"Role": m["role"], "Content": m.get("content") or ""} for m in messages]
    if system and (not msgs or msgs[0]["Role"] != "system"):
        msgs = [{"Role": "system", "Content": system}] + msgs
    collated: list[dict] = []
    systems = []
    for m in msgs:
        if m["Role"] == "system":
            systems.append(m["Content"])
        if collated and collated[-1]["Role"] == m["Role"] and m["Role"] != "tool":
            collated[-1] = {**collated[-1], "Content": collated[-1]["Content"] + "\n\n" + m["Content"]}
        else:
            collated.append(dict(m))
    return {"System": "\n\n".join(systems), "Messages": collated, "Tools": None, "Response": ""}
