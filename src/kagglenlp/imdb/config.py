"""Every IMDb hyperparameter, stated once: typed dataclasses whose help text becomes the CLI help.

Defaults are fastbook chapter 10's (fastai's AWD-LSTM size, `drop_mult` 0.3/0.5, the LM's 1+10 epochs, the
classifier's four gradual-unfreezing stages). An experiment is a small diff from these (see docs/imdb.md,
"Commands" and its defaults). Each number's allowed range is declared on its field (`ge`, `gt`, `lt`) and checked
before anything is written (`args.check_ranges`). Every field is saved in `outputs/<name>/experiment.json` and
compared on a rerun, except those in `RESUME_IGNORED` (they do not change results), so a field added here is safe
by default.
"""

from dataclasses import dataclass

from ..args import opt

__all__ = [
    "Arch",
    "PretrainConfig",
    "UlmfitConfig",
    "Stage",
    "lm_stages",
    "clas_stages",
    "LR_DIV",
    "RESUME_IGNORED",
]

LR_DIV = 2.6**4  # discriminative rates: lowest layer group gets lr/2.6**4 (ULMFiT)

# Settings a rerun may change and still resume: the name, speed knobs, and the input paths (their *content* is in
# the experiment's data fingerprint, so a moved file resumes and an edited one is refused).
RESUME_IGNORED = ("name", "threads", "n_workers", "overwrite", "data", "pretrained", "corpus")


@dataclass(kw_only=True)
class Arch:
    "AWD-LSTM size (fastai's default; a CPU wants e.g. 200/400/2)."

    emb_sz: int = opt(400, "AWD-LSTM embedding size", ge=1)
    n_hid: int = opt(1152, "AWD-LSTM hidden size", ge=1)
    n_layers: int = opt(3, "AWD-LSTM layers", ge=1)

    def arch(self):
        "The size as the dict fastai's AWD-LSTM config takes."
        return dict(emb_sz=self.emb_sz, n_hid=self.n_hid, n_layers=self.n_layers)


@dataclass(kw_only=True)
class Loader:
    "Batching, tokenizing and vocab settings shared by pretraining and training."

    bs: int = opt(64, "batch size", ge=1)
    seq_len: int = opt(72, "tokens per LM sequence / classifier BPTT chunk", ge=1)
    min_freq: int = opt(3, "drop tokens seen fewer times from the vocab", ge=0)
    max_vocab: int = opt(60000, "largest vocab (fastai's 9 special tokens included)", ge=16)
    lm_valid_pct: float = opt(0.1, "share of texts held out to validate the language model", gt=0, lt=1)
    seed: int = opt(42, "random seed for splits and weights", ge=0)
    n_workers: int = opt(0, "tokenizer processes (0: every available core)", ge=0)
    threads: int = opt(
        0, "torch CPU threads (0: torch's default; 1 is much faster for tiny models on a busy CPU)", ge=0
    )


@dataclass(kw_only=True)
class PretrainConfig(Arch, Loader):
    "Step 1 without fastai's WikiText-103 weights: pretrain an AWD-LSTM LM on a plain-text corpus."

    corpus: list[str] = opt(help="plain-text corpus file(s), e.g. wikitext2/valid.txt test.txt")
    name: str = opt("imdb-pretrain", "output folder outputs/<name>/ (lstm_fwd.pth, itos.pkl, config.json)")
    epochs: int = opt(2, "epochs of one-cycle training", ge=1)
    lr: float = opt(1e-2, "one-cycle max learning rate", gt=0)
    drop_mult: float = opt(0.1, "AWD-LSTM dropout multiplier", ge=0, lt=4)
    backwards: bool = opt(False, "also pretrain the backward LM (lstm_bwd.pth)")
    overwrite: bool = opt(False, "delete outputs/<name>/ first and start over (else a rerun resumes)")


@dataclass(kw_only=True)
class UlmfitConfig(Arch, Loader):
    "Steps 2-3: fine-tune the LM on IMDb texts, then the classifier with gradual unfreezing; optionally backwards too."

    data: str = opt(help="aclImdb folder or CSV label,text[,is_valid]")
    pretrained: list[str] = opt(
        None, "folder(s) with the general LM (*.pth + vocab *.pkl [+ config.json]); none: no step 1"
    )
    name: str = opt("imdb-ulmfit", "experiment name: outputs/<name>/")
    backwards: bool = opt(False, "also train the backward LM + classifier and report the ensemble")
    valid_pct: float = opt(0.2, "classifier hold-out when a CSV marks no row is_valid", gt=0, lt=1)
    lm_drop_mult: float = opt(0.3, "LM dropout multiplier", ge=0, lt=4)
    clas_drop_mult: float = opt(0.5, "classifier dropout multiplier", ge=0, lt=2)
    lm_epochs: list[int] = opt([1, 10], "LM epochs per stage: frozen, unfrozen (0 skips a stage)", ge=0)
    lm_lrs: list[float] = opt([2e-2, 2e-3], "LM learning rate per stage", gt=0)
    clas_epochs: list[int] = opt([1, 1, 1, 2], "classifier epochs per stage: last layer, -2, -3, all", ge=0)
    clas_lrs: list[float] = opt([2e-2, 1e-2, 5e-3, 1e-3], "classifier top learning rate per stage", gt=0)
    overwrite: bool = opt(False, "delete outputs/<name>/ first and start over (else a rerun resumes)")


@dataclass
class Stage:
    "One `fit_one_cycle` after `freeze_to(freeze_to)` (0 = all unfrozen); `lr_div` > 1 makes it `slice(lr/lr_div, lr)`."

    name: str
    freeze_to: int
    epochs: int
    lr: float
    lr_div: float = 1.0

    def lr_arg(self):
        "The learning rate as `fit_one_cycle` takes it: a float, or a discriminative slice."
        return slice(self.lr / self.lr_div, self.lr) if self.lr_div != 1 else self.lr


def _check(epochs, lrs, n, what):
    "Refuse a schedule without `n` epochs and `n` learning rates."
    from ..errors import require

    require(len(epochs) == n and len(lrs) == n, f"--{what}-epochs and --{what}-lrs need {n} values each")


def lm_stages(c):
    "The seed's LM schedule from config `c`: frozen (new embeddings only), then all layers."
    _check(c.lm_epochs, c.lm_lrs, 2, "lm")
    return [Stage("frozen", -1, c.lm_epochs[0], c.lm_lrs[0]), Stage("unfrozen", 0, c.lm_epochs[1], c.lm_lrs[1])]


def clas_stages(c):
    "The seed's gradual unfreezing from config `c`: last group, last 2, last 3 (discriminative), all."
    from ..errors import require

    _check(c.clas_epochs, c.clas_lrs, 4, "clas")
    require(
        sum(c.clas_epochs) > 0,
        f"--clas-epochs {' '.join(map(str, c.clas_epochs))}: the classifier would not train",
    )
    e, lr = c.clas_epochs, c.clas_lrs
    return [
        Stage("last", -1, e[0], lr[0]),
        Stage("last2", -2, e[1], lr[1], LR_DIV),
        Stage("last3", -3, e[2], lr[2], LR_DIV),
        Stage("all", 0, e[3], lr[3], LR_DIV),
    ]
