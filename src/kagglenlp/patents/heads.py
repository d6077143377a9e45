"""Cross-encoder heads on a transformers backbone: pooling, loss, dropout, and the per-group learning rates.

A fold model is a backbone (`AutoModel`) with a small head, trained by HF `Trainer`:
- `--pool cls|mean|attention`: the first token's state, the mean over real tokens (padding never counts), or a
  learned attention weighting over real tokens;
- `--loss mse|bce`: MSE on the raw output, or BCE with logits on the score in [0, 1] (a sigmoid at prediction);
- `--head-dropout`: dropout on the pooled vector before the linear head;
- `--head-lr` and `--lr-decay`: the head's own learning rate and layer-wise decay (the top layer gets `--lr`, each
  layer below `--lr-decay` times the one above, the embeddings last), set by `HeadTrainer.create_optimizer`.

A fold folder holds the backbone (`save_pretrained`), the tokenizer, `head.safetensors` and, in
`input_format.json`, the `arch`, `pool`, `loss` and `head_dropout` that rebuild it: `load_fold_model(fold_dir)`
and `postprocess(fmt, raw)` are all inference needs. Folders saved before heads existed (no `arch` in
`input_format.json`) load as `AutoModelForSequenceClassification`.
"""

import re
from pathlib import Path

import numpy as np

from ..errors import require

__all__ = [
    "ARCHS",
    "POOLS",
    "LOSSES",
    "HEAD_FILE",
    "check_head_options",
    "head_format",
    "mean_pool",
    "pool_states",
    "pair_loss",
    "build_model",
    "load_backbone",
    "save_fold_model",
    "load_fold_model",
    "postprocess",
    "param_groups",
    "trainer_class",
    "fit_fold",
    "head_lr_for",
]

ARCHS = ("cross", "bi")
POOLS = ("cls", "mean", "attention")
LOSSES = ("mse", "bce")
HEAD_FILE = "head.safetensors"


def check_head_options(cfg):
    "Raise `UserError` for head settings of `cfg` that cannot train (checked when the config is built)."
    require(cfg.arch in ARCHS, f"unknown --arch {cfg.arch!r}; choose one of {', '.join(ARCHS)}")
    require(cfg.pool in POOLS, f"unknown --pool {cfg.pool!r}; choose one of {', '.join(POOLS)}")
    require(cfg.loss in LOSSES, f"unknown --loss {cfg.loss!r}; choose one of {', '.join(LOSSES)}")
    require(cfg.head_lr is None or cfg.head_lr > 0, f"--head-lr must be positive, got {cfg.head_lr}")
    require(0 < cfg.lr_decay <= 1, f"--lr-decay must be in (0, 1], got {cfg.lr_decay}")
    require(0 <= cfg.head_dropout < 1, f"--head-dropout must be in [0, 1), got {cfg.head_dropout}")
    require(
        cfg.arch != "bi" or cfg.text in ("seed", "cpc"),
        f"--arch bi embeds anchor and target separately: use --text seed (phrases alone) or cpc (CPC title on "
        f"the anchor side), not {cfg.text!r}",
    )


BI_HEAD_LR = 1e-2  # the bi-encoder's head is a scale and a bias: measured best at the CPU budget (README)


def head_lr_for(cfg):
    "The head learning rate of `cfg`: `--head-lr`, else 1e-2 for the bi-encoder's scale and bias, else `--lr`."
    return cfg.head_lr or (BI_HEAD_LR if cfg.arch == "bi" else cfg.lr)


def head_format(cfg):
    "The head settings a fold folder records so that inference rebuilds the same model."
    return {"arch": cfg.arch, "pool": cfg.pool, "loss": cfg.loss, "head_dropout": cfg.head_dropout}


# ---------------------------------------------------------------- pooling and loss


def mean_pool(states, mask):
    "Mean of `states` (batch, tokens, dim) over the tokens where `mask` is 1; padding never counts."
    m = mask.unsqueeze(-1).to(states.dtype)
    return (states * m).sum(1) / m.sum(1).clamp(min=1e-9)


