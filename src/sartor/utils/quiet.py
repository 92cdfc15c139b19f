"""Whether progress bars are wanted. (The filters of known upstream noise are compat/noise.py's.)"""
import sys


def progress_bars_wanted() -> bool:
    """Progress bars go to a terminal; piped stderr gets the JSON log lines alone."""
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())
