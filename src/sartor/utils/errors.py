"""Errors a user can cause. The CLI turns them into a one-line message and exit status 2."""


class SartorError(Exception):
    """A problem with the user's input (flag, data row, path, option combination)."""

    exit_code = 2

