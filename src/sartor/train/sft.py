"""`sft_main`: supervised fine-tuning, from arguments to a run directory of checkpoints."""
import dataclasses
from typing import Any

from ..arguments import SftArguments
from ..utils.errors import SartorError
from ..utils.logging import get_logger
from ..core.checkpoints import resume_checkpoint
from ..core.runs import default_output_dir, write_args


def sft_main(args: SftArguments | None = None, **kwargs: Any) -> dict:
    """Train; return best/last checkpoint, best metric and the log history (with --dry_run, the plan)."""
    from ..core.hub import check_push
    from ..core.data import check_data_args
    from ..core.resolve import load_custom_register

    args = args or SftArguments(**kwargs)
    load_custom_register(args.custom_register_path)

    check_push(args)  # a missing hub token or repository id fails here, before any work
    if args.dry_run:  # the plan: resolved arguments, world layout, memory per GPU; reads config files only
        from .memory_estimate import print_plan

        return print_plan(args)
    check_data_args(args)  # so does a misspelt dataset, before any download or run directory
    import transformers

    from .hub_callback import hub_callbacks

    push_callbacks = hub_callbacks(args)

    from ..dataset.collate import build_collator
    from ..dataset.packing import pack_dataset
    from ..dataset.encode import LazyEncodedDataset, encode_dataset, stats
    from ..model.loader import get_model_tokenizer, resolve_model_info, runs_repository_code
    from ..template import get_template
    from ..template.registry import check_template_type
    from ..tuners.prepare import prepare_model
    from .callbacks import JsonlLogCallback, ProgressBarCallback, SaveLastCallback
    from .distributed import (check_same_init, check_world_args, init_distributed, main_process_first,
                              offset_rng_by_rank, remove_shared_datasets, share_datasets)
    from ..core.data import load_data
    from ..core.resolve import model_kwargs_of, resolve
    from .setup import discard_if_failed, make_run_dir, training_attn_impl
    from .trainer import SartorTrainer
    from .training_args import build_training_args

    log = get_logger()
    world = init_distributed(args.ddp_backend, args.ddp_timeout)
    check_world_args(args, world)
    with main_process_first(local=True):  # a hub download happens once per node
        info = resolve_model_info(args.model, model_type=args.model_type, torch_dtype=args.torch_dtype,
                                  use_hf=args.use_hf, revision=args.model_revision, token=args.hub_token)
        _, tokenizer = get_model_tokenizer(**{**model_kwargs_of(args), "model": info.model_dir,
                                              "model_type": info.model_type}, load_model=False)
    args = resolve(args, info, tokenizer)
    check_template_type(args.template)  # before the run directory is made
    if args.packing and runs_repository_code(info, args.trust_remote_code):
        log.warning(f"{args.model} runs its repository's code, whose attention may not honour restarting position "
                    "ids: --packing is off (packed rows would attend to each other)")
        args = dataclasses.replace(args, packing=False)
    resume = resume_checkpoint(args.resume_from_checkpoint, args.output_dir or default_output_dir(args.model))
    run_dir = make_run_dir(args)
    if world.is_main:
        write_args(run_dir, args, model_dir=info.model_dir, output_path=run_dir)

    with discard_if_failed(run_dir, world.is_main):  # a run that never started leaves no directory behind
        template = get_template(args.template, tokenizer, default_system=args.system, max_length=args.max_length,
                                truncation_strategy=args.truncation_strategy, loss_scale=args.loss_scale,
                                tools_prompt=args.tools_prompt)
        if args.lazy_tokenize and args.packing:
            raise SartorError("--packing true needs the data encoded up front: drop --lazy_tokenize")

        def prepare_data() -> tuple:
            train_rows, val_rows = load_data(args)
            if args.lazy_tokenize:
                return (LazyEncodedDataset(train_rows, template),
                        LazyEncodedDataset(val_rows, template) if val_rows is not None else None)
            train_ds = encode_dataset(train_rows, template, args.dataset_num_proc, args.load_from_cache_file, "encode train")
            val_ds = encode_dataset(val_rows, template, args.dataset_num_proc, args.load_from_cache_file, "encode val",
                                    validation=True)
            log.info(f"train data: {stats(train_ds)}; validation data: {stats(val_ds)}")
            if args.packing:
                train_ds = pack_dataset(train_ds, args.max_length)
                val_ds = pack_dataset(val_ds, args.max_length) if val_ds is not None else None
            return train_ds, val_ds

        data_cache = f"{run_dir}/.encoded"  # several processes: encoded once per node, loaded by the others
        train_ds, val_ds = share_datasets(prepare_data, data_cache)

        # before the model: under ZeRO-3 from_pretrained must see the DeepSpeed config to load it partitioned
        training_args = build_training_args(args, run_dir, has_eval=val_ds is not None, torch_dtype=args.torch_dtype)
        transformers.set_seed(args.seed)  # the same on every rank: identical initial (LoRA) weights
        model, _ = get_model_tokenizer(**{**model_kwargs_of(args), "model": info.model_dir, "model_type": info.model_type,
                                          "torch_dtype": args.torch_dtype, "attn_impl": training_attn_impl(args, info)})
        transformers.set_seed(args.seed)  # again: under ZeRO-3 rank 0 alone initialises weights missing from the files
        model = prepare_model(model, args)
        check_same_init(model)
        optimizers = (None, None)
        if args.lorap_lr_ratio and args.train_type == "lora":
            from ..tuners.lora_plus import lora_plus_optimizer

            optimizers = (lora_plus_optimizer(model, training_args, args.lorap_lr_ratio), None)
        evaluator = None
        if args.predict_with_generate and val_ds is not None:
            from .generate_eval import GenerationEvaluator

            evaluator = GenerationEvaluator(template, load_data(args)[1], max_batch_size=args.per_device_eval_batch_size * 8)
        trainer = SartorTrainer(
            generation_evaluator=evaluator,
            model=model, args=training_args, optimizers=optimizers, train_dataset=train_ds, eval_dataset=val_ds, processing_class=tokenizer,
            data_collator=build_collator(tokenizer, padding_free_for(model, args.padding_free), args.packing),
            acc_strategy=args.acc_strategy, activation_offloading=args.activation_offloading,
            callbacks=[JsonlLogCallback(run_dir), ProgressBarCallback(), SaveLastCallback(),
                       *push_callbacks],
        )
    offset_rng_by_rank(args.seed, offset_cpu=not args.group_by_length)  # different dropout on each rank
    trainer.train(resume_from_checkpoint=resume)
    remove_shared_datasets(data_cache)
    return finish(trainer, run_dir)


