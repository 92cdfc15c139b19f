"""What every command shares: --help, parsing, and turning user errors into exit status 2."""
import sys
from typing import Any, Callable

from ..arguments.parser import format_help, parse_args
from ..utils.errors import SartorError


def run_command(command: str, args_cls: type, fn: Callable[[Any], Any], argv: list[str], description: str) -> Any:
    """Parse argv into args_cls and call fn(args). `-h/--help` prints grouped help."""
    if any(a in ("-h", "--help") for a in argv):
        print(format_help(args_cls, command, description))
        return None
    args, _ = parse_args(args_cls, argv)  # args.explicit_flags: the names the user set
    return fn(args)


def exit_on_user_error(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except SartorError as e:
        print(f"sartor: error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        print("sartor: interrupted", file=sys.stderr)
        sys.exit(130)
