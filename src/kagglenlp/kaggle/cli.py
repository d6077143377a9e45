"""`kagglenlp kaggle ...` sub-commands (placeholder until the kaggle pipeline lands)."""


def add_parser(sub):
    "Register `kagglenlp kaggle`."
    p = sub.add_parser("kaggle", help="kaggle pipeline")
    p.add_subparsers(dest="cmd", required=True)
    return p
