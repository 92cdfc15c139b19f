"""`export_main`: merge LoRA, quantise, write an Ollama Modelfile and push to a hub, in one command.

Every check that can fail without loading a model (flags, token, libraries, GPU, data) runs first.
Then, in order: a LoRA checkpoint is merged (verified against the adapter), the standalone model is
quantised (size and perplexity reported against the unquantised one), a Modelfile is written, and
the result is pushed."""
import dataclasses
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Optional

from ..arguments import ExportArguments
from ..utils.errors import SartorError
from ..utils.logging import get_logger


@dataclasses.dataclass
class _Plan:
    ckpt: Optional[str]
    adapter: bool
    method: Optional[str]
    bits: Optional[int]
    merge_to: Optional[str]        # where the merged model goes ("" = a temporary folder), None: no merge
    quant_to: Optional[str]


def _sibling_or_here(base: str, suffix: str, model: Optional[str]) -> str:
    """<base><suffix> beside a local checkpoint or model folder; ./<name><suffix> for hub ids and 'tiny'."""
    if model is None or os.path.isdir(model):
        return f"{str(base).rstrip('/')}{suffix}"
    return os.path.basename(os.path.normpath(model)) + suffix


def _plan(args: ExportArguments, ckpt: Optional[str], method: Optional[str], bits: Optional[int]) -> _Plan:
    from ..infer.load import is_adapter

    adapter = bool(ckpt and is_adapter(ckpt))
    if not (args.merge_lora or method or args.push_to_hub or args.to_ollama):
        raise SartorError("nothing to export: pass --merge_lora true, --quant_method METHOD, --to_ollama true "
                          "or --push_to_hub true")
    if args.merge_lora and not adapter:
        raise SartorError("--merge_lora needs --ckpt_dir pointing at a LoRA checkpoint (with adapter_config.json)")
    if not ckpt and not args.model:
        raise SartorError("give --ckpt_dir (a checkpoint or run directory) or --model")
    if method and args.to_ollama:
        raise SartorError("--to_ollama imports unquantised safetensors; quantise in Ollama instead: "
                          "export with --to_ollama true, then `ollama create NAME --quantize q4_K_M -f Modelfile`")
    merge_to = None
    if adapter and (args.merge_lora or method or args.to_ollama):
        if method and not args.merge_lora:
            merge_to = ""  # only a step on the way to the quantised model
        elif method:
            merge_to = f"{str(ckpt).rstrip('/')}-merged"
        else:
            merge_to = args.output_dir or f"{str(ckpt).rstrip('/')}-merged"
    quant_to = None
    if method:
        quant_to = args.output_dir or _sibling_or_here(ckpt or args.model, f"-{method}-int{bits}",
                                                       None if ckpt else args.model)
    return _Plan(ckpt=ckpt, adapter=adapter, method=method, bits=bits, merge_to=merge_to, quant_to=quant_to)


def _template_for(args: ExportArguments, model_dir: str, tokenizer: Any, **kwargs: Any):
    from ..model.loader import resolve_model_info
    from ..template import get_template
    from ..core.resolve import choose_template, read_system

    info = resolve_model_info(args.model or model_dir, model_type=args.model_type, torch_dtype=args.torch_dtype,
                              use_hf=args.use_hf, revision=args.model_revision, token=args.hub_token)
    name = choose_template(args.template, info.template, tokenizer)
    return get_template(name, tokenizer, default_system=read_system(args.system),
                        tools_prompt=args.tools_prompt, **kwargs)


def _eval_rows(args: ExportArguments) -> tuple[Any, str]:
    """Validation rows for the perplexity check: --val_dataset, else the validation split of --dataset
    (the checkpoint's own data by default), else built-in rows."""
    from ..dataset import load_dataset
    from ..core.data import load_data
    from .quality import FALLBACK_ROWS

    if not (args.val_dataset or args.dataset):
        return FALLBACK_ROWS, "built-in rows; give --val_dataset for your own"
    try:
        if args.val_dataset:
            val, _ = load_dataset(args.val_dataset, split_dataset_ratio=0.0, data_seed=args.data_seed,
                                  strict=args.strict, columns=args.columns, model_name=args.model_name,
                                  model_author=args.model_author, custom_dataset_info=args.custom_dataset_info,
                                  use_hf=args.use_hf, hub_token=args.hub_token)
            train = None
        else:
            train, val = load_data(args)
    except SartorError as e:
        get_logger().warning(f"cannot load evaluation data ({e}); measuring perplexity on built-in rows")
        return FALLBACK_ROWS, "built-in rows"
    names = " ".join(args.val_dataset or args.dataset)
    if val is not None and len(val):
        return val, names if args.val_dataset else f"the validation split of {names}"
    return train, names


def _calibration(args: ExportArguments, template: Any) -> list[dict]:
    from ..core.data import load_data
    from .quality import encode_rows

    train, _ = load_data(dataclasses.replace(args, val_dataset=[], split_dataset_ratio=0.0))
    rows = encode_rows(template, train, args.quant_n_samples)
    if not rows:
        raise SartorError("no calibration rows: --dataset gave no rows that encode")
    return [{"input_ids": r["input_ids"], "attention_mask": [1] * len(r["input_ids"])} for r in rows]


