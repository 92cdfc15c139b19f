"""The training table: one row (a `Method`) per training method, all run by train/recipe.py.

| method            | rows encoded as               | collator                   | reference model          | loss, metrics            |
|-------------------|-------------------------------|----------------------------|--------------------------|--------------------------|
| sft, pt           | input_ids + labels (template) | padded / padding-free / packed | none                 | token CE; acc, tokens/s  |
| dpo               | chosen + rejected pairs       | pairs in one batch         | adapter off, copy or --ref_model | dpo (loss_type); rewards/* |
| orpo, simpo, cpo  | chosen + rejected pairs       | pairs in one batch         | none                     | their own; rewards/*     |
| kto               | labelled completions          | completions + KL pairs     | adapter off, copy or --ref_model | kto; rewards/*   |
| rm                | chosen + rejected pairs       | pairs in one batch         | none (a scalar head)     | pairwise; accuracies     |

Adding a method means adding a row here (and its loss), not a copy of an entry point."""
import dataclasses
from typing import Any

from ..arguments import RLHFArguments, SftArguments
from ..utils.errors import SartorError
from ..utils.logging import get_logger
from .recipe import Method, TrainerParts


class SftMethod(Method[SftArguments]):
    """Supervised fine-tuning and continued pre-training (pt: the generation template, loss on every token)."""

    name = "sft"

    def check(self, args: SftArguments) -> None:
        if args.lazy_tokenize and args.packing:
            raise SartorError("--packing true needs the data encoded up front: drop --lazy_tokenize")

    def adjust(self, args: SftArguments, info: Any) -> SftArguments:
        from .padding import why_rows_would_mix

        why = why_rows_would_mix(info, args.trust_remote_code) if args.packing else None
        if why:
            get_logger().warning(f"{args.model} {why}: --packing is off (packed rows would attend to each other)")
            return dataclasses.replace(args, packing=False)
        return args

    def template_options(self, args: SftArguments) -> dict:
        return dict(default_system=args.system, max_length=args.max_length, truncation_strategy=args.truncation_strategy,
                    loss_scale=args.loss_scale, tools_prompt=args.tools_prompt)

    def encode(self, args: SftArguments, template: Any, rows: Any, desc: str, validation: bool) -> Any:
        from ..dataset.encode import LazyEncodedDataset, encode_dataset

        if args.lazy_tokenize:
            return LazyEncodedDataset(rows, template) if rows is not None else None
        return encode_dataset(rows, template, args.dataset_num_proc, args.load_from_cache_file, desc,
                              validation=validation)

    def finish_data(self, args: SftArguments, train: Any, val: Any) -> tuple[Any, Any]:
        if args.lazy_tokenize:
            return train, val
        from ..dataset.encode import stats
        from ..dataset.packing import pack_dataset

        get_logger().info(f"train data: {stats(train)}; validation data: {stats(val)}")
        if args.packing:
            train = pack_dataset(train, args.max_length)
            val = pack_dataset(val, args.max_length) if val is not None else None
        return train, val

    def trainer(self, parts: TrainerParts[SftArguments]) -> Any:
        from ..core.data import load_data
        from ..dataset.collate import build_collator
        from .padding import padding_free_for
        from .trainer import SartorTrainer

        args, model = parts.args, parts.model
        optimizers = (None, None)
        if args.lorap_lr_ratio and args.train_type == "lora":
            from ..tuners.lora_plus import lora_plus_optimizer

            optimizers = (lora_plus_optimizer(model, parts.training_args, args.lorap_lr_ratio), None)
        evaluator = None
        if args.predict_with_generate and parts.eval_dataset is not None:
            from .generate_eval import GenerationEvaluator

            evaluator = GenerationEvaluator(parts.template, load_data(args)[1],
                                            max_batch_size=args.per_device_eval_batch_size * 8)
        return SartorTrainer(
            generation_evaluator=evaluator, model=model, args=parts.training_args, optimizers=optimizers,
            train_dataset=parts.train_dataset, eval_dataset=parts.eval_dataset, processing_class=parts.tokenizer,
            data_collator=build_collator(parts.tokenizer, padding_free_for(model, args.padding_free), args.packing),
            acc_strategy=args.acc_strategy, activation_offloading=args.activation_offloading, callbacks=parts.callbacks)


