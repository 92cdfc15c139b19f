"""The Train tab: a form that is exactly a `sartor sft|pt|rlhf` command, launched as a subprocess and watched
(log tail, loss curve, status) from the files it writes; the list of runs in the output directory."""
from typing import Any, Optional

from ...utils.errors import SartorError
from .command import RLHF_TYPES, TRAIN_COMMANDS, TRAIN_TYPES, default_output_dir, shell_command, train_argv
from .context import (POLL_S, Ctx, copy_button, dataset_choices, keep_upload, model_choices, picker_update,
                      scroll_js, upload_button)
from .runs import curve_frame, list_runs, progress, run_label, runs_table

FORM_KEYS = ("model", "kind", "rlhf_type", "train_type", "datasets", "learning_rate", "num_train_epochs", "max_steps",
             "per_device_train_batch_size", "gradient_accumulation_steps", "lora_rank", "lora_alpha", "max_length",
             "model_name", "model_author", "output_dir", "extra")
RUN_COLUMNS = ["col_run", "col_command", "col_model", "col_status", "col_step", "col_loss"]


def preview(*values: Any) -> tuple[str, str]:
    """(the shell command, an error message) for the form's values."""
    try:
        return shell_command(train_argv(dict(zip(FORM_KEYS, values)))), ""
    except SartorError as e:
        return "", f"⚠️ {e}"


def plot_value(run: Optional[dict]):
    """The loss curve's frame, or None without points (a first frame without rows would fix the axes wrongly)."""
    frame = curve_frame(run["rows"] if run else [])
    return frame if len(frame) else None


def describe(run: Optional[dict], t) -> str:
    if run is None:
        return t("no_run")
    step, max_steps, loss = progress(run["rows"])
    parts = [f"**{t(run['status'])}**", f"`{run['run_dir'] or run['key']}`"]
    if step is not None:
        parts.append(f"step {step}/{max_steps}")
    if loss is not None:
        parts.append(f"loss {loss:.4f}")
    return " · ".join(parts)


