"""The Go template renderer behaves as Go's text/template on the syntax Ollama templates use."""
import pytest

from sartor.export.ollama_render import GoTemplateError, ollama_values, render_go_template

CHAT = [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Your name?"}]


def test_trim_markers_and_else_if_chains():
    src = ('[INST] {{ if .System }}{{ .System }}\n\n{{ end }}\n{{- range .Messages }}\n'
           '{{- if eq .Role "user" }}{{ .Content }}[/INST] {{ else if eq .Role "assistant" }}{{ .Content }}[INST] '
           '{{ else }}?{{ end }}\n{{- end }}')
    assert render_go_template(src, ollama_values(CHAT)) == "[INST] Hi there[/INST] Hello![INST] Your name?[/INST] "
    with_system = ollama_values([{"role": "system", "content": "Be kind."}] + CHAT)
    # the system message is also one of .Messages: the else branch prints "?" for it
    assert render_go_template(src, with_system) == "[INST] Be kind.\n\n?Hi there[/INST] Hello![INST] Your name?[/INST] "


def test_range_variables_last_message_and_dollar_root():
    src = ('{{- range $i, $m := .Messages }}{{ $last := eq (len (slice $.Messages $i)) 1 }}'
           '{{ $i }}:{{ $m.Role }}{{ if $last }}!{{ else }},{{ end }}{{ end }}')
    assert render_go_template(src, ollama_values(CHAT)) == "0:user,1:assistant,2:user!"


def test_functions_literals_and_assignment():
    data = {"Messages": [1, 2, 3], "S": "", "T": "x"}
    src = ('{{ $n := 0 }}{{ range .Messages }}{{ $n = . }}{{ end }}{{ $n }}|{{ or .S "dflt" }}|{{ and .T "y" }}|'
           '{{ not (eq 1 2) }}|{{ eq .T "a" "x" }}|{{ ne 1 1 }}|{{ index .Messages 1 }}|{{ len (slice .Messages 1) }}|'
           '{{ "{{" }}|{{ "a\\"b\\n" }}|{{ gt 2 1 }}')
    assert render_go_template(src, data) == '3|dflt|y|true|true|false|2|2|{{|a"b\n|true'


def test_range_else_on_empty():
    assert render_go_template("{{ range .Messages }}x{{ else }}none{{ end }}", {"Messages": []}) == "none"


@pytest.mark.parametrize("src", ["{{ .A | printf }}", "{{ with .A }}x{{ end }}", "{{ if .A }}x", "{{ end }}",
                                 "{{ foo .A }}", "{{ else }}", "{{ $undefined }}"])
def test_unsupported_or_malformed_syntax_is_an_error(src):
    with pytest.raises(GoTemplateError):
        render_go_template(src, {"A": 1})


def test_ollama_values_prepends_the_modelfile_system_and_merges_roles():
    values = ollama_values([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], system="S")
    assert values["System"] == "S"
    assert values["Messages"] == [{"Role": "system", "Content": "S"}, {"Role": "user", "Content": "a\n\nb"}]
    own = ollama_values([{"role": "system", "content": "mine"}, {"role": "user", "content": "q"}], system="S")
    assert own["System"] == "mine" and len(own["Messages"]) == 2
