"""Typed dataclass arguments to argparse and back (run_glue style); imports only `kagglenlp.errors` from the package.

A field's `metadata['help']` becomes its help text, `metadata['choices']` its choices, and `ge`/`gt`/`le`/`lt` its
allowed range (checked by `check_ranges` when the arguments are built, before a command writes anything); a field
without a default is a required option; `bool` fields become `--x/--no-x`; `list[...]` fields take one or more
values. `Parser` is the `ArgumentParser` every command uses: no abbreviations (`--epoch` is not `--epochs`), and a
mistake is one `error:` line that suggests the closest option or choice.
"""

import argparse
import dataclasses
import difflib
import re
import typing

from .errors import UserError

__all__ = ["opt", "add_dataclass_args", "args_to_dataclass", "check_ranges", "Parser", "BOUNDS"]

BOUNDS = {"ge": "at least", "gt": "above", "le": "at most", "lt": "below"}  # range keys of `opt` and their words
_PARSER = "_kagglenlp_parser"  # namespace attribute: the deepest (sub)parser that parsed the command line


def opt(default=dataclasses.MISSING, help="", **kw):
    """A dataclass field with CLI `help` (and e.g. `choices`, or a range `ge`/`gt`/`le`/`lt`); no `default` makes
    the option required."""
    meta = dict(help=help, **kw)
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: list(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _base_type(typ):
    "`Optional[X]` -> X."
    if typing.get_origin(typ) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return next(a for a in typing.get_args(typ) if a is not type(None))
    return typ


def _range_text(meta):
    "The allowed range in `meta` in words (`at least 1`, `above 0 and below 1`), or '' without one."
    return " and ".join(f"{w} {meta[k]}" for k, w in BOUNDS.items() if k in meta)


def _in_range(v, meta):
    "Whether number `v` lies in the range of `meta` (NaN never does)."
    ops = dict(ge=lambda a, b: a >= b, gt=lambda a, b: a > b, le=lambda a, b: a <= b, lt=lambda a, b: a < b)
    return all(op(v, meta[k]) for k, op in ops.items() if k in meta)


def check_ranges(obj):
    "Raise one `UserError` naming the option when a field of dataclass `obj` (or a list item) is outside its range."
    for f in dataclasses.fields(obj):
        if not any(k in f.metadata for k in BOUNDS):
            continue
        v = getattr(obj, f.name)
        for x in v if isinstance(v, (list, tuple)) else [v]:
            if x is not None and not _in_range(x, f.metadata):
                raise UserError(f"--{f.name.replace('_', '-')} must be {_range_text(f.metadata)}, got {x}")
    return obj


def add_dataclass_args(parser, cls):
    "Add one `--option` per field of dataclass `cls` to `parser`; returns `parser`."
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        name = "--" + f.name.replace("_", "-")
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        default = None if required else (f.default if f.default is not dataclasses.MISSING else f.default_factory())
        shown = f" (default: {default})" if default not in (None, False, "", []) else ""
        kw = dict(help=f.metadata.get("help", "") + shown, dest=f.name)
        if "choices" in f.metadata:
            kw["choices"] = f.metadata["choices"]
        typ = _base_type(hints[f.name])
        if typ is bool:
            parser.add_argument(name, action=argparse.BooleanOptionalAction, default=bool(default), **kw)
            continue
        if typing.get_origin(typ) is list:
            kw["nargs"], typ = "+", typing.get_args(typ)[0]
        if required:
            kw["required"] = True
        else:
            kw["default"] = default
        parser.add_argument(name, type=typ, **kw)
    return parser


def args_to_dataclass(ns, cls):
    "Build `cls` from the fields of argparse namespace `ns`, its ranges checked (`check_ranges`)."
    return check_ranges(cls(**{f.name: getattr(ns, f.name) for f in dataclasses.fields(cls) if f.init}))


def _closest(word, candidates):
    "The candidate most like `word`, or None."
    return next(iter(difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)), None)


class Parser(argparse.ArgumentParser):
    "`ArgumentParser` without abbreviations whose errors are one `error:` line with a suggestion (`did you mean`)."

    def __init__(self, *args, allow_abbrev=False, **kw):
        super().__init__(*args, allow_abbrev=allow_abbrev, **kw)

    def options(self):
        "Every option string this parser takes (`--epochs`, `-n`, ...)."
        return [s for a in self._actions for s in a.option_strings]

    def parse_known_args(self, args=None, namespace=None):
        "As argparse, noting on the namespace the deepest sub-command parser (the one whose options apply)."
        ns, extra = super().parse_known_args(args, namespace)
        if not hasattr(ns, _PARSER):
            setattr(ns, _PARSER, self)
        return ns, extra

    def parse_args(self, args=None, namespace=None):
        "As argparse; an unknown option is reported by the command it was given to, with the closest option."
        ns, extra = self.parse_known_args(args, namespace)
        cmd = vars(ns).pop(_PARSER, self)
        if extra:
            tips = [
                f"{x.split('=')[0]}: did you mean {hit}?"
                for x in extra
                if x.startswith("-") and (hit := _closest(x.split("=")[0], cmd.options()))
            ]
            cmd.error(f"unrecognized arguments: {' '.join(extra)}" + (f" ({'; '.join(tips)})" if tips else ""))
        return ns

    def error(self, message):
        "Exit 2 with one `error:` line: `message`, the closest valid choice if one was mistyped, where help is."
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        hit = m and _closest(m[1], re.findall(r"'([^']*)'", m[2]))
        tip = f"; did you mean {hit!r}?" if hit else ""
        self.exit(2, f"error: {message}{tip} (see: {self.prog} --help)\n")
