"""The core layer: what train, infer, export, deploy, eval and ui share, over the building blocks.

- runs: the run directory layout and args.json
- checkpoints: complete, latest and best checkpoints; --ckpt_dir and --resume_from_checkpoint resolution
- resolve: users' plug-ins, the system prompt, the template name, model-dependent defaults, loader kwargs
- data: loading the train and validation rows
- hub: pushing a folder to the Hugging Face Hub or ModelScope (train and export)
- world: the process layout the environment asks for (NPROC_PER_NODE, NNODES, ...)
- reward_model: loading a reward model (rlhf trains it, infer scores with it, export merges it)
- merge: merging a LoRA checkpoint into its base, checked on logits (export and infer --merge_lora)
- metrics: ROUGE-L and BLEU-4 of generated answers (eval and training's --predict_with_generate)

Import names from the module that defines them: this package re-exports nothing."""
