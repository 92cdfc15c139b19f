"""A panel that follows the jobs of one command (export, infer): pick a job, see its status and log, stop it.
Polled with a timer; everything it shows is read from the job folders, so a reload loses nothing."""
from typing import Any, Callable, Optional

from .context import POLL_S, Ctx, picker_update, scroll_js


def job_label(job: dict, t) -> str:
    return f"{job['id'][:15]} {t(job['status'])}: {job['shell'][:120]}"


def describe_job(job: Optional[dict], t) -> str:
    if job is None:
        return t("no_run")
    text = f"**{t(job['status'])}** · `{job['shell']}`"
    out = ""
    if job["status"] != "running":
        out = "\n".join(line for line in (job.get("_stdout") or "").splitlines() if ": " in line and len(line) < 300)
    return text + (f"\n\n```\n{out}\n```" if out else "")


def build_job_panel(ctx: Ctx, gr, command: str, prefix: str, extra_outputs: list,
                    extra: Callable[[Optional[dict]], list]) -> dict:
    """The job dropdown, stop button, status and log; `extra(job)` fills `extra_outputs` on every refresh."""
    t, store = ctx.t, ctx.store
    with gr.Row():
        job_dd = gr.Dropdown([], label=t("job"), elem_id=f"{prefix}_job", scale=4)
        stop = gr.Button(t("stop"), variant="stop", elem_id=f"{prefix}_stop", scale=1)
    status = gr.Markdown(t("no_run"), elem_id=f"{prefix}_status")
    log = gr.Textbox(label=t("log"), lines=8, max_lines=8, interactive=False, autoscroll=True, elem_id=f"{prefix}_log")
    timer = gr.Timer(POLL_S)
    seen = gr.State({})

    def refresh(selected: Optional[str], seen_before: dict, pick: bool = False, tick: bool = False) -> list:
        jobs = store.list((command,))
        chosen_on_page = tick and selected is not None and not pick
        if pick or (selected is None and jobs):
            selected = jobs[0]["id"] if jobs else None
        job = next((j for j in jobs if j["id"] == selected), None)
        if job is not None and job["status"] != "running":
            job["_stdout"] = store.stdout(job["id"])
        choices = [(job_label(j, t), j["id"]) for j in jobs]
        now = {"choices": choices, "selected": selected, "status": job and job["status"]}
        unchanged = seen_before.get("choices") == choices and seen_before.get("selected") == selected
        dropdown = picker_update(gr, choices, selected, unchanged, chosen_on_page)
        extras = extra(job) if seen_before.get("status") != now["status"] or now["status"] == "running" \
            or seen_before.get("selected") != selected else [gr.skip()] * len(extra_outputs)
        return [dropdown, describe_job(job, t), store.log(job["id"], lines=25) if job else "", *extras, now]

    outputs = [job_dd, status, log, *extra_outputs, seen]

    def stop_job(selected: Optional[str]) -> list:
        if selected:
            store.stop(selected)
        return refresh(selected, {})

    stop.click(stop_job, job_dd, outputs)
    job_dd.input(lambda j: refresh(j, {}), job_dd, outputs, show_progress="hidden")
    timer.tick(lambda j, s: refresh(j, s, tick=True), [job_dd, seen], outputs,
               show_progress="hidden").then(None, js=scroll_js(f"{prefix}_log"))
    return {"outputs": outputs, "refresh": refresh, "load": (lambda: refresh(None, {}, pick=True), outputs)}


def launch_job(ctx: Ctx, argv_fn: Callable[[dict], list[str]], form: dict, refresh: Callable) -> list[Any]:
    """Validate and launch; (message, *panel outputs) selecting the new job."""
    from ...utils.errors import SartorError

    try:  # launch checks argv first: a bad or refused form launches nothing
        job = ctx.store.launch(argv_fn(form))
    except SartorError as e:
        return [f"⚠️ {e}", *refresh(None, {}, pick=False)]
    return [f"{ctx.t('launched')} `{job['id']}`", *refresh(job["id"], {})]
