// render_template renders Go text/template sources on JSON data, as Ollama's server executes a Modelfile
// TEMPLATE (Go's own text/template package). The tests use it to check Sartor's Ollama templates and its
// Python renderer against the real thing.
//
// stdin: a JSON array of {"template": "...", "data": {...}}; stdout: a JSON array of {"out": "..."} or
// {"error": "..."}, one per case, in order.
package main

import (
	"encoding/json"
	"os"
	"strings"
	"text/template"
)

type request struct {
	Template string      `json:"template"`
	Data     interface{} `json:"data"`
}

type result struct {
	Out   *string `json:"out,omitempty"`
	Error string  `json:"error,omitempty"`
}

func render(r request) result {
	t, err := template.New("modelfile").Option("missingkey=error").Parse(r.Template)
	if err != nil {
		return result{Error: err.Error()}
	}
	var b strings.Builder
	if err := t.Execute(&b, r.Data); err != nil {
		return result{Error: err.Error()}
	}
	out := b.String()
	return result{Out: &out}
}

func main() {
	var requests []request
	dec := json.NewDecoder(os.Stdin)
	if err := dec.Decode(&requests); err != nil {
		os.Stderr.WriteString("render_template: " + err.Error() + "\n")
		os.Exit(2)
	}
	results := make([]result, len(requests))
	for i, r := range requests {
		results[i] = render(r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		os.Exit(1)
	}
}
