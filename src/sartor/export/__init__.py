"""Export: merge LoRA (merge.py), quantise (quantize.py, with quality.py's size and perplexity report),
write an Ollama Modelfile (ollama.py, ollama_render.py) and push to a hub (hub.py); export_main.py runs
them in that order."""