class PreferenceMethod(Method[RLHFArguments]):
    """dpo, orpo, simpo, cpo, kto and rm: the SFT template encodes chosen and rejected answers (the last answer is
    the one judged); the losses are in train/preference/losses.py."""

    def __init__(self, rlhf_type: str) -> None:
        self.name = rlhf_type

    def check(self, args: RLHFArguments) -> None:
        from .preference.checks import check_rlhf_args

        check_rlhf_args(args)

    def resolved(self, args: RLHFArguments) -> dict:
        from .preference.trainer import PreferenceConfig

        config = PreferenceConfig.from_args(args)
        return {"beta": config.beta, "loss_type": config.loss_type}

    def adjust(self, args: RLHFArguments, info: Any) -> RLHFArguments:
        if args.max_prompt_length is None:
            return dataclasses.replace(args, max_prompt_length=args.max_length // 2)
        return args

    def template_options(self, args: RLHFArguments) -> dict:
        # --max_length applies per pair (see preference/data.fit)
        return dict(default_system=args.system, loss_scale="last_round", tools_prompt=args.tools_prompt)

    def encode(self, args: RLHFArguments, template: Any, rows: Any, desc: str, validation: bool) -> Any:
        from .preference.data import PreferenceEncoder, encode_preference_dataset

        encoder = PreferenceEncoder(template, args.rlhf_type, args.max_length, args.max_prompt_length,
                                    args.truncation_strategy)
        return encode_preference_dataset(rows, encoder, num_proc=args.dataset_num_proc,
                                         load_from_cache_file=args.load_from_cache_file, desc=desc,
                                         validation=validation)

    def finish_data(self, args: RLHFArguments, train: Any, val: Any) -> tuple[Any, Any]:
        if hasattr(train, "num_rows"):
            get_logger().info(f"{args.rlhf_type} rows: train {len(train)}, "
                              f"validation {len(val) if val is not None else 0}")
        return train, val

    def model(self, args: RLHFArguments, info: Any, tokenizer: Any, model_kwargs: dict) -> Any:
        if args.rlhf_type != "rm":
            return super().model(args, info, tokenizer, model_kwargs)
        from ..core.reward_model import load_reward_model
        from ..tuners.prepare import prepare_model

        # a scalar head on the same base; LoRA saves the head with the adapter
        return prepare_model(load_reward_model(model_kwargs, info.model_dir, tokenizer.pad_token_id), args,
                             task_type="SEQ_CLS")

    def trainer(self, parts: TrainerParts[RLHFArguments]) -> Any:
        from .preference.data import KTOCollator, PairCollator
        from .preference.model import build_reference, disable_dropout
        from .preference.trainer import PreferenceConfig, PreferenceTrainer

        args, model, pad = parts.args, parts.model, parts.tokenizer.pad_token_id
        ref_model = build_reference(args.rlhf_type, model, args, parts.model_kwargs)
        disable_dropout(model)
        collator = KTOCollator(pad) if args.rlhf_type == "kto" else PairCollator(pad)
        return PreferenceTrainer(
            model=model, args=parts.training_args, train_dataset=parts.train_dataset, eval_dataset=parts.eval_dataset,
            processing_class=parts.tokenizer, data_collator=collator, config=PreferenceConfig.from_args(args),
            ref_model=ref_model, activation_offloading=args.activation_offloading, callbacks=parts.callbacks)


SFT = SftMethod()
METHODS: dict[str, Method[Any]] = {"sft": SFT, "pt": SFT, **{name: PreferenceMethod(name) for name in
                                                         ("dpo", "orpo", "simpo", "cpo", "kto", "rm")}}


def method_for(name: str) -> Method[Any]:
    if name not in METHODS:
        raise SartorError(f"unknown training method {name!r}: one of {', '.join(METHODS)}")
    return METHODS[name]
