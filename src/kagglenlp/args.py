"""Typed dataclass arguments to argparse and back (run_glue style); imports only `kagglenlp.errors` of the package.

A field's `metadata['help']` becomes its help text, `metadata['choices']` its choices, and `ge`/`gt`/`le`/`lt` its
allowed range (checked by `check_ranges` when the arguments are built, before a command writes anything); a field
without a default is a required option; `bool` fields become `--x/--no-x`; `list[...]` fields take one or more
values. `Parser` is the `ArgumentParser` every command uses: no abbreviations (`--epoch` is not `--epochs`), and a
mistake is one `error:` line that suggests the closest option or choice.

A `list[...]` field with `metadata['repeat']` (`opt(..., repeat=True)`) adds up the values of repeated flags.

`--config FILE.toml` (`read_config`) gives every option the flags leave out; its mistakes are one `error:` line
naming the file, in TOML's spelling. `FLAG_ONLY` settings (`overwrite`) act on the command line only: a file's are
ignored with a note, so that rerunning a config file resumes its run instead of deleting it.
"""

import argparse
import dataclasses
import difflib
import json
import re
import sys
import typing
from pathlib import Path

from .errors import UserError

__all__ = [
    "opt",
    "add_dataclass_args",
    "args_to_dataclass",
    "check_ranges",
    "Parser",
    "BOUNDS",
    "read_config",
    "config_to_dataclass",
    "to_toml",
    "FLAG_ONLY",
]

BOUNDS = {"ge": "at least", "gt": "above", "le": "at most", "lt": "below"}  # range keys of `opt` and their words
_PARSER = "_kagglenlp_parser"  # namespace attribute: the deepest (sub)parser that parsed the command line
_SEEN = "_flags_given"  # namespace attribute: the dests set on the command line (they win over --config)
_ARGV = "_kagglenlp_argv"  # parser attribute: the arguments it last parsed (to suggest an option in any error)
# Settings a config file may not hold: they act on every run of the file (`overwrite` would delete the outputs of
# the run before, so a crash could never resume); they are command-line flags only, and a file's are ignored.
FLAG_ONLY = ("overwrite",)


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
    """Raise one `UserError` naming the option when a field of dataclass `obj` (or a list item) is outside its
    range."""
    for f in dataclasses.fields(obj):
        if not any(k in f.metadata for k in BOUNDS):
            continue
        v = getattr(obj, f.name)
        for x in v if isinstance(v, (list, tuple)) else [v]:
            if x is not None and not _in_range(x, f.metadata):
                raise UserError(f"--{f.name.replace('_', '-')} must be {_range_text(f.metadata)}, got {x}")
    return obj


def _is_required(f):
    "True when dataclass field `f` has no default."
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _given(ns):
    "The set of dests given on the command line so far (kept on namespace `ns`)."
    if not hasattr(ns, _SEEN):
        setattr(ns, _SEEN, set())
    return getattr(ns, _SEEN)


class _Store(argparse.Action):
    "`store`, noting that the option was given."

    def __call__(self, parser, ns, values, option_string=None):
        setattr(ns, self.dest, values)
        _given(ns).add(self.dest)


class _Extend(argparse.Action):
    "A list option that may be repeated (`--param a --param b`): the values given add up, replacing the default."

    def __call__(self, parser, ns, values, option_string=None):
        given = _given(ns)
        setattr(ns, self.dest, (getattr(ns, self.dest) if self.dest in given else []) + list(values))
        given.add(self.dest)


class _Bool(argparse.BooleanOptionalAction):
    "`--x/--no-x`, noting that the option was given."

    def __call__(self, parser, ns, values, option_string=None):
        super().__call__(parser, ns, values, option_string)
        _given(ns).add(self.dest)


class _Config(argparse.Action):
    "`--config FILE`: the file's settings for every option not given on the command line."

    cls, options = None, ()  # set by `add_dataclass_args`: the dataclass and its required options

    def __call__(self, parser, ns, values, option_string=None):
        vals = read_config(values, self.cls)
        for k, v in vals.items():
            if k not in _given(ns):
                setattr(ns, k, v)
        for a in self.options:  # a required option the file sets is no longer missing
            a.required = a.required and a.dest not in vals
        setattr(ns, self.dest, values)


