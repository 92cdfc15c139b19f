"""Serving a gradio page (`sartor app`, `sartor web-ui`): a login with --auth / --auth_file, a loud warning when the
page is reachable from other machines without one, and gradio's launch chatter (its share=True hint) left out: the
address is logged here instead.

Passwords are read into memory and handed to gradio; they are never logged, echoed in an error or written anywhere."""
from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from ..utils.errors import SartorError
from ..utils.logging import get_logger

if TYPE_CHECKING:
    from ..arguments.deploy_args import AppConcernArguments


def _pair(text: str, where: str) -> tuple[str, str]:
    user, sep, password = text.partition(":")
    if not sep or not user.strip() or not password:
        raise SartorError(f"{where}: expected user:password (the value is not shown here)")
    return user.strip(), password


def auth_pairs(auth: Optional[str], auth_file: Optional[str] = None) -> Optional[list[tuple[str, str]]]:
    """The (user, password) pairs gradio checks a login against: --auth user:password (the password is what follows
    the first colon) and each `user:password` line of --auth_file (blank lines and # comments skipped).
    None: no login."""
    pairs = [_pair(auth, "--auth")] if auth else []
    if auth_file:
        try:
            text = Path(auth_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            why = getattr(e, "strerror", None) or "not text"
            raise SartorError(f"--auth_file {auth_file}: cannot read it ({why})") from None
        lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
        found = [_pair(line, f"--auth_file {auth_file} line {n}") for n, line in lines
                 if line and not line.startswith("#")]
        if not found:
            raise SartorError(f"--auth_file {auth_file} holds no user:password line")
        pairs += found
    return pairs or None


def is_loopback(host: Optional[str]) -> bool:
    """Whether a bind address is reachable from this machine only (localhost, 127.x, ::1)."""
    host = (host or "").strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # 0.0.0.0 is an address too; a host name may resolve to anything


def exposure_warning(what: str, server_name: str, share: bool, has_auth: bool, risk: str) -> Optional[str]:
    """The warning for a page others can reach without a login (None: loopback only, or a login is asked)."""
    if has_auth:
        return None
    if share:
        where = "a public gradio share link (anyone with the link)"
    elif not is_loopback(server_name):
        where = f"{server_name} (every machine that can reach this port)"
    else:
        return None
    return (f"SECURITY WARNING: the {what} is open to {where} WITHOUT A LOGIN: anyone there can {risk}. "
            "Pass --auth user:password (or --auth_file FILE), or keep the default --server_name 127.0.0.1 and "
            "reach it through an SSH tunnel (ssh -L 7860:127.0.0.1:7860 this-host).")


def serve(demo: Any, args: AppConcernArguments, what: str, risk: str, block: bool = True, **options: Any) -> Any:
    """Launch `demo` as `args` say (server_name, server_port, share, auth, auth_file); log where it listens and warn
    when it is exposed without a login. block=False returns the running page (close it with demo.close())."""
    auth = auth_pairs(args.auth, args.auth_file)
    log = get_logger()
    warning = exposure_warning(what, args.server_name, args.share, auth is not None, risk)
    if warning:
        log.warning(warning)
    demo.launch(server_name=args.server_name, server_port=args.server_port, share=args.share, auth=auth,
                inbrowser=False, show_error=True, quiet=True, prevent_thread_lock=True, **options)
    login = f" (login required: {len(auth)} user{'s' if len(auth) > 1 else ''})" if auth else ""
    log.info(f"{what} on http://{args.server_name}:{demo.server_port}{login}")
    if getattr(demo, "share_url", None):
        log.info(f"{what} shared at {demo.share_url}")
    if block:
        demo.block_thread()
    return demo
