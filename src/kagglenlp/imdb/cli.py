"""`kagglenlp imdb {pretrain,train,predict,generate}`: thin wrappers; fastai is imported inside the commands."""

import argparse
from dataclasses import dataclass

from ..args import add_dataclass_args, args_to_dataclass, opt
from .config import PretrainConfig, UlmfitConfig

__all__ = ["add_parser", "ImdbPredictArgs", "ImdbGenerateArgs"]


@dataclass(kw_only=True)
class ImdbPredictArgs:
    "Classify new texts with exported classifier(s); several models are averaged (forward + backward)."

    model: list[str] = opt(
        help="exported classifier(s), e.g. outputs/<name>/classifier_fwd.pkl classifier_bwd.pkl (pickles: only files "
        "you trust)"
    )
    texts: str = opt(help="CSV with a text column, or a folder of .txt files")
    out: str = opt("predictions.csv", "output CSV: input columns (no text) + label, prob, prob_<class>")
    bs: int = opt(64, "batch size", ge=1)
    overwrite: bool = opt(False, "replace an existing --out")


@dataclass(kw_only=True)
class ImdbGenerateArgs:
    "Sample continuations of a prompt from an exported language model."

    model: str = opt("outputs/imdb-ulmfit/lm_fwd.pkl", "exported LM (outputs/<name>/lm_fwd.pkl)")
    prompt: str = opt("I liked this movie because", "text to continue")
    words: int = opt(40, "words to add", ge=1)
    temperature: float = opt(0.75, "sampling temperature (<1: safer, >1: wilder)", gt=0)
    n: int = opt(1, "number of samples", ge=1)


def _pretrain(ns):
    from .pipeline import pretrain

    print(f"wrote {pretrain(args_to_dataclass(ns, PretrainConfig))}")


def _train(ns):
    from .pipeline import train

    train(args_to_dataclass(ns, UlmfitConfig))


def _predict(ns):
    from .predict import write_predictions

    a = args_to_dataclass(ns, ImdbPredictArgs)
    res = write_predictions(a.model, a.texts, a.out, a.bs, a.overwrite)
    print(f"wrote {len(res)} predictions to {a.out}: {res['label'].value_counts().to_dict()}")


def _generate(ns):
    from .lm import generate
    from .predict import load_learner_file

    a = args_to_dataclass(ns, ImdbGenerateArgs)
    for s in generate(load_learner_file(a.model, kind="lm"), a.prompt, a.words, a.temperature, a.n):
        print(s)


COMMANDS = (
    ("pretrain", PretrainConfig, _pretrain),
    ("train", UlmfitConfig, _train),
    ("predict", ImdbPredictArgs, _predict),
    ("generate", ImdbGenerateArgs, _generate),
)


def add_parser(sub):
    "Register `kagglenlp imdb` and its commands on argparse `sub`."
    p = sub.add_parser("imdb", help="IMDb sentiment with fastai ULMFiT (AWD-LSTM)")
    cmds = p.add_subparsers(dest="cmd", required=True)
    for name, cls, fn in COMMANDS:
        c = cmds.add_parser(name, help=cls.__doc__.splitlines()[0], description=cls.__doc__)
        add_dataclass_args(c, cls, config=True)
        if name == "generate":
            c.add_argument("-n", dest="n", type=int, default=argparse.SUPPRESS, help="same as --n")
        c.set_defaults(func=fn)
    return p
