"""Uploaded data files: kept in `<output dir>/uploads/` under a cleaned name, data file types only.

The server decides, not the page's file picker: a request that skips the picker gets the same refusal. A file is
copied in under a name of letters, digits, `_`, `-` and `.` (no folders, no leading dot), never replacing a
different file: `data.jsonl` again with other content becomes `data-1.jsonl`, so a run reading the first keeps it."""
import filecmp
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Optional

from ...utils.errors import SartorError

MAX_NAME = 120
_LOCK = threading.Lock()  # two uploads of one name: one picks the name, the other the next


def data_suffixes() -> tuple[str, ...]:
    """The file types the dataset loader reads (sartor.dataset.local)."""
    from ...dataset.local import BUILDERS

    return tuple(sorted(BUILDERS))


def clean_name(name: str) -> str:
    """A file name safe to create in the uploads folder: its last path part, other characters as `_`."""
    base = re.split(r"[/\\]", name or "")[-1]
    stem, suffix = os.path.splitext(base)
    stem = re.sub(r"[^\w.-]+", "_", stem).strip("._-")[:MAX_NAME] or "upload"
    return stem + suffix.lower()


def check_type(name: str) -> None:
    suffix = os.path.splitext(name)[1].lower()
    allowed = data_suffixes()
    if suffix not in allowed:
        raise SartorError(f"refused upload {clean_name(name)!r}: the web UI takes data files only "
                          f"({', '.join(allowed)})")


def _free_name(folder: Path, name: str, source: str) -> Path:
    """`name` in folder, or `stem-N.ext` where a different file holds `name` already (the same bytes: reused)."""
    stem, suffix = os.path.splitext(name)
    for n in range(10_000):
        dest = folder / (name if n == 0 else f"{stem}-{n}{suffix}")
        if not os.path.lexists(dest):
            return dest
        if dest.is_file() and not dest.is_symlink() and filecmp.cmp(source, dest, shallow=False):
            return dest
    raise SartorError(f"too many uploads named {name}")


def keep_upload(uploads: str, cwd: str, tmp_path: Optional[str]) -> Optional[str]:
    """Copy an uploaded file (gradio's temporary copy does not last) into the `uploads` folder and return the path a
    command is given, relative to `cwd`, the directory commands run in. Not a data file: SartorError."""
    if not tmp_path:
        return None
    name = clean_name(os.path.basename(tmp_path))
    check_type(name)
    if not os.path.isfile(tmp_path):
        raise SartorError(f"refused upload {name!r}: not a file")
    folder = Path(uploads)
    folder.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(dir=folder, prefix=".upload-")
    os.close(fd)
    try:
        shutil.copyfile(tmp_path, staging)
        with _LOCK:
            dest = _free_name(folder, name, staging)
            if not dest.exists():
                os.replace(staging, dest)  # a new name, written whole: no link followed, nothing half-written
    finally:
        if os.path.exists(staging):
            os.unlink(staging)
    return os.path.relpath(dest, cwd)
