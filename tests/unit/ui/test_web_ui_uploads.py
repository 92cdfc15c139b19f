"""Uploads: data files only (decided by the server, not the file picker), kept in <output dir>/uploads/ under a
cleaned name, never replacing another file."""
import os

import pytest

from sartor.ui.web_ui.jobs import JobStore
from sartor.ui.web_ui.uploads import clean_name, data_suffixes, keep_upload
from sartor.utils.errors import SartorError


def _file(folder, name, text="{}\n"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return str(path)


def test_the_loader_file_types_are_the_upload_types():
    assert {".json", ".jsonl", ".csv", ".parquet", ".txt"} <= set(data_suffixes())


@pytest.mark.parametrize("name", ["plugin.py", "run.sh", "model.safetensors", "weights.bin", "evil.pyc",
                                  "conf.yaml", "noext", "data.jsonl.py"])
def test_other_file_types_are_refused(tmp_path, name):
    with pytest.raises(SartorError, match="refused upload .*data files only"):
        keep_upload(str(tmp_path / "uploads"), str(tmp_path), _file(tmp_path / "tmp", name))
    assert not (tmp_path / "uploads").exists() or os.listdir(tmp_path / "uploads") == []


@pytest.mark.parametrize("name,clean", [("val.jsonl", "val.jsonl"), ("My Data (1).CSV", "My_Data_1.csv"),
                                        (".hidden.json", "hidden.json"), ("..json", "json"), (".json", "json"),
                                        ("a;rm -rf x.txt", "a_rm_-rf_x.txt"), ("数据.parquet", "数据.parquet"),
                                        ("..\\..\\win.json", "win.json"), ("../../etc.json", "etc.json")])
def test_names_are_cleaned(name, clean):
    assert clean_name(name) == clean


def test_uploads_land_in_the_uploads_folder_only(tmp_path):
    uploads, cwd = tmp_path / "output" / "uploads", str(tmp_path)
    first = keep_upload(str(uploads), cwd, _file(tmp_path / "tmp" / "a", "val.jsonl", '{"a": 1}\n'))
    assert first == os.path.join("output", "uploads", "val.jsonl")
    assert keep_upload(str(uploads), cwd, _file(tmp_path / "tmp" / "b", "val.jsonl", '{"a": 1}\n')) == first  # same
    other = keep_upload(str(uploads), cwd, _file(tmp_path / "tmp" / "c", "val.jsonl", '{"b": 2}\n'))
    assert other == os.path.join("output", "uploads", "val-1.jsonl")  # a run reading val.jsonl keeps its data
    assert (uploads / "val.jsonl").read_text() == '{"a": 1}\n' and (uploads / "val-1.jsonl").read_text() == '{"b": 2}\n'
    assert sorted(os.listdir(uploads)) == ["val-1.jsonl", "val.jsonl"]
    assert keep_upload(str(uploads), cwd, None) is None


def test_an_upload_does_not_follow_a_link_out(tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    outside = tmp_path / "outside.json"
    outside.write_text("keep\n")
    (uploads / "x.json").symlink_to(outside)
    kept = keep_upload(str(uploads), str(tmp_path), _file(tmp_path / "tmp", "x.json", "new\n"))
    assert outside.read_text() == "keep\n" and kept == os.path.join("uploads", "x-1.json")


def test_the_page_refuses_a_crafted_upload(tmp_path):
    """The Train and Eval tabs' upload handlers, called as a request that skipped the file picker would call them."""
    pytest.importorskip("gradio")
    from sartor.ui.web_ui import build_web_ui

    demo = build_web_ui("output", "en", cwd=str(tmp_path))
    handlers = [f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "on_upload"]
    assert len(handlers) == 2
    script = _file(tmp_path / "tmp", "plugin.py", "import os\n")
    for handler in handlers:
        out = handler(script, []) if handler.__code__.co_argcount == 2 else handler(script)
        assert "refused upload" in out[-1]
    assert not (tmp_path / "output" / "uploads" / "plugin.py").exists()
    ok = [h(_file(tmp_path / "tmp", "d.jsonl"), []) for h in handlers if h.__code__.co_argcount == 2][0]
    assert ok == ([os.path.join("output", "uploads", "d.jsonl")], "")
    assert JobStore("output", cwd=str(tmp_path)).list() == []
