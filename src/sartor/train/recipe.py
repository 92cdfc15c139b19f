"""One recipe for every training method: resolve -> data -> model + tuner -> trainer -> save/push.

sft, pt and each --rlhf_type run this function; what differs between them is one `Method` (train/methods.py):
the template options, how rows are encoded, the model (a reward head or not), the reference model, the collator
and the trainer with its loss. Dry run, resume, the validation split, the hub push and the run directory are
handled here, once, and so alike for every method."""
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..arguments import SftArguments

# the arguments a method trains from: SftArguments (sft), PtArguments (pt) or RLHFArguments (each --rlhf_type)
Args = TypeVar("Args", bound=SftArguments)


@dataclass
class TrainerParts(Generic[Args]):
    """What the recipe has built when a method makes its trainer."""

    args: Args
    model: Any
    tokenizer: Any
    template: Any
    training_args: Any
    train_dataset: Any
    eval_dataset: Any
    model_kwargs: dict
    callbacks: list


class Method(Generic[Args]):
    """One row of the training table, for the arguments class `Args` it trains from. Defaults are SFT's; a method
    overrides what differs."""

    name = "sft"

    def check(self, args: Args) -> None:
        """Option combinations the method does not take (before any work)."""

    def resolved(self, args: Args) -> dict:
        """Values args.json records besides the model's defaults (e.g. a method's default beta)."""
        return {}

    def adjust(self, args: Args, info: Any) -> Args:
        """The arguments once the model is known (before the run directory is made)."""
        return args

    def template_options(self, args: Args) -> dict:
        raise NotImplementedError

    def encode(self, args: Args, template: Any, rows: Any, desc: str, validation: bool) -> Any:
        raise NotImplementedError

    def finish_data(self, args: Args, train: Any, val: Any) -> tuple[Any, Any]:
        """After encoding both splits (statistics, packing)."""
        return train, val

    def model(self, args: Args, info: Any, tokenizer: Any, model_kwargs: dict) -> Any:
        """The model with its tuner applied."""
        import transformers

        from ..model.loader import get_model_tokenizer
        from ..tuners.prepare import prepare_model
        from .loss import set_router_aux_loss

        model, _ = get_model_tokenizer(**model_kwargs, info=info)
        set_router_aux_loss(model, args.router_aux_loss_coef)
        transformers.set_seed(args.seed)  # again: under ZeRO-3 rank 0 alone initialises weights missing from the files
        return prepare_model(model, args)

    def trainer(self, parts: TrainerParts[Args]) -> Any:
        raise NotImplementedError


def run_recipe(args: Args, method: Method[Args]) -> dict:
    """Train `args` with `method`; return best/last checkpoint, best metric and the log history (--dry_run: the plan)."""
    from ..core.checkpoints import resume_checkpoint
    from ..core.data import check_data_args
    from ..core.hub import check_push
    from ..core.resolve import load_custom_register
    from ..core.runs import default_output_dir, write_args

    load_custom_register(args.custom_register_path)
    method.check(args)
    check_push(args)  # a missing hub token or repository id fails here, before any work
    if args.dry_run:  # the plan: resolved arguments, world layout, memory per GPU; reads config files only
        from .plan import print_plan

        return print_plan(args)
    check_data_args(args)  # so does a misspelt dataset, before any download or run directory
    import transformers

    from ..core.data import load_data
    from ..core.resolve import model_kwargs_of, resolve
    from ..model.loader import get_model_tokenizer, resolve_model_info
    from ..template import get_template
    from ..template.registry import check_template_type
    from .callbacks import JsonlLogCallback, ProgressBarCallback, SaveLastCallback
    from .data_sharing import remove_shared_datasets, share_datasets
    from .parallel_flags import check_world_args
    from .processes import check_same_init, init_distributed, main_process_first, offset_rng_by_rank
    from .hub_callback import hub_callbacks
    from .setup import discard_if_failed, make_run_dir, training_attn_impl
    from .training_args import build_training_args

    push_callbacks = hub_callbacks(args)
    world = init_distributed(args.ddp_backend, args.ddp_timeout)
    check_world_args(args, world)
    with main_process_first(local=True):  # a hub download happens once per node
        info = resolve_model_info(args.model, model_type=args.model_type, torch_dtype=args.torch_dtype,
                                  use_hf=args.use_hf, revision=args.model_revision, token=args.hub_token)
        _, tokenizer = get_model_tokenizer(**{**model_kwargs_of(args), "model": info.model_dir,
                                              "model_type": info.model_type}, load_model=False, info=info)
    args = resolve(args, info, tokenizer, **method.resolved(args))
    check_template_type(args.template)  # before the run directory is made
    args = method.adjust(args, info)
    resume = resume_checkpoint(args.resume_from_checkpoint, args.output_dir or default_output_dir(args.model))
    run_dir = make_run_dir(args)
    if world.is_main:
        write_args(run_dir, args, model_dir=info.model_dir, output_path=run_dir)

    with discard_if_failed(run_dir, world.is_main):  # a run that never started leaves no directory behind
        template = get_template(args.template, tokenizer, **method.template_options(args))

        def prepare_data() -> tuple:
            train_rows, val_rows = load_data(args)
            train = method.encode(args, template, train_rows, "encode train", False)
            val = method.encode(args, template, val_rows, "encode val", True)
            return method.finish_data(args, train, val)

        data_cache = f"{run_dir}/.encoded"  # several processes: encoded once per node, loaded by the others
        train_ds, val_ds = share_datasets(prepare_data, data_cache)
        # before the model: under ZeRO-3 from_pretrained must see the DeepSpeed config to load it partitioned
        training_args = build_training_args(args, run_dir, has_eval=val_ds is not None, torch_dtype=args.torch_dtype)
        transformers.set_seed(args.seed)  # the same on every rank: identical initial (LoRA) weights
        model_kwargs = {**model_kwargs_of(args), "model": info.model_dir, "model_type": info.model_type,
                        "torch_dtype": args.torch_dtype, "attn_impl": training_attn_impl(args, info)}
        model = method.model(args, info, tokenizer, model_kwargs)  # from the model resolved above, not found again
        check_same_init(model)
        callbacks = [JsonlLogCallback(run_dir), ProgressBarCallback(), SaveLastCallback(), *push_callbacks]
        trainer = method.trainer(TrainerParts(args, model, tokenizer, template, training_args, train_ds, val_ds,
                                              model_kwargs, callbacks))
    offset_rng_by_rank(args.seed, offset_cpu=not args.group_by_length)  # different dropout on each rank
    trainer.train(resume_from_checkpoint=resume)
    remove_shared_datasets(data_cache)
    return finish(trainer, run_dir)


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


__all__ = ["Method", "TrainerParts", "finish", "run_recipe"]
