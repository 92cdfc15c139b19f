"""--custom_register_path: a user's plug-in file registers a template; training uses it, and the checkpoint is
served with it later without repeating the flag (it is carried in args.json).

The commands run in this process; between them the plug-in is forgotten (its template unregistered), as if each
were a new process, so infer and eval only know the template by loading the plug-in again from args.json."""
import json
import os

import pytest

from sartor.template import TEMPLATE_MAPPING
from sartor.core import resolve

PLUGIN = '''
from sartor.template import TemplateMeta, register_template

register_template(TemplateMeta(
    template_type="acme-chat", prompt="<|im_start|>user\\n{{QUERY}}<|im_end|>\\n",
    response_prefix="<|im_start|>assistant\\n", chat_sep="<|im_end|>\\n", suffix="<|im_end|>", eot="<|im_end|>",
    stop_words=["<|im_end|>"], description="a user's own format"))
'''


@pytest.fixture
def forget(tmp_path):
    """Forget the plug-in (as a new process would not know it); also after the test."""
    def run() -> None:
        TEMPLATE_MAPPING.pop("acme-chat", None)
        resolve._LOADED_REGISTERS.discard(os.path.realpath(tmp_path / "acme_register.py"))

    run()
    yield run
    run()


def test_plugin_template_trains_and_serves(tmp_path, sartor_main, forget):
    (tmp_path / "acme_register.py").write_text(PLUGIN)
    r = sartor_main("infer", "--model", "tiny", "--template", "acme-chat", "--query", "hi", cwd=tmp_path, check=False)
    assert r.returncode == 2 and "acme-chat" in r.stderr and "Traceback" not in r.stderr  # unknown without the plug-in

    sartor_main("sft", "--model", "tiny", "--custom_register_path", "acme_register.py", "--template", "acme-chat",
                "--dataset", "self-cognition#8", "--model_name", "Sartor", "--model_author", "Acme", "--max_steps", "1",
                "--split_dataset_ratio", "0", "--report_to", "none", "--output_dir", "out", cwd=tmp_path)
    ckpt = next((tmp_path / "out").glob("v0-*")) / "checkpoint-1"
    assert json.loads((ckpt / "args.json").read_text())["template"] == "acme-chat"

    forget()
    r = sartor_main("infer", "--ckpt_dir", str(ckpt), "--max_new_tokens", "3", "--query", "hi", "--temperature", "0",
                    cwd=tmp_path)
    assert r.stdout.strip()  # answered, through the plug-in's template
    assert "acme-chat" in TEMPLATE_MAPPING  # loaded again, from args.json

    forget()
    r = sartor_main("eval", "--ckpt_dir", str(ckpt), "--max_new_tokens", "3", "--val_dataset", "self-cognition#2",
                    cwd=tmp_path)
    assert "metrics_path: " in r.stdout
