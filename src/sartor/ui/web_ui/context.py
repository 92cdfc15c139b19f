"""What every tab of the web UI shares: the job store, the language, the choices offered."""
import os
from dataclasses import dataclass
from typing import Callable, Optional

from .jobs import JobStore

POLL_S = 2.0


def scroll_js(elem_id: str) -> str:
    """Client-side: scroll a log box to its end when its text changed (gradio's autoscroll leaves a read-only
    box at the top); unchanged text leaves where the reader scrolled to alone."""
    return (f"() => {{ const t = document.querySelector('#{elem_id} textarea'); "
            "if (t && t.dataset.seen !== t.value) { t.dataset.seen = t.value; t.scrollTop = t.scrollHeight; } }")


@dataclass
class Ctx:
    store: JobStore
    t: Callable[[str], str]
    lang: str

    @property
    def root(self) -> str:
        return self.store.root


def copy_button(gr) -> dict:
    """Keyword arguments that give a text box a copy button (gradio 6 `buttons`, gradio 5 `show_copy_button`)."""
    return {"buttons": ["copy"]} if int(gr.__version__.split(".")[0]) >= 6 else {"show_copy_button": True}


def model_choices() -> list[str]:
    """tiny first, then every registered model's Hugging Face id."""
    from ...model import MODEL_MAPPING

    ids = ["tiny"] + [m.hf_model_id for k, m in MODEL_MAPPING.items() if k != "tiny"]
    return list(dict.fromkeys(ids))


def dataset_choices() -> list[str]:
    from ...dataset import DATASET_MAPPING

    return list(DATASET_MAPPING)


def keep_upload(store: JobStore, tmp_path: Optional[str]) -> Optional[str]:
    """Keep an uploaded data file in <output dir>/uploads/ (uploads.py: data types only, a cleaned name) and return
    the path a command is given, relative to the directory commands run in. Refused: SartorError."""
    from .uploads import keep_upload as keep

    return keep(os.path.join(store.abs_path(store.root), "uploads"), store.cwd, tmp_path)


def upload_button(ctx: "Ctx", gr, elem_id: str):
    """An upload button for one data file; the file picker offers the data types (the server checks them again)."""
    from .uploads import data_suffixes

    return gr.UploadButton(ctx.t("upload"), file_count="single", type="filepath", file_types=list(data_suffixes()),
                           elem_id=elem_id, scale=1)


def picker_update(gr, choices: list, selected: Optional[str], unchanged: bool, chosen_on_page: bool):
    """The update of a run or job picker: nothing when nothing changed; on a timer tick with a choice already on
    the page, new choices only (a launch handled meanwhile may have changed the choice: a tick must not send it
    back); else choices and value."""
    if unchanged:
        return gr.skip()
    if chosen_on_page:
        return gr.update(choices=choices)
    return gr.update(choices=choices, value=selected)


def command_preview(argv_of: Callable[[dict], list], keys: tuple) -> Callable[..., str]:
    """The change handler that shows a form's command, shell-quoted (or the reason it cannot run)."""
    from ...utils.errors import SartorError
    from .command import shell_command

    def preview(*values) -> str:
        try:
            return shell_command(argv_of(dict(zip(keys, values))))
        except SartorError as e:
            return f"# {e}"

    return preview


def checkpoint_picker(ctx: "Ctx", gr, prefix: str) -> tuple:
    """A checkpoint dropdown (any path may be typed) beside its Refresh button."""
    with gr.Row():
        ckpt = gr.Dropdown([], label=ctx.t("checkpoint"), allow_custom_value=True, scale=4, elem_id=f"{prefix}_ckpt")
        refresh = gr.Button(ctx.t("refresh"), scale=1, elem_id=f"{prefix}_refresh")
    return ckpt, refresh
