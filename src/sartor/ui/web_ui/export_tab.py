"""The Export tab: merge a LoRA checkpoint and/or quantise it with `sartor export`, run as a subprocess."""
from .command import QUANT_METHODS, export_argv
from .context import Ctx, checkpoint_picker, command_preview, copy_button
from .job_panel import build_job_panel, launch_job
from .runs import find_checkpoints

FORM_KEYS = ("ckpt_dir", "merge_lora", "quant_method", "quant_bits", "output_dir", "extra")


preview = command_preview(export_argv, FORM_KEYS)


def build_export_tab(ctx: Ctx, gr) -> dict:
    t, store = ctx.t, ctx.store
    ckpt, refresh = checkpoint_picker(ctx, gr, "export")
    with gr.Row():
        merge = gr.Checkbox(True, label=t("merge_lora"), elem_id="export_merge")
        method = gr.Dropdown([("-", "")] + [(m, m) for m in QUANT_METHODS], value="", label=t("quant_method"),
                             elem_id="export_quant_method")
        bits = gr.Dropdown([("-", "")] + [(str(b), str(b)) for b in (1, 2, 3, 4, 8)], value="8", label=t("quant_bits"),
                           elem_id="export_quant_bits")
        out = gr.Textbox(label=t("export_dir"), elem_id="export_output_dir", scale=2)
    extra = gr.Textbox(label=t("extra"), elem_id="export_extra")
    form = [ckpt, merge, method, bits, out, extra]
    cmd = gr.Textbox("", label=t("command"), interactive=False, lines=1, elem_id="export_cmd", **copy_button(gr))
    message = gr.Markdown("", elem_id="export_msg")
    run = gr.Button(t("export"), variant="primary", elem_id="export_run")
    panel = build_job_panel(ctx, gr, "export", "export", [], lambda job: [])

    for c in form:
        c.change(preview, form, cmd, show_progress="hidden")

    def choices(current=None):
        found = find_checkpoints(store)
        return gr.update(choices=found, value=current or (found[0] if found else None))

    def merge_default(path):  # a LoRA checkpoint is merged; a full one can only be quantised
        from ...infer.load import is_adapter

        return bool(path) and is_adapter(store.abs_path(path))

    ckpt.change(merge_default, ckpt, merge, show_progress="hidden")
    refresh.click(choices, ckpt, ckpt)
    run.click(lambda *v: launch_job(ctx, export_argv, dict(zip(FORM_KEYS, v)), panel["refresh"]), form,
              [message, *panel["outputs"]])
    return {"loads": [panel["load"], (lambda: choices(None), [ckpt])], "select": (choices, ckpt, ckpt)}
