"""`kagglenlp` console script: `kagglenlp {patents,imdb,kaggle} COMMAND --help`, and `kagglenlp results`.

Each pipeline's `cli` module registers its sub-commands through `add_parser(subparsers)` and imports only
`kagglenlp.args`, never this module; heavy imports (torch, transformers, fastai, kaggle) happen inside the
commands, so `--help` is instant. Bad input (`UserError`), file-system errors and undecodable files become one
`error:` line on stderr and exit code 2, as do mistyped options (`args.Parser`: no abbreviations, the closest
option suggested); Ctrl-C exits 130.
"""

import sys
from pathlib import Path

from .args import Parser
from .errors import UserError

__all__ = ["main", "build_parser"]


def build_parser():
    "The root parser with every pipeline's sub-commands."
    from .imdb.cli import add_parser as imdb_parser
    from .kaggle_tools.cli import add_parser as kaggle_parser
    from .patents.cli import add_parser as patents_parser
    from .results_cli import add_parser as results_parser

    p = Parser(prog="kagglenlp", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="pipeline", required=True)
    for add in (patents_parser, imdb_parser, kaggle_parser, results_parser):
        add(sub)
    return p


def error_message(e):
    "The one line shown for exception `e` (a `UserError`, a file-system error or an undecodable file)."
    if isinstance(e, UnicodeDecodeError):
        return f"a file is not UTF-8 text ({e.reason} at byte {e.start}); save it as UTF-8 (e.g. CSV UTF-8 in Excel)"
    if isinstance(e, OSError) and e.filename:
        what = "file" if Path(e.filename).is_file() else "folder"
        return f"{e.strerror or e}: {e.filename}" + (f" (check the {what}'s permissions)" if e.errno == 13 else "")
    return str(e)


def main(argv=None):
    "Entry point: parse `argv`, run the chosen command; returns the exit code."
    try:
        ns = build_parser().parse_args(argv)  # inside: a bad --config file is one error line too
        res = ns.func(ns)
    except (UserError, OSError, UnicodeDecodeError) as e:
        print(f"error: {error_message(e)}", file=sys.stderr)
        return getattr(e, "exit_code", 2)
    except KeyboardInterrupt:
        print("error: interrupted (Ctrl-C)", file=sys.stderr)
        return 130
    except Exception as e:  # a failed write outside `files.saving` (e.g. a SafetensorError): still one line
        from .files import write_failure

        fail = write_failure(e)
        if fail is None:
            raise
        print(
            f"error: a write failed ({fail[1]}); free disk space or fix permissions, then rerun",
            file=sys.stderr,
        )
        return 2
    return res if isinstance(res, int) else 0


if __name__ == "__main__":
    sys.exit(main())
