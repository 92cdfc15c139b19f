"""The Eval tab: `sartor infer --ckpt_dir X --val_dataset F --result_path P` as a subprocess, then a table of
query, response and label read from P."""
import json
import os
from datetime import datetime
from typing import Optional

from ...utils.errors import SartorError
from .command import infer_argv
from .context import Ctx, checkpoint_picker, command_preview, copy_button, keep_upload, upload_button
from .job_panel import build_job_panel, launch_job
from .runs import find_checkpoints

FORM_KEYS = ("ckpt_dir", "val_dataset", "val_dataset_sample", "temperature", "max_new_tokens", "result_path")
COLUMNS = ["query", "response", "label"]


def result_path_for(root: str, ckpt: Optional[str]) -> str:
    """<output dir>/eval/<run>-<checkpoint>-<timestamp>.jsonl"""
    parts = os.path.normpath(ckpt or "model").split(os.sep)[-2:]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join(root, "eval", f"{'-'.join(parts)}-{stamp}.jsonl")


def read_results(path: str, limit: int = 500) -> list[list[str]]:
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                rows.append([rec.get("query", ""), rec.get("response", ""), rec.get("label") or ""])
                if len(rows) >= limit:
                    break
    except OSError:
        pass
    return rows


preview = command_preview(infer_argv, FORM_KEYS)


def build_eval_tab(ctx: Ctx, gr) -> dict:
    t, store = ctx.t, ctx.store
    ckpt, refresh = checkpoint_picker(ctx, gr, "eval")
    with gr.Row():
        val = gr.Textbox(label=t("val_dataset"), elem_id="eval_val_dataset", scale=3)
        upload = upload_button(ctx, gr, "eval_upload")
    with gr.Row():
        sample = gr.Number(0, label=t("val_sample"), precision=0, elem_id="eval_sample")
        temperature = gr.Number(0, label=t("temperature"), elem_id="eval_temperature")
        max_new = gr.Number(128, label=t("max_new_tokens"), precision=0, elem_id="eval_max_new_tokens")
        result_path = gr.Textbox(result_path_for(ctx.root, None), label=t("result_path"), elem_id="eval_result_path",
                                 scale=2)
    form = [ckpt, val, sample, temperature, max_new, result_path]
    cmd = gr.Textbox("", label=t("command"), interactive=False, lines=1, elem_id="eval_cmd", **copy_button(gr))
    message = gr.Markdown("", elem_id="eval_msg")
    run = gr.Button(t("evaluate"), variant="primary", elem_id="eval_run")
    table = gr.Dataframe(headers=[t(c) for c in COLUMNS], label=t("results"), interactive=False, wrap=True,
                         elem_id="eval_results", max_height=360)

    def results_of(job: Optional[dict]) -> list:
        if job is None:
            return [[]]
        argv = job["argv"]
        path = argv[argv.index("--result_path") + 1] if "--result_path" in argv else None
        readable = path and store.policy.inside(path, store.root)  # the UI reads inside its output directory only
        return [read_results(store.abs_path(path)) if readable else []]

    panel = build_job_panel(ctx, gr, "infer", "eval", [table], results_of)

    for c in form:
        c.change(preview, form, cmd, show_progress="hidden")
    ckpt.change(lambda c: result_path_for(ctx.root, c), ckpt, result_path, show_progress="hidden")

    def on_upload(path: Optional[str]):
        try:
            return keep_upload(store, path) or gr.skip(), ""
        except SartorError as e:
            return gr.skip(), f"⚠️ {e}"

    upload.upload(on_upload, upload, [val, message])

    def choices(current=None):
        found = find_checkpoints(store)
        return gr.update(choices=found, value=current or (found[0] if found else None))

    def on_run(*values):
        form_dict = dict(zip(FORM_KEYS, values))
        result = launch_job(ctx, infer_argv, form_dict, panel["refresh"])
        return [*result, result_path_for(ctx.root, form_dict["ckpt_dir"])]  # the next run writes a new file

    refresh.click(choices, ckpt, ckpt)
    run.click(on_run, form, [message, *panel["outputs"], result_path])
    return {"loads": [panel["load"], (lambda: choices(None), [ckpt])], "select": (choices, ckpt, ckpt)}
