"""`kagglenlp` console script: `kagglenlp {patents,imdb,kaggle} COMMAND --help`.

Each pipeline module registers its own sub-commands through `add_parser(subparsers)`; heavy imports
(torch, transformers, fastai, kaggle) happen inside the commands, so `--help` is instant.
A `UserError` becomes one line on stderr and exit code 2; nothing else is caught.
"""
import argparse
import dataclasses
import sys
import typing

from .errors import UserError

__all__ = ["main", "add_dataclass_args", "args_to_dataclass"]


def add_dataclass_args(parser, cls):
    "Add one `--option` per field of dataclass `cls` to `parser`; help comes from `field(metadata={'help': ...})`."
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        typ, name = hints[f.name], "--" + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        kw = dict(help=f.metadata.get("help", "") + (f" (default: {default})" if default not in (None, False, "") else ""),
                  dest=f.name, default=default)
        if "choices" in f.metadata: kw["choices"] = f.metadata["choices"]
        if typ is bool:
            parser.add_argument(name, action=argparse.BooleanOptionalAction, **kw)
            continue
        args = typing.get_args(typ)
        base = next((a for a in args if a is not type(None)), typ) if typing.get_origin(typ) is typing.Union else typ
        if typing.get_origin(base) is list:
            kw["nargs"], base = "+", typing.get_args(base)[0]
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING: kw["required"] = True
        parser.add_argument(name, type=base, **kw)
    return parser


def args_to_dataclass(ns, cls):
    "Build `cls` from the fields of argparse namespace `ns`."
    return cls(**{f.name: getattr(ns, f.name) for f in dataclasses.fields(cls)})


def build_parser():
    "The root parser with every pipeline's sub-commands."
    from .imdb.cli import add_parser as imdb_parser
    from .kaggle.cli import add_parser as kaggle_parser
    from .patents.cli import add_parser as patents_parser
    p = argparse.ArgumentParser(prog="kagglenlp", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="pipeline", required=True)
    for add in (patents_parser, imdb_parser, kaggle_parser): add(sub)
    return p


def main(argv=None):
    "Entry point: parse `argv`, run the chosen command, turn `UserError` into a clean exit."
    p = build_parser()
    ns = p.parse_args(argv)
    try:
        res = ns.func(ns)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return res if isinstance(res, int) else 0


if __name__ == "__main__": sys.exit(main())