def build_train_tab(ctx: Ctx, gr) -> dict:
    t, store = ctx.t, ctx.store
    with gr.Row():
        model = gr.Dropdown(model_choices(), value="tiny", label=t("model"), allow_custom_value=True, scale=3,
                            elem_id="train_model")
        kind = gr.Radio(list(TRAIN_COMMANDS), value="sft", label=t("kind"), elem_id="train_kind", scale=2)
        rlhf_type = gr.Dropdown(list(RLHF_TYPES), value="dpo", label=t("rlhf_type"), visible=False,
                                elem_id="train_rlhf_type", scale=1)
        train_type = gr.Radio(list(TRAIN_TYPES), value="lora", label=t("train_type"), elem_id="train_type", scale=2)
    with gr.Row():
        datasets = gr.Dropdown(dataset_choices(), value=[], multiselect=True, allow_custom_value=True,
                               label=t("datasets"), elem_id="train_datasets", scale=4)
        upload = upload_button(ctx, gr, "train_upload")
    with gr.Row():
        lr = gr.Number(1e-4, label=t("learning_rate"), elem_id="train_lr")
        epochs = gr.Number(3, label=t("num_train_epochs"), elem_id="train_epochs")
        max_steps = gr.Number(-1, label=t("max_steps"), precision=0, elem_id="train_max_steps")
        batch = gr.Number(1, label=t("batch_size"), precision=0, minimum=1, elem_id="train_batch")
        accum = gr.Number(0, label=t("grad_accum"), precision=0, elem_id="train_accum")
    with gr.Row():
        lora_rank = gr.Number(8, label=t("lora_rank"), precision=0, elem_id="train_lora_rank")
        lora_alpha = gr.Number(32, label=t("lora_alpha"), precision=0, elem_id="train_lora_alpha")
        max_length = gr.Number(0, label=t("max_length"), precision=0, elem_id="train_max_length")
        model_name = gr.Textbox(label=t("model_name"), elem_id="train_model_name")
        model_author = gr.Textbox(label=t("model_author"), elem_id="train_model_author")
    with gr.Row():
        output_dir = gr.Textbox(default_output_dir(ctx.root, "tiny"), label=t("output_dir"), elem_id="train_output_dir")
        extra = gr.Textbox(label=t("extra"), elem_id="train_extra", scale=2)
    form = [model, kind, rlhf_type, train_type, datasets, lr, epochs, max_steps, batch, accum, lora_rank, lora_alpha,
            max_length, model_name, model_author, output_dir, extra]
    cmd = gr.Textbox(preview(*[c.value for c in form])[0], label=t("command"), interactive=False, lines=2,
                     elem_id="train_cmd", **copy_button(gr))
    message = gr.Markdown("", elem_id="train_msg")
    with gr.Row():
        launch = gr.Button(t("launch"), variant="primary", elem_id="train_launch")
        stop = gr.Button(t("stop"), variant="stop", elem_id="train_stop")
        refresh = gr.Button(t("refresh"), elem_id="train_refresh")
    with gr.Row():
        run = gr.Dropdown([], label=t("run"), elem_id="train_run", scale=2)
        status = gr.Markdown(t("no_run"), elem_id="train_status")
    with gr.Row():
        plot = gr.LinePlot(None, x="step", y="value", color="series", label=t("loss_curve"), y_title="loss",
                           color_map={"loss": "#2563eb", "eval_loss": "#ea580c"}, height=260, elem_id="train_plot")
        log = gr.Textbox(label=t("log"), lines=12, max_lines=12, interactive=False, autoscroll=True,
                         elem_id="train_log")
    table = gr.Dataframe(headers=[t(c) for c in RUN_COLUMNS], label=t("runs"), interactive=False, elem_id="train_runs",
                         wrap=True, max_height=260)
    seen = gr.State({})
    timer = gr.Timer(POLL_S)

    for c in form:
        c.change(preview, form, [cmd, message], show_progress="hidden")
    kind.change(lambda k: gr.update(visible=k == "rlhf"), kind, rlhf_type, show_progress="hidden")
    train_type.change(lambda tt: (gr.update(visible=tt == "lora"),) * 2, train_type, [lora_rank, lora_alpha],
                      show_progress="hidden")
    model.input(lambda m: default_output_dir(ctx.root, m), model, output_dir, show_progress="hidden")

    def on_upload(path: Optional[str], current: Optional[list]):
        try:
            kept = keep_upload(store, path)
        except SartorError as e:
            return gr.skip(), f"⚠️ {e}"
        return list(current or []) + ([kept] if kept else []), ""

    upload.upload(on_upload, [upload, datasets], [datasets, message])

    def refresh_all(selected: Optional[str], seen_before: dict, pick: bool = False, tick: bool = False):
        runs = list_runs(store)
        choices = [(run_label(r), r["key"]) for r in runs]
        chosen_on_page = tick and selected is not None and not pick
        if pick or (selected is None and runs):
            running = [r for r in runs if r["status"] == "running"]
            selected = (running or runs or [{"key": None}])[0]["key"]
        current = next((r for r in runs if r["key"] == selected), None)
        seen_now = {"choices": choices, "selected": selected,
                    "curve": (selected, len(current["rows"]) if current else 0),
                    "table": runs_table(runs, t)}
        same = lambda k: seen_before.get(k) == seen_now[k]  # noqa: E731  (skip unchanged outputs: no flicker)
        dropdown = picker_update(gr, choices, selected, same("choices") and same("selected"), chosen_on_page)
        log_text = ""
        if current is not None:
            log_text = store.log(current["job"]["id"], lines=25) if current["job"] else t("no_log")
        curve = gr.skip() if same("curve") and same("selected") else plot_value(current)
        rows = gr.skip() if same("table") else seen_now["table"]
        return dropdown, describe(current, t), log_text, curve, rows, seen_now

    outputs = [run, status, log, plot, table, seen]

    def on_launch(*values):
        *form_values, seen_before = values
        form_dict = dict(zip(FORM_KEYS, form_values))
        try:  # launch checks argv first: a bad or refused form launches nothing
            job = store.launch(train_argv(form_dict), output_dir=form_dict.get("output_dir"), form=form_dict)
        except SartorError as e:
            return (f"⚠️ {e}",) + (gr.skip(),) * len(outputs)
        return (f"{t('launched')} `{job['id']}`",) + refresh_all(job["id"], {})

    launch.click(on_launch, form + [seen], [message] + outputs)
    stop.click(lambda key, s: (store.stop(key), refresh_all(key, {}))[1] if key else refresh_all(key, s),
               [run, seen], outputs)
    refresh.click(lambda key: refresh_all(key, {}), run, outputs)
    run.input(lambda key: refresh_all(key, {}), run, outputs, show_progress="hidden")
    timer.tick(lambda key, s: refresh_all(key, s, tick=True), [run, seen], outputs,
               show_progress="hidden").then(None, js=scroll_js("train_log"))
    def on_page_load():
        """The runs as on disk, and the form as it was at the last launch (a reload loses neither)."""
        jobs = store.list(TRAIN_COMMANDS)
        last = jobs[0].get("form") if jobs else None
        values = [last.get(k) for k in FORM_KEYS] if isinstance(last, dict) else [gr.skip()] * len(FORM_KEYS)
        return (*values, *refresh_all(None, {}, pick=True))

    return {"load": (on_page_load, form + outputs)}
