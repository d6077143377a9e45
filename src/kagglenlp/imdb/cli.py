"""`kagglenlp imdb ...` sub-commands (placeholder until the imdb pipeline lands)."""


def add_parser(sub):
    "Register `kagglenlp imdb`."
    p = sub.add_parser("imdb", help="imdb pipeline")
    p.add_subparsers(dest="cmd", required=True)
    return p
