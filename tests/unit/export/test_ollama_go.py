"""Ollama executes a Modelfile TEMPLATE with Go's text/template. Here Go itself renders the templates Sartor
writes (tests/go/render_template.go, built with the Go toolchain: Debian's golang-go), and the prompts must
equal what Sartor's templates render; Sartor's own Python renderer (used at export time) must agree with Go."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from sartor.export.ollama import go_template
from sartor.export.ollama_render import ollama_values, render_go_template
from sartor.template import TemplateError, get_template

from test_ollama_modelfile import CONVERSATIONS, FakeTokenizer, translatable
from test_ollama_render import CHAT

SOURCE = Path(__file__).resolve().parents[2] / "go" / "render_template.go"


@pytest.fixture(scope="module")
def go_render(tmp_path_factory):
    """render(list of (template source, data)) -> list of rendered strings (or {'error': ...}), by Go."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("needs the Go toolchain (apt-get install golang-go), as the README's test command installs")
    out = tmp_path_factory.mktemp("go")
    binary = out / "render_template"
    env = {"GOCACHE": str(out / "cache"), "GOPATH": str(out / "path"), "HOME": str(out), "GO111MODULE": "off",
           "PATH": str(Path(go).parent)}
    subprocess.run([go, "build", "-o", str(binary), str(SOURCE)], check=True, env=env, timeout=300)

    def render(cases: list[tuple[str, dict]]) -> list:
        payload = json.dumps([{"template": t, "data": d} for t, d in cases])
        r = subprocess.run([str(binary)], input=payload, capture_output=True, text=True, check=True, timeout=120)
        return [x["out"] if "out" in x else {"error": x["error"]} for x in json.loads(r.stdout)]

    return render


def test_go_renders_the_syntax_cases_as_our_renderer_does(go_render):
    cases = [
        ('{{- range $i, $m := .Messages }}{{ $last := eq (len (slice $.Messages $i)) 1 }}'
         '{{ $i }}:{{ $m.Role }}{{ if $last }}!{{ else }},{{ end }}{{ end }}', ollama_values(CHAT)),
        ('[INST] {{ if .System }}{{ .System }}\n\n{{ end }}\n{{- range .Messages }}\n'
         '{{- if eq .Role "user" }}{{ .Content }}[/INST] {{ else if eq .Role "assistant" }}{{ .Content }}[INST] '
         '{{ else }}?{{ end }}\n{{- end }}', ollama_values([{"role": "system", "content": "Be kind."}] + CHAT)),
        ('{{ $n := 0 }}{{ range .Messages }}{{ $n = . }}{{ end }}{{ $n }}|{{ or .S "dflt" }}|{{ and .T "y" }}|'
         '{{ not (eq 1 2) }}|{{ eq .T "a" "x" }}|{{ ne 1 1 }}|{{ index .Messages 1 }}|{{ len (slice .Messages 1) }}|'
         '{{ "{{" }}|{{ "a\\"b\\n" }}|{{ gt 2 1 }}', {"Messages": [1, 2, 3], "S": "", "T": "x"}),
        ("{{ range .Messages }}x{{ else }}none{{ end }}", {"Messages": []}),
    ]
    assert go_render(cases) == [render_go_template(t, d) for t, d in cases]


@pytest.mark.parametrize("adds_bos", [False, True], ids=["no-bos", "tokenizer-adds-bos"])
def test_every_translated_template_renders_in_go_as_our_template_does(go_render, adds_bos):
    cases, expected, where = [], [], []
    for name in translatable():
        template = get_template(name, FakeTokenizer(adds_bos))
        source = go_template(template, runtime_bos=adds_bos)
        bos = template.special["BOS"]
        for key, messages in CONVERSATIONS.items():
            try:
                want = template.render(messages, add_generation_prompt=True)
            except TemplateError:
                continue  # a system message for a template without one
            runtime_bos = bos if adds_bos and want.startswith(bos) else ""  # Ollama's runtime adds it
            cases.append((source, ollama_values(messages, template.default_system)))
            expected.append(want.removeprefix(runtime_bos))
            where.append((name, key))
    got = go_render(cases)
    assert len(cases) > 4 * len(translatable()) // 2
    wrong = [(w, g, e) for w, g, e in zip(where, got, expected) if g != e]
    assert not wrong, wrong[:3]
