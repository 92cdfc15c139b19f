"""Serving the UIs: --auth / --auth_file become gradio's login (a request without it is refused), a page reachable
from other machines without a login is a loud warning, gradio's share=True hint is not printed, and a password
appears in no log or error message."""
import json
import socket
import urllib.error
import urllib.parse
import urllib.request

import pytest

from sartor.arguments import AppArguments, WebUIArguments
from sartor.arguments.parser import parse_args
from sartor.arguments.secrets import GIVEN, redacted_args
from sartor.ui.launch import auth_pairs, exposure_warning, is_loopback, serve
from sartor.utils.errors import SartorError

SECRET = "s3cret:with,comma and space"


class FakePage:
    """Stands in for a gradio page: records what it was launched with."""

    server_port = 7860
    share_url = None

    def launch(self, **options):
        self.options = options

    def block_thread(self):
        raise AssertionError("block=False must not block")


def test_auth_pairs(tmp_path):
    assert auth_pairs(None, None) is None
    assert auth_pairs(f"alice:{SECRET}") == [("alice", SECRET)]  # the password is all after the first colon
    users = tmp_path / "users.txt"
    users.write_text(f"# the team\nbob:{SECRET}\n\ncarol:pw2\n")
    assert auth_pairs("alice:pw", str(users)) == [("alice", "pw"), ("bob", SECRET), ("carol", "pw2")]
    for bad in ("alice", ":pw", "alice:", SECRET.replace(":", "")):
        with pytest.raises(SartorError, match="expected user:password") as e:
            auth_pairs(bad)
        assert bad not in str(e.value) or bad == ""
    users.write_text(f"bob:{SECRET}\nno-colon-s3cret\n")
    with pytest.raises(SartorError, match="line 2: expected user:password") as e:
        auth_pairs(None, str(users))
    assert "s3cret" not in str(e.value)
    with pytest.raises(SartorError, match="cannot read"):
        auth_pairs(None, str(tmp_path / "missing.txt"))


def test_auth_flags_parse_for_both_uis_and_stay_out_of_reprs():
    for cls in (WebUIArguments, AppArguments):
        args, _ = parse_args(cls, ["--auth", f"alice:{SECRET}", "--server_name", "0.0.0.0"])
        assert args.auth == f"alice:{SECRET}" and SECRET not in repr(args)
        assert redacted_args(args, args.to_dict())["auth"] == GIVEN  # what any record of the arguments would hold
    args, _ = parse_args(WebUIArguments, ["--allow_code_flags", "true"])
    assert args.allow_code_flags is True and WebUIArguments().allow_code_flags is False


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                           ("127.0.0.2", True), ("0.0.0.0", False), ("::", False),
                                           ("192.168.1.5", False), ("myhost", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_exposure_warning():
    assert exposure_warning("UI", "127.0.0.1", False, False, "x") is None
    assert exposure_warning("UI", "0.0.0.0", False, True, "x") is None
    assert "0.0.0.0" in exposure_warning("UI", "0.0.0.0", False, False, "x")
    assert "share link" in exposure_warning("UI", "127.0.0.1", True, False, "x")


@pytest.mark.parametrize("cls", [WebUIArguments, AppArguments])
def test_serve_warns_when_exposed_without_a_login(cls, capsys):
    args, _ = parse_args(cls, ["--server_name", "0.0.0.0"])
    page = serve(FakePage(), args, "training web UI", "launch commands", block=False)
    err = capsys.readouterr().err
    assert "[sartor WARNING] SECURITY WARNING" in err and "0.0.0.0" in err and "WITHOUT A LOGIN" in err
    assert page.options["auth"] is None and page.options["quiet"] is True  # quiet: no share=True hint
    args, _ = parse_args(cls, ["--server_name", "0.0.0.0", "--auth", f"alice:{SECRET}"])
    page = serve(FakePage(), args, "training web UI", "launch commands", block=False)
    err = capsys.readouterr().err
    assert "WARNING" not in err and "login required" in err and "s3cret" not in err
    assert page.options["auth"] == [("alice", SECRET)] and page.options["server_name"] == "0.0.0.0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, data: dict | None = None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(url, data=body, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_a_page_with_auth_refuses_requests_without_the_login(capfd):
    gr = pytest.importorskip("gradio")
    with gr.Blocks() as demo:
        gr.Markdown("private")
    args, _ = parse_args(WebUIArguments, ["--server_port", str(free_port()), "--auth", f"alice:{SECRET}"])
    serve(demo, args, "training web UI", "launch commands", block=False)
    try:
        url = f"http://127.0.0.1:{demo.server_port}"
        status, body = _get(url + "/config")
        assert status == 401 and "Not authenticated" in body
        assert _get(url + "/gradio_api/info")[0] == 401
        assert _get(url + "/login", {"username": "alice", "password": "wrong"})[0] == 400
        status, body = _get(url + "/login", {"username": "alice", "password": SECRET})
        assert status == 200 and json.loads(body)["success"] is True
    finally:
        demo.close()
    out = capfd.readouterr()
    assert "share=True" not in out.out + out.err and "s3cret" not in out.out + out.err
