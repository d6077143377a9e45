"""Typed dataclass arguments to argparse and back (run_glue style); imports nothing else from the package.

A field's `metadata['help']` becomes its help text, `metadata['choices']` its choices; a field without a default is
a required option; `bool` fields become `--x/--no-x`; `list[...]` fields take one or more values.
"""

import argparse
import dataclasses
import typing

__all__ = ["opt", "add_dataclass_args", "args_to_dataclass"]


def opt(default=dataclasses.MISSING, help="", **kw):
    "A dataclass field with CLI `help` (and e.g. `choices`); no `default` makes the option required."
    meta = dict(help=help, **kw)
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: list(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _base_type(typ):
    "`Optional[X]` -> X."
    if typing.get_origin(typ) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return next(a for a in typing.get_args(typ) if a is not type(None))
    return typ


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
    "Build `cls` from the fields of argparse namespace `ns`."
    return cls(**{f.name: getattr(ns, f.name) for f in dataclasses.fields(cls) if f.init})
