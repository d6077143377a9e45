"""The one exception type for bad input: the CLI prints its message and exits non-zero, no traceback."""

__all__ = ["UserError", "require"]


class UserError(Exception):
    "Bad input or environment the user can fix; `str(e)` is the whole message shown to them."

    exit_code = 2


def require(cond, msg):
    "Raise `UserError(msg)` unless `cond`."
    if not cond:
        raise UserError(msg)