def add_dataclass_args(parser, cls, config=False):
    """Add one `--option` per field of dataclass `cls` to `parser` (and `--config FILE` when `config`); returns
    `parser`."""
    hints = typing.get_type_hints(cls)
    required_actions = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        name = "--" + f.name.replace("_", "-")
        required = _is_required(f)
        default = None
        if not required:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        shown = f" (default: {default})" if default not in (None, False, "", []) else ""
        kw = dict(help=f.metadata.get("help", "") + shown, dest=f.name)
        if "choices" in f.metadata:
            kw["choices"] = f.metadata["choices"]
        typ = _base_type(hints[f.name])
        if typ is bool:
            parser.add_argument(name, action=_Bool, default=bool(default), **kw)
            continue
        if typing.get_origin(typ) is list:
            kw["nargs"], typ = "+", typing.get_args(typ)[0]
        if required:
            kw["required"] = True
        else:
            kw["default"] = default
        act = parser.add_argument(name, type=typ, action=_Extend if f.metadata.get("repeat") else _Store, **kw)
        if required:
            required_actions.append(act)
    if config:
        act = parser.add_argument(
            "--config",
            metavar="FILE.toml",
            action=_Config,
            help="TOML file of settings (field = value); flags given here win; the name defaults to the file's stem",
        )
        act.cls, act.options = cls, required_actions
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
        setattr(self, _ARGV, list(sys.argv[1:] if args is None else args))
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

    def unknown_options(self):
        "`--x: did you mean --y?` for each option in the arguments this parser last parsed that it does not take."
        known, tips = set(self.options()), []
        for x in getattr(self, _ARGV, []):
            flag = x.split("=")[0]
            if flag.startswith("--") and flag not in known and (hit := _closest(flag, known)):
                tips.append(f"{flag}: did you mean {hit}?")
        return tips

    def error(self, message):
        """Exit 2 with one `error:` line: `message`, the closest valid choice if one was mistyped (or the closest
        option to an unknown one, when a required option is reported missing first), where help is."""
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        hit = m and _closest(m[1], re.findall(r"'([^']*)'", m[2]))
        tip = f"; did you mean {hit!r}?" if hit else ""
        if message.startswith("the following arguments are required") and (tips := self.unknown_options()):
            tip = f" ({'; '.join(tips)})"
        self.exit(2, f"error: {message}{tip} (see: {self.prog} --help)\n")


# ---------------------------------------------------------------- config files


def _check_value(key, v, typ, choices, where):
    """`v` (a TOML value for field `key` of type `typ`) as the field takes it, or a `UserError` saying what is
    wrong."""
    typ = _base_type(typ)
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    if typing.get_origin(typ) is list:
        inner = typing.get_args(typ)[0]
        if not isinstance(v, list):
            raise UserError(f"{where}: {key} = {v!r} should be a list of {names.get(inner, inner)} values")
        return [_check_value(key, x, inner, choices, where) for x in v]
    ok = {
        bool: isinstance(v, bool),
        int: isinstance(v, int) and not isinstance(v, bool),
        float: isinstance(v, (int, float)) and not isinstance(v, bool),
        str: isinstance(v, str),
    }.get(typ, True)
    if not ok:
        raise UserError(f"{where}: {key} = {_shown(v)} should be {names.get(typ, typ)}")
    if choices and v not in choices:
        raise UserError(f"{where}: {key} = {_shown(v)} is not one of {', '.join(map(str, choices))}")
    return float(v) if typ is float else v


def _shown(v):
    "TOML value `v` as a TOML file spells it (`true`, `'8'`), for messages."
    return _toml_value(v) if isinstance(v, (bool, int, float, list)) else repr(v)  # a str: repr


def read_config(path, cls):
    """The settings in TOML file `path` for dataclass `cls`, checked (known keys, types, choices) and converted;
    `name` defaults to the file's stem when `cls` has that field; a `FLAG_ONLY` setting is ignored with a note on
    stderr. Bad files raise `UserError`."""
    import tomllib

    from .errors import not_utf8

    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except UnicodeDecodeError:
        raise not_utf8(path, "save the config file as UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{path} is not valid TOML ({e})") from None
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    out = {}
    for k, v in raw.items():
        if isinstance(v, dict):
            raise UserError(
                f"{path}: [{k}] is a TOML table; settings go at the top of the file as `field = value`, "
                "not under a [section]"
            )
        if k in FLAG_ONLY and k in fields:
            print(
                f"note: {path} sets {k} = {_shown(v)}: ignored; --{k} is a command-line flag only "
                "(in a file it would act on every run)",
                file=sys.stderr,
            )
            continue
        if k not in fields:
            near = difflib.get_close_matches(k.replace("-", "_"), fields, n=1, cutoff=0.5)
            hint = f"did you mean {near[0]!r}?" if near else f"valid keys: {', '.join(fields)}"
            raise UserError(f"{path}: unknown setting {k!r}; {hint}")
        out[k] = _check_value(k, v, hints[k], fields[k].metadata.get("choices"), path)
    if "name" in fields and "name" not in out:
        out["name"] = path.stem
    return out


def config_to_dataclass(cls, path=None, **overrides):
    "`cls` built from TOML file `path` (if any), with `overrides` winning (e.g. a notebook's parameters)."
    vals = {**(read_config(path, cls) if path else {}), **overrides}
    missing = [f.name for f in dataclasses.fields(cls) if f.init and _is_required(f) and f.name not in vals]
    if missing:
        raise UserError(f"{path or 'the settings'} must set {', '.join(missing)}")
    return check_ranges(cls(**vals))


def to_toml(settings, comment=""):
    "TOML text for a flat dict `settings` (None values left out: the field's default), after `# comment` lines."
    lines = [f"# {c}" for c in comment.splitlines()]
    for k, v in settings.items():
        if v is None:
            continue
        lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def _toml_value(v):
    "One TOML value: bool, int, float, string or list of them."
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(map(_toml_value, v)) + "]"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(str(v))  # a JSON string is a valid TOML basic string
