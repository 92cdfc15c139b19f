"""Interactive chat in a terminal: multi-turn, streaming, and its commands."""


def test_chat_loop_streams_answers_and_obeys_commands(tmp_path, sartor_main):
    script = "hello\nwhat next?\nclear\nreset-system\nYou are terse.\nmulti-line\nline one\nline two#\nexit\n"
    r = sartor_main("infer", "--model", "tiny", "--temperature", "0", "--max_new_tokens", "4", input=script, cwd=tmp_path)
    assert r.stdout.count(">>> ") == 3  # three queries answered: two turns, then one multi-line message
    assert "conversation cleared" in r.stderr
    assert "clear" in r.stderr and "multi-line" in r.stderr and "exit" in r.stderr  # the help line


def test_end_of_input_ends_the_chat(tmp_path, sartor_main):
    sartor_main("infer", "--model", "tiny", "--max_new_tokens", "2", input="", cwd=tmp_path)
