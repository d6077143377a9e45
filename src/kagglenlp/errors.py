"""The one exception type for bad input: the CLI prints its message and exits non-zero, no traceback."""

from pathlib import Path

__all__ = ["UserError", "require", "not_utf8"]

UTF8_HINT = "save it as UTF-8 (in Excel: CSV UTF-8)"


class UserError(Exception):
    "Bad input or environment the user can fix; `str(e)` is the whole message shown to them."

    exit_code = 2


def require(cond, msg):
    "Raise `UserError(msg)` unless `cond`."
    if not cond:
        raise UserError(msg)


def not_utf8(path, hint=UTF8_HINT):
    """The `UserError` for file `path` that is not UTF-8, naming its first bad byte's offset and line (found by
    decoding the whole file: a parser's own `UnicodeDecodeError` counts from the start of its buffer, not the
    file)."""
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return UserError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start}, line {line}); {hint}")
    return UserError(f"{path} is not UTF-8 text; {hint}")
