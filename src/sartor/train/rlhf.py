"""`rlhf_main`: preference training (DPO, ORPO, SimPO, CPO, KTO, reward model) into an SFT-style run directory.

Same model loading, tuner, template and dataset pipeline as `sft_main`; chosen and rejected answers are
encoded by the SFT template (see train/preference/data.py), so what the policy is trained on is exactly
what inference shows it. The losses are our own (train/preference/losses.py) on SartorTrainer: TRL 1.16's
trainers re-tokenize text with the tokenizer's chat template, patch the model's forward, and keep ORPO/CPO
in `trl.experimental`."""
import dataclasses
from typing import Any

from ..arguments import RLHFArguments
from ..utils.errors import SartorError
from ..utils.logging import get_logger
from ..core.checkpoints import resume_checkpoint
from ..core.runs import default_output_dir, write_args


def check_rlhf_args(args: Any) -> None:
    """Option combinations preference training does not take."""
    if args.packing or args.padding_free:
        raise SartorError("--packing / --padding_free are not available for rlhf (chosen and rejected must stay whole rows)")
    if args.rlhf_type == "kto" and args.per_device_train_batch_size < 2:
        get_logger().warning("kto estimates its KL reference point from the other rows of a micro-batch: with "
                             "--per_device_train_batch_size 1 it is 0 (use 2 or more)")
    if args.loss_type == "robust" and not 0.0 <= args.label_smoothing < 0.5:
        raise SartorError(f"--loss_type robust needs --label_smoothing in [0, 0.5), got {args.label_smoothing}")
    if args.lazy_tokenize:
        get_logger().info("rlhf encodes its pairs before training: --lazy_tokenize is not used")
    if args.loss_scale != "default":
        get_logger().info(f"rlhf judges the last assistant answer only: --loss_scale {args.loss_scale} is not used")
    if args.rpo_alpha and args.rlhf_type != "dpo":
        get_logger().warning(f"--rpo_alpha applies to dpo only; --rlhf_type {args.rlhf_type} ignores it")


def rlhf_main(args: RLHFArguments | None = None, **kwargs: Any) -> dict:
    """Train with the preference method of --rlhf_type; return best/last checkpoint, best metric and the log history."""
    import transformers

    from ..model.loader import get_model_tokenizer, resolve_model_info
    from ..template import get_template
    from ..template.registry import check_template_type
    from ..tuners.prepare import prepare_model
    from .callbacks import JsonlLogCallback, ProgressBarCallback, SaveLastCallback
    from .distributed import (check_same_init, check_world_args, init_distributed, main_process_first,
                              offset_rng_by_rank, remove_shared_datasets, share_datasets)
    from .preference.data import KTOCollator, PairCollator, PreferenceEncoder, encode_preference_dataset
    from ..core.reward_model import load_reward_model
    from .preference.model import build_reference, disable_dropout
    from .preference.trainer import PreferenceConfig, PreferenceTrainer
    from ..core.data import check_data_args, load_data
    from ..core.resolve import load_custom_register, model_kwargs_of, resolve
    from .setup import discard_if_failed, make_run_dir, training_attn_impl
    from .hub_callback import hub_callbacks
    from .sft import finish
    from .training_args import build_training_args

    args = args or RLHFArguments(**kwargs)
    log = get_logger()
    load_custom_register(args.custom_register_path)
    check_rlhf_args(args)
    push_callbacks = hub_callbacks(args)  # a missing hub token or repository id fails here, before any work
    if args.dry_run:  # the plan, as sft prints it: reads config.json only, downloads no weights
        from .memory_estimate import print_plan

        return print_plan(args)
    check_data_args(args)  # so does a misspelt dataset
    config = PreferenceConfig.from_args(args)
    world = init_distributed(args.ddp_backend, args.ddp_timeout)
    check_world_args(args, world)
    with main_process_first(local=True):  # a hub download happens once per node
        info = resolve_model_info(args.model, model_type=args.model_type, torch_dtype=args.torch_dtype,
                                  use_hf=args.use_hf, revision=args.model_revision, token=args.hub_token)
        _, tokenizer = get_model_tokenizer(**{**model_kwargs_of(args), "model": info.model_dir,
                                              "model_type": info.model_type}, load_model=False)
    args = resolve(args, info, tokenizer, beta=config.beta, loss_type=config.loss_type)
    check_template_type(args.template)  # before the run directory is made
    if args.max_prompt_length is None:
        args = dataclasses.replace(args, max_prompt_length=args.max_length // 2)
    resume = resume_checkpoint(args.resume_from_checkpoint, args.output_dir or default_output_dir(args.model))
    run_dir = make_run_dir(args)
    if world.is_main:
        write_args(run_dir, args, model_dir=info.model_dir, output_path=run_dir)

    with discard_if_failed(run_dir, world.is_main):  # a run that never started leaves no directory behind
        # the SFT template; --max_length applies per pair (see preference/data.fit), the last answer is the one judged
        template = get_template(args.template, tokenizer, default_system=args.system, loss_scale="last_round",
                                tools_prompt=args.tools_prompt)
        encoder = PreferenceEncoder(template, args.rlhf_type, args.max_length, args.max_prompt_length,
                                    args.truncation_strategy)

        def prepare_data() -> tuple:
            train_rows, val_rows = load_data(args)
            opts = dict(num_proc=args.dataset_num_proc, load_from_cache_file=args.load_from_cache_file)
            train = encode_preference_dataset(train_rows, encoder, desc="encode train", **opts)
            val = encode_preference_dataset(val_rows, encoder, desc="encode val", validation=True, **opts)
            if hasattr(train, "num_rows"):
                log.info(f"{args.rlhf_type} rows: train {len(train)}, validation {len(val) if val is not None else 0}")
            return train, val

        data_cache = f"{run_dir}/.encoded"  # several processes: encoded once per node, loaded by the others
        train_ds, val_ds = share_datasets(prepare_data, data_cache)

        # before the model: under ZeRO-3 from_pretrained must see the DeepSpeed config
        training_args = build_training_args(args, run_dir, has_eval=val_ds is not None, torch_dtype=args.torch_dtype)
        transformers.set_seed(args.seed)
        model_kwargs = {**model_kwargs_of(args), "model": info.model_dir, "model_type": info.model_type,
                        "torch_dtype": args.torch_dtype, "attn_impl": training_attn_impl(args, info)}
        if args.rlhf_type == "rm":  # a scalar head on the same base; LoRA saves the head with the adapter
            model = prepare_model(load_reward_model(model_kwargs, info.model_dir, tokenizer.pad_token_id), args,
                                  task_type="SEQ_CLS")
        else:
            model, _ = get_model_tokenizer(**model_kwargs)
            model = prepare_model(model, args)
        check_same_init(model)
        ref_model = build_reference(args.rlhf_type, model, args, model_kwargs)
        disable_dropout(model)
        collator = KTOCollator(tokenizer.pad_token_id) if args.rlhf_type == "kto" else PairCollator(tokenizer.pad_token_id)
        trainer = PreferenceTrainer(
            model=model, args=training_args, train_dataset=train_ds, eval_dataset=val_ds, processing_class=tokenizer,
            data_collator=collator, config=config, ref_model=ref_model, activation_offloading=args.activation_offloading,
            callbacks=[JsonlLogCallback(run_dir), ProgressBarCallback(), SaveLastCallback(),
                       *push_callbacks],
        )
    offset_rng_by_rank(args.seed, offset_cpu=not args.group_by_length)
    trainer.train(resume_from_checkpoint=resume)
    remove_shared_datasets(data_cache)
    return finish(trainer, run_dir)
