"""`--to_ollama true`: an Ollama Modelfile beside the exported weights.

The chat template is translated from the template's pieces (TemplateMeta) into Ollama's Go
template syntax, ranging over `.Messages`, so that Ollama builds exactly the prompt our
template renders; the translation is checked on probe conversations before it is written
(`ollama_render` executes the Go template in Python). The Modelfile also carries the template's
stop words, its default system message and the sampling defaults of generation_config.json."""
import json
import re
from pathlib import Path
from typing import Any, Optional

from ..utils.errors import SartorError
from ..utils.logging import get_logger
from .ollama_render import render_go_template, ollama_values

MODELFILE = "Modelfile"
_PLACEHOLDER = re.compile(r"\{\{([A-Z_0-9]+)\}\}")
# generation_config.json name -> Ollama PARAMETER name
_GEN_PARAMS = (("temperature", "temperature"), ("top_p", "top_p"), ("top_k", "top_k"),
               ("repetition_penalty", "repeat_penalty"))

PROBE_CONVERSATIONS = [
    [{"role": "user", "content": "Hello!"}],
    [{"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "Who are you?"}],
    [{"role": "user", "content": "1 + 1?"}, {"role": "assistant", "content": "2"},
     {"role": "user", "content": "And 2 + 2?"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
     {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Bye"}],
]


class OllamaTemplateError(SartorError):
    """The template cannot be written in Ollama's template language."""


def pieces_meta(template: Any) -> Any:
    """The TemplateMeta whose pieces render plain-text conversations like `template` does.

    Templates declared by pieces are their own; a few renderer templates (tools, thinking) reduce
    to pieces once tools are left out. Others raise OllamaTemplateError."""
    from ..template.meta import TemplateMeta

    meta = getattr(template, "meta", None)
    if meta is None:
        raise OllamaTemplateError(f"template {template.template_type!r} (the tokenizer's own jinja template) has no "
                                  "pieces to translate")
    if meta.renderer is None:
        return meta
    name = getattr(meta.renderer, "__name__", "")
    chatml = dict(system_prefix="<|im_start|>system\n{{SYSTEM}}<|im_end|>\n",
                  prompt="<|im_start|>user\n{{QUERY}}<|im_end|>\n", tool_prompt=None,
                  response_prefix="<|im_start|>assistant\n", chat_sep="<|im_end|>\n", suffix="<|im_end|>\n")
    if name == "render_qwen2_5":
        return TemplateMeta(template_type=meta.template_type, default_system=meta.default_system,
                            eot=meta.eot, stop_words=list(meta.stop_words), **chatml)
    if name == "render_qwen3":  # plain-text turns; reasoning of earlier turns is kept as written
        thinking = template.render_options.get("enable_thinking", True)
        return TemplateMeta(template_type=meta.template_type, default_system=meta.default_system,
                            eot=meta.eot, stop_words=list(meta.stop_words), **chatml,
                            generation_prompt=None if thinking else "<|im_start|>assistant\n<think>\n\n</think>\n\n")
    if name == "render_llama3_1" and template.render_options.get("date_string"):
        header = "<|start_header_id|>{}<|end_header_id|>\n\n"
        system = ("{{BOS}}" + header.format("system") + "Cutting Knowledge Date: December 2023\nToday Date: "
                  + template.render_options["date_string"] + "\n\n{{SYSTEM}}<|eot_id|>")
        return TemplateMeta(
            template_type=meta.template_type, default_system=meta.default_system, prefix=system.replace(
                "{{SYSTEM}}", (meta.default_system or "").strip()), system_prefix=system,
            prompt=header.format("user") + "{{QUERY}}<|eot_id|>", response_prefix=header.format("assistant"),
            chat_sep="<|eot_id|>", suffix="<|eot_id|>", eot=meta.eot, stop_words=list(meta.stop_words),
            strip_content=True, strip_system=True)
    raise OllamaTemplateError(f"template {meta.template_type!r} is rendered by code ({name}) that has no Ollama "
                              "translation")


def _go_literal(text: str) -> str:
    """Template text as Go template source: a literal `{{` is written as an action printing it."""
    return text.replace("{{", '{{ "{{" }}')


def _go(piece: Optional[str], special: dict[str, str], **actions: str) -> str:
    """A piece with BOS/EOS filled as literal text and SYSTEM/QUERY as Go actions."""
    out = []
    pos = 0
    piece = piece or ""
    for m in _PLACEHOLDER.finditer(piece):
        out.append(_go_literal(piece[pos:m.start()]))
        name = m.group(1)
        if name in special:
            out.append(_go_literal(special[name]))
        elif name in actions:
            out.append(actions[name])
        else:
            raise OllamaTemplateError(f"placeholder {{{{{name}}}}} (e.g. a round number) cannot be written in "
                                      "Ollama's template language")
        pos = m.end()
    out.append(_go_literal(piece[pos:]))
    return "".join(out)


def tokenizer_adds_bos(tokenizer: Any) -> bool:
    """Whether encoding with special tokens puts BOS first (Ollama's runtime then adds it too)."""
    bos_id = getattr(tokenizer, "bos_token_id", None)
    if bos_id is None:
        return False
    try:
        ids = tokenizer("a", add_special_tokens=True)["input_ids"]
    except Exception:  # noqa: BLE001 - any tokenizer failure just means "no"
        return False
    return bool(ids) and ids[0] == bos_id


def _strip_bos(piece: Optional[str]) -> Optional[str]:
    return piece[len("{{BOS}}"):] if piece and piece.startswith("{{BOS}}") else piece


def go_template(template: Any, runtime_bos: bool = False) -> str:
    """The template in Ollama's Go template syntax, over `.System` and `.Messages`.

    With `runtime_bos` (the tokenizer adds BOS, so Ollama's runtime does too) the template leaves
    out the BOS that would start the prompt. A trailing assistant message is left open, as Ollama
    treats it as the start of the reply."""
    meta = pieces_meta(template)
    special = {"BOS": template.special["BOS"], "EOS": template.special["EOS"]}
    prefix, system_prefix, prompt = meta.prefix, meta.system_prefix, meta.prompt
    first_prompt = prompt
    if runtime_bos:
        prefix, system_prefix = _strip_bos(prefix), _strip_bos(system_prefix)
        if not prefix and not system_prefix:
            first_prompt = _strip_bos(prompt)   # e.g. llama2: [INST] of the first turn starts the prompt
    content = "{{ .Content }}"
    gen = _go(meta.gen_prompt, special)

    def user_turn(prompt_piece: str) -> str:
        if meta.system_prefix is None and meta.system_in_query is not None:
            composed = _go(meta.system_in_query, special, SYSTEM="{{ $.System }}", QUERY=content)
            return ('{{ if and $.System (eq $i 1) }}' + _go(prompt_piece, special, QUERY=composed)
                    + "{{ else }}" + _go(prompt_piece, special, QUERY=content) + "{{ end }}")
        return _go(prompt_piece, special, QUERY=content)

    if first_prompt != prompt:
        user = ("{{ if or (eq $i 0) (and $.System (eq $i 1)) }}" + user_turn(first_prompt) + "{{ else }}"
                + user_turn(prompt) + "{{ end }}")
    else:
        user = user_turn(prompt)
    if system_prefix is not None:
        head = "{{ if $.System }}" + _go(system_prefix, special, SYSTEM="{{ $.System }}")
        head += ("{{ else }}" + _go(prefix, special) if prefix else "") + "{{ end }}"
    else:
        head = _go(prefix, special)
    branches = ['{{ if eq .Role "user" }}' + user + "{{ if $last }}" + gen + "{{ end }}",
                '{{ else if eq .Role "assistant" }}' + _go(meta.response_prefix, special) + content
                + "{{ if not $last }}" + _go(meta.chat_sep, special) + "{{ end }}"]
    if meta.tool_prompt is not None:
        branches.append('{{ else if eq .Role "tool" }}' + _go(meta.tool_prompt, special, QUERY=content)
                        + "{{ if $last }}" + gen + "{{ end }}")
    return (head + "{{ range $i, $_ := .Messages }}{{ $last := eq (len (slice $.Messages $i)) 1 }}"
            + "".join(branches) + "{{ end }}{{ end }}")


def check_translation(template: Any, source: str, runtime_bos: str = "",
                      conversations: Optional[list] = None) -> None:
    """Render probe conversations both ways; raise OllamaTemplateError where they differ."""
    for messages in conversations or PROBE_CONVERSATIONS:
        if messages[0]["role"] == "system" and not pieces_meta(template).supports_system:
            continue
        expected = template.render(messages, add_generation_prompt=True)
        got = runtime_bos + render_go_template(source, ollama_values(messages, template.default_system))
        if got != expected:
            raise OllamaTemplateError(f"the Ollama template of {template.template_type!r} renders {got!r}, but the "
                                      f"template renders {expected!r}")


def _quote(value: str) -> str:
    """A Modelfile value: quoted, in triple quotes where it holds a quote or a line break."""
    if '"""' in value:
        raise OllamaTemplateError(f"cannot write {value!r} in a Modelfile (it contains \"\"\")")
    if '"' in value or "\n" in value or "\r" in value or value.endswith("\\"):
        return '"""' + value + '"""'
    return '"' + value + '"'


def generation_parameters(model_dir: str) -> dict[str, Any]:
    """Sampling defaults from generation_config.json, under Ollama's parameter names."""
    path = Path(model_dir) / "generation_config.json"
    if not path.is_file():
        return {}
    cfg = json.loads(path.read_text(encoding="utf-8"))
    if cfg.get("do_sample") is False and any(k in cfg for k in ("temperature", "top_p", "top_k")):
        return {"temperature": 0}
    out = {}
    for hf_name, ollama_name in _GEN_PARAMS:
        value = cfg.get(hf_name)
        if value is not None:
            out[ollama_name] = value
    return out


def build_modelfile(template: Any, weights: str, generation: Optional[dict] = None) -> str:
    """The Modelfile text: FROM, TEMPLATE, SYSTEM, stop words and sampling parameters."""
    runtime_bos = tokenizer_adds_bos(template.tokenizer)
    bos = template.special["BOS"]
    source = go_template(template, runtime_bos=runtime_bos)
    starts_with_bos = template.render(PROBE_CONVERSATIONS[0], add_generation_prompt=True).startswith(bos)
    if runtime_bos and not starts_with_bos:
        get_logger().warning(f"the tokenizer adds {bos} but template {template.template_type!r} does not start with "
                             "it: Ollama will put it first, as the tokenizer does")
    check_translation(template, source, bos if runtime_bos and starts_with_bos else "")
    lines = [f"FROM {weights}", f"TEMPLATE {_quote(source)}"]
    if template.default_system:
        lines.append(f"SYSTEM {_quote(template.default_system)}")
    for word in template.stop_words:
        lines.append(f"PARAMETER stop {_quote(word)}")
    for name, value in (generation or {}).items():
        lines.append(f"PARAMETER {name} {value}")
    return "\n".join(lines) + "\n"


def write_modelfile(template: Any, out_dir: str, weights_dir: str) -> str:
    """Write <out_dir>/Modelfile pointing at weights_dir (`FROM .` when they are the same folder)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    same = out.resolve() == Path(weights_dir).resolve()
    weights = "." if same else str(Path(weights_dir).resolve())
    if " " in weights:
        weights = _quote(weights)
    text = build_modelfile(template, weights, generation_parameters(weights_dir))
    path = out / MODELFILE
    path.write_text(text, encoding="utf-8")
    get_logger().info(f"Ollama Modelfile written to {path}; create the model with: "
                      f"ollama create <name> -f {path}")
    return str(path)