def pool_states(states, mask, pool, attn=None):
    "One vector per sequence from token `states`: `cls` (first token), `mean` or `attention` (scores from `attn`)."
    import torch

    if pool == "cls":
        return states[:, 0]
    if pool == "mean":
        return mean_pool(states, mask)
    w = attn(states).squeeze(-1).masked_fill(mask == 0, torch.finfo(states.dtype).min)
    return (torch.softmax(w, dim=1).unsqueeze(-1) * states).sum(1)


def pair_loss(logits, labels, loss):
    "MSE on the output, or BCE with logits against the score in [0, 1]."
    import torch.nn.functional as F

    labels = labels.to(logits.dtype).view(-1)
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(logits, labels)
    return F.mse_loss(logits, labels)


def postprocess(fmt, raw):
    "Predictions in the score's scale from a fold model's raw outputs (a sigmoid for `bce`)."
    raw = np.asarray(raw, dtype=float).reshape(-1)
    return 1 / (1 + np.exp(-raw)) if fmt.get("loss") == "bce" else raw


# ---------------------------------------------------------------- the cross-encoder


def _cross_class():
    "The `CrossEncoder` module class (defined lazily: torch is imported only when a model is built)."
    import torch
    from torch import nn
    from transformers.modeling_outputs import SequenceClassifierOutput

    class CrossEncoder(nn.Module):
        "Backbone + pooling + dropout + linear head: one score per `anchor [SEP] target [SEP] context` input."

        def __init__(self, backbone, pool="cls", loss="mse", head_dropout=0.1):
            super().__init__()
            self.backbone, self.pool, self.loss = backbone, pool, loss
            self.config = backbone.config
            dim = backbone.config.hidden_size
            self.attn = (
                nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, 1)) if pool == "attention" else None
            )
            self.dropout = nn.Dropout(head_dropout)
            self.head = nn.Linear(dim, 1)
            for m in [self.head, *(self.attn or [])]:
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, std=0.02)
                    nn.init.zeros_(m.bias)

        def forward(self, input_ids, attention_mask, token_type_ids=None, labels=None):
            "Scores (and the loss when `labels` are given)."
            kw = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
            states = self.backbone(input_ids=input_ids, attention_mask=attention_mask, **kw).last_hidden_state
            pooled = pool_states(states, attention_mask, self.pool, self.attn)
            logits = self.head(self.dropout(pooled)).squeeze(-1)
            loss = pair_loss(logits, labels, self.loss) if labels is not None else None
            return SequenceClassifierOutput(loss=loss, logits=logits.to(torch.float32))

    return CrossEncoder


def load_backbone(name_or_dir):
    "The bare transformers encoder (`AutoModel`) of backbone `name_or_dir` (an alias, folder or hub name)."
    from transformers import AutoModel
    from transformers.utils import logging

    from .model import resolve_model

    level = logging.get_verbosity()
    logging.set_verbosity_error()  # unused pooler / LM-head weights in the checkpoint are expected
    try:
        return AutoModel.from_pretrained(resolve_model(str(name_or_dir)))
    finally:
        logging.set_verbosity(level)


def build_model(cfg):
    "A fresh fold model for config `cfg`: its backbone with the head `cfg.arch`/`pool`/`loss`/`head_dropout` asks."
    backbone = load_backbone(cfg.model)
    if cfg.arch == "bi":
        from .biencoder import bi_class

        return bi_class()(backbone, cfg.loss)
    return _cross_class()(backbone, cfg.pool, cfg.loss, cfg.head_dropout)


def save_fold_model(model, tok, fd):
    "Save `model`'s backbone and tokenizer (`save_pretrained`) and its head weights into fold folder `fd`."
    from safetensors.torch import save_file

    model.backbone.save_pretrained(str(fd))
    tok.save_pretrained(str(fd))
    head = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if not k.startswith("backbone.")}
    save_file(head, str(Path(fd) / HEAD_FILE))