def _quantise(args: ExportArguments, plan: _Plan, source: str) -> dict:
    from ..model.detect import read_model_config
    from ..model.loader import default_dtype, load_tokenizer
    from .quality import build_report, encode_rows, format_report, model_perplexity, write_report, EVAL_ROWS
    from .quantize import NEEDS_CALIBRATION, quantize_model

    out = str(plan.quant_to)
    if Path(out).resolve() == Path(source).resolve():
        raise SartorError(f"--output_dir {out} is the model being quantised: choose another folder")
    torch_dtype = default_dtype(read_model_config(source, required=True), args.torch_dtype)
    tokenizer = load_tokenizer(source, None, args.trust_remote_code)
    max_length = args.max_length or 2048
    template = _template_for(args, source, tokenizer, max_length=max_length, truncation_strategy="right")
    calibration = _calibration(args, template) if plan.method in NEEDS_CALIBRATION else None
    rows, rows_from = _eval_rows(args)
    encoded = encode_rows(template, rows, EVAL_ROWS)
    ppl_source = model_perplexity(source, encoded, torch_dtype, args.trust_remote_code)
    info = quantize_model(plan.method, plan.bits, source, out, args=args, tokenizer=tokenizer,
                          torch_dtype=torch_dtype, calibration=calibration)
    ppl_quant = model_perplexity(out, encoded, None, args.trust_remote_code)
    label = source if plan.merge_to != "" else f"{plan.ckpt} merged (temporary)"
    report = build_report(plan.method, plan.bits, source, out, ppl_source, ppl_quant, len(encoded), rows_from,
                          torch_dtype, extra={k: v for k, v in info.items() if v is not None})
    report["unquantised"]["path"] = label
    report["report_path"] = write_report(report, out)
    print(format_report(report))
    return report


def _ollama(args: ExportArguments, weights: str, out_dir: str) -> str:
    from ..model.loader import load_tokenizer
    from .ollama import OllamaTemplateError, write_modelfile

    tokenizer = load_tokenizer(weights, None, args.trust_remote_code)
    template = _template_for(args, weights, tokenizer)
    try:
        return write_modelfile(template, out_dir, weights)
    except OllamaTemplateError as e:
        raise SartorError(f"--to_ollama: {e}. Pass --template with a built-in template of this model "
                          "(see sartor.template.TEMPLATE_MAPPING)") from None


def export_main(args: ExportArguments | None = None, **kwargs: Any) -> dict:
    """Export as the arguments say; returns the paths written (and the hub url)."""
    from ..infer.load import ckpt_of, fill_from_checkpoint
    from ..core.runs import read_args
    from ..core.resolve import load_custom_register
    from ..core.hub import check_push, push_folder
    from ..core.merge import merge_checkpoint
    from .quantize import check_quant, default_bits

    args = args or ExportArguments(**kwargs)
    log = get_logger()
    load_custom_register(args.custom_register_path)
    method = args.quant_method                      # the export's own request, before args.json fills anything
    bits = (args.quant_bits or default_bits(method)) if method else None
    ckpt = ckpt_of(args)
    trained_quant: dict = {}
    if ckpt:
        saved = read_args(ckpt) or {}
        trained_quant = {"quant_method": saved.get("quant_method"), "quant_bits": saved.get("quant_bits")}
        args = fill_from_checkpoint(args, ckpt, with_dataset=bool(method))
    args = dataclasses.replace(args, quant_method=None, quant_bits=None)   # models load unquantised here
    plan = _plan(args, ckpt, method, bits)
    target = check_push(args)                       # token and repository before any work
    if method:
        check_quant(method, bits, has_calibration=bool(args.dataset))

    result: dict[str, Any] = {}
    tmp: Optional[str] = None
    try:
        if plan.merge_to is not None:
            tmp = tempfile.mkdtemp(prefix="sartor-merge-") if plan.merge_to == "" else None
            merge_args = dataclasses.replace(args, **{k: v for k, v in trained_quant.items() if v})
            source = merge_checkpoint(merge_args, plan.ckpt, tmp or plan.merge_to)
            if not tmp:
                result["merged_model"] = source
                print(f"merged_model: {source}")
        elif ckpt:
            source = ckpt
        else:
            from ..model.loader import resolve_model_dir

            source = resolve_model_dir(args.model, use_hf=args.use_hf, revision=args.model_revision,
                                       token=args.hub_token)
        final = source
        if plan.method:
            report = _quantise(args, plan, source)
            final = result["quantized_model"] = report["quantised"]["path"]
            result["report"] = report
            print(f"quantized_model: {final}")
        if args.to_ollama:
            written_here = "merged_model" in result
            out_dir = final if written_here else (
                args.output_dir or _sibling_or_here(source, "-ollama", None if ckpt else args.model))
            result["modelfile"] = _ollama(args, final, out_dir)
            print(f"ollama_modelfile: {result['modelfile']}")
        if target is not None:
            pushed = push_folder(target, final)
            result["hub"] = pushed
            print(f"hub_url: {pushed['url']}")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    if not result:
        log.warning("nothing was written")
    return result
