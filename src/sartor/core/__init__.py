"""The core layer: what train, infer, export, deploy, eval and ui share, over the building blocks.

runs: run directory layout, args.json; checkpoints: complete/latest/best checkpoints, --ckpt_dir and
--resume_from_checkpoint resolution; resolve: plug-ins, system prompt, template name, model-dependent defaults;
data: loading the train/validation rows. Import names from the module that defines them (no re-exports here)."""