def padding_free_for(model: Any, requested: bool | None) -> bool:
    """Padding-free batches need a model whose attention masks follow restarting position ids:
    transformers' own model classes do; code from a model repository may not, so it gets padded batches.
    Unset means on with CUDA and off on CPU, where building the block mask costs more than the padding."""
    import torch

    from ..compat.transformers import is_library_model

    if requested is None:
        requested = torch.cuda.is_available()
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    native = is_library_model(type(base))
    if requested and not native:
        get_logger().warning(f"{type(base).__name__} comes from the model's own code: padded batches instead of "
                             "padding-free ones (its attention may not honour restarting position ids)")
    return requested and native


def finish(trainer: Any, run_dir: str) -> dict:
    """Report where everything is (SaveLastCallback saved the last step)."""
    state = trainer.state
    last = f"{run_dir}/checkpoint-{state.global_step}"
    result = {
        "run_dir": run_dir, "last_model_checkpoint": last,
        "best_model_checkpoint": state.best_model_checkpoint or last, "best_metric": state.best_metric,
        "global_step": state.global_step, "log_history": state.log_history,
    }
    if trainer.is_world_process_zero():
        print(f"run_dir: {run_dir}")
        print(f"last_model_checkpoint: {last}")
        print(f"best_model_checkpoint: {result['best_model_checkpoint']}")
    return result