def load_fold_model(fold_dir):
    "The model saved in fold folder `fold_dir`, rebuilt from its `input_format.json`, in eval mode."
    from ..experiment import read_json
    from .fold import FORMAT_FILE

    fd = Path(fold_dir)
    fmt = read_json(fd / FORMAT_FILE)
    if "arch" not in fmt:  # saved before heads existed: a transformers sequence-regression model
        from .model import load_model

        return load_model(str(fd)).eval()
    from safetensors.torch import load_file

    require((fd / HEAD_FILE).exists(), f"{fd} holds no {HEAD_FILE}; the fold is incomplete, retrain it")
    backbone = load_backbone(fd)
    if fmt["arch"] == "bi":
        from .biencoder import bi_class

        model = bi_class()(backbone, fmt["loss"])
    else:
        model = _cross_class()(backbone, fmt["pool"], fmt["loss"], fmt["head_dropout"])
    missing, unexpected = model.load_state_dict(load_file(str(fd / HEAD_FILE)), strict=False)
    require(
        not unexpected and all(k.startswith("backbone.") for k in missing),
        f"{fd / HEAD_FILE} does not fit the head in {FORMAT_FILE} (missing {missing[:3]}, unexpected "
        f"{unexpected[:3]}); retrain the fold",
    )
    return model.eval()


# ---------------------------------------------------------------- optimisation


def _depth(name, n_layers):
    "Depth of backbone parameter `name`: 0 for the embeddings, i+1 for layer i, `n_layers + 1` above the layers."
    if "embeddings" in name and "rel_embeddings" not in name:
        return 0
    m = re.search(r"\.layers?\.(\d+)\.", name)
    return int(m.group(1)) + 1 if m else n_layers + 1


def param_groups(model, lr, head_lr=None, lr_decay=1.0, weight_decay=0.0, no_decay=()):
    """Optimizer parameter groups: backbone parameters at `lr * lr_decay ** (layers above)`, the head (everything
    outside `model.backbone`) at `head_lr` (default `lr`); names in `no_decay` get no weight decay."""
    n_layers = getattr(model.backbone.config, "num_hidden_layers", 0)
    groups = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name.startswith("backbone."):
            g_lr = lr * lr_decay ** max(n_layers - _depth(name, n_layers), 0)
        else:
            g_lr = head_lr or lr
        wd = 0.0 if name in no_decay else weight_decay
        groups.setdefault((g_lr, wd), []).append(p)
    return [{"params": ps, "lr": g_lr, "weight_decay": wd} for (g_lr, wd), ps in groups.items()]


def trainer_class(head_lr=None, lr_decay=1.0):
    "A `Trainer` subclass whose optimizer uses `param_groups` (the head's LR and the layer-wise decay)."
    from .train import fold_trainer_class

    class HeadTrainer(fold_trainer_class()):
        "HF `Trainer` with a separate head learning rate and layer-wise learning-rate decay."

        def create_optimizer(self, model=None):
            "AdamW (the args' optimizer) over `param_groups`."
            if self.optimizer is None:
                m = self.model if model is None else model
                decay = set(self.get_decay_parameter_names(m))
                no_decay = [n for n, _ in m.named_parameters() if n not in decay]
                groups = param_groups(m, self.args.learning_rate, head_lr, lr_decay, self.args.weight_decay, no_decay)
                cls, kw = self.get_optimizer_cls_and_kwargs(self.args, m)
                self.optimizer = cls(groups, **kw)
            return self.optimizer

    return HeadTrainer


def fit_fold(cfg, model, tok, trn, tst, m_trn, m_val, ds, tst_ds, fmt, args):
    """Train fold model `model` on the rows `m_trn` of `trn` (cross-encoder: from the pre-tokenized `ds`, `tst_ds`);
    returns `(trainer, oof, test_preds, log_history)`, predictions in the score's scale for `m_val` and `tst`."""
    if cfg.arch == "bi":
        from .biencoder import fit_fold as bi_fit

        return bi_fit(cfg, model, tok, trn, tst, m_trn, m_val, fmt, args)
    from .train import fit

    trn_ds, val_ds = ds.select(np.flatnonzero(m_trn)), ds.select(np.flatnonzero(m_val))
    trainer, oof, tpred, log = fit(
        model, tok, trn_ds, val_ds, tst_ds, args, trainer_cls=trainer_class(head_lr_for(cfg), cfg.lr_decay)
    )
    return trainer, postprocess(fmt, oof), postprocess(fmt, tpred), log
