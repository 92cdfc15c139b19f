"""`infer_main`: one query, an interactive chat, or generation over a dataset."""
from typing import Any, Optional, TypeVar

from ..arguments import InferArguments
from ..utils.errors import SartorError

# infer, deploy, app or eval (each a kind of InferArguments): prepare_engine returns the class it was given
InferCommand = TypeVar("InferCommand", bound=InferArguments)


def prepare_engine(args: InferCommand) -> tuple[Any, InferCommand, Optional[str]]:
    """Resolve a checkpoint and arguments, load model and template, and build the engine."""
    from ..template import get_template
    from ..template.registry import check_template_type
    from ..core.resolve import choose_template, load_custom_register, read_system
    from .engine import PtEngine
    from .load import ckpt_of, fill_from_checkpoint, is_adapter, load_model_for_inference

    if args.infer_backend == "vllm":
        from .vllm_settings import import_vllm

        import_vllm()  # without vllm: the install hint, before anything is merged or loaded
    ckpt = ckpt_of(args)
    if ckpt:
        args = fill_from_checkpoint(args, ckpt, with_dataset=args.load_dataset_config)
    load_custom_register(args.custom_register_path)  # users' models and templates, before loading
    if args.template:
        check_template_type(args.template)  # a misspelt name fails before the weights load, not after
    if args.merge_lora and ckpt and is_adapter(ckpt):
        from ..core.merge import merge_checkpoint

        ckpt = merge_checkpoint(args, ckpt)
    if not args.model and not ckpt:
        raise SartorError("give --model or --ckpt_dir")
    backend = args.infer_backend
    if backend == "vllm":
        from .vllm_engine import build_vllm_engine

        return build_vllm_engine(args, ckpt), args, ckpt
    if backend != "pt":
        raise SartorError(f"--infer_backend {backend} is not available; use pt or vllm")
    model, tokenizer = load_model_for_inference(args, ckpt)
    info = model.model_info  # resolved once, by the loader
    name = choose_template(args.template, info.template, tokenizer)
    template = get_template(name, tokenizer, default_system=read_system(args.system),
                            tools_prompt=args.tools_prompt)
    engine = PtEngine(model, tokenizer, template, max_batch_size=args.max_batch_size,
                      max_model_len=args.max_model_len)
    return engine, args, ckpt


def infer_main(args: InferArguments | None = None, **kwargs: Any) -> dict:
    """Run inference as the arguments say; returns what was produced."""
    args = args or InferArguments(**kwargs)
    from .reward import reward_checkpoint, reward_main

    if (reward_ckpt := reward_checkpoint(args)) is not None:  # a reward model scores instead of generating
        return reward_main(args, reward_ckpt)
    engine, args, ckpt = prepare_engine(args)
    try:
        return _run(engine, args, ckpt)
    finally:  # stop the batch worker before the interpreter exits (a thread inside torch at exit can abort)
        engine.close()


def _run(engine: Any, args: InferArguments, ckpt: Any) -> dict:
    from ..core.data import validation_rows
    from .chat import chat_loop
    from .dataset_infer import default_result_path, infer_dataset
    from .engine import RequestConfig

    cfg = RequestConfig.from_args(args)
    if args.query is not None:
        messages = [{"role": "user", "content": args.query}]
        answer = engine.infer([messages], cfg)[0].text
        print(answer, flush=True)
        return {"response": answer}
    if args.val_dataset or args.load_dataset_config:
        rows = validation_rows(args)
        path = args.result_path or default_result_path(ckpt, args.model)
        results = infer_dataset(engine, rows, cfg, path)
        print(f"result_path: {path}")
        return {"result_path": path, "results": results}
    chat_loop(engine, cfg, system=None, stream=args.stream)
    return {}
