"""The page builds in both languages; every label has both; a bad --lang is a user error (exit 2)."""
import pytest

from sartor.ui.web_ui.i18n import LABELS, translator


def test_every_label_in_english_and_chinese():
    for key, (en, zh) in LABELS.items():
        assert en.strip() and zh.strip(), key
    assert translator("zh")("tab_train") == "训练" and translator("en")("tab_train") == "Train"
    assert translator("en")("no-such-key") == "no-such-key"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_builds(tmp_path, lang):
    pytest.importorskip("gradio")
    from sartor.ui.web_ui import build_web_ui

    demo = build_web_ui("output", lang, cwd=str(tmp_path))
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    for elem_id in ("tab_train", "tab_chat", "tab_export", "tab_eval", "train_cmd", "train_launch", "train_stop",
                    "train_plot", "train_runs", "chat_ckpt", "chat_bot", "export_cmd", "eval_results"):
        assert elem_id in ids, elem_id
    labels = {getattr(block, "label", None) for block in demo.blocks.values()}
    assert translator(lang)("learning_rate") in labels


def test_bad_language_exits_2(capsys):
    from sartor.cli.main import main

    with pytest.raises(SystemExit) as e:
        main(["web-ui", "--lang", "fr"])
    assert e.value.code == 2 and "--lang" in capsys.readouterr().err


def test_help(capsys):
    from sartor.cli.main import main

    main(["web-ui", "--help"])
    out = capsys.readouterr().out
    assert "--server_port" in out and "--lang" in out and "--output_dir" in out
