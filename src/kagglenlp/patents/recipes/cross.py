"""The cross-encoder (`--arch cross`): one encoder reads `anchor [SEP] target [SEP] context`, a small head scores it.

The model is a backbone (`AutoModel`) with a head, trained by HF `Trainer`:
- `--pool cls|mean|attention`: the first token's state, the mean over real tokens, or a learned attention
  weighting over real tokens;
- `--loss mse|bce`: MSE on the raw output, or BCE with logits (a sigmoid at prediction);
- `--head-dropout`: dropout on the pooled vector before the linear head;
- `--head-lr`, `--lr-decay`: the head's own learning rate and layer-wise decay (`optim.head_trainer_class`).
Inputs are the `--text` strings (`text.make_inputs`), tokenized once for all folds. Folders saved before heads
existed (no `arch` in `input_format.json`) load as `AutoModelForSequenceClassification`.
"""

import numpy as np

from ..layers import pair_loss, pool_states, postprocess
from ..text import MAX_LEN
from .base import Recipe, register
from .headed import load_head, save_headed

__all__ = ["CrossRecipe", "cross_class"]


def cross_class():
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


@register
class CrossRecipe(Recipe):
    "Cross-encoder: the pair read together by one encoder, pooled, scored by a linear head."

    name = "cross"
    default_lr = 8e-5  # the lesson's
    default_head_lr = None  # the same as --lr

    def fold_format(self, cfg, titles):
        "The shared input format plus the head's settings."
        return {**super().fold_format(cfg, titles), **_head(cfg)}

    def prepare(self, cfg, tok, trn, tst, fmt):
        "`trn` and `tst` as `--text` strings, tokenized once for every fold."
        from ..text import make_inputs, model_sep
        from ..train import tokenize

        sep = model_sep(tok)
        inputs = [make_inputs(df, fmt["text"], fmt["titles"], sep, fmt["sib_cap"]) for df in (trn, tst)]
        ds = tokenize(tok, inputs[0], trn["score"], trn["id"], cfg.max_len)
        tst_ds = tokenize(tok, inputs[1], max_len=cfg.max_len)
        return {"ds": ds, "tst_ds": tst_ds, "fmt": fmt}

    def build(self, cfg):
        "The backbone `cfg.model` with the head `cfg.pool`/`loss`/`head_dropout` ask for."
        from ..model import load_backbone

        return cross_class()(load_backbone(cfg.model), cfg.pool, cfg.loss, cfg.head_dropout)

    def trainer(self, cfg, model, tok, inputs, m_trn, m_val, args):
        "HF `Trainer` (head LR, layer decay) on the fold's rows of the tokenized train set, validating on `m_val`."
        from ..optim import head_trainer_class
        from ..train import make_trainer

        ds = inputs["ds"]
        trn_ds, val_ds = ds.select(np.flatnonzero(m_trn)), ds.select(np.flatnonzero(m_val))
        return make_trainer(model, tok, args, trn_ds, val_ds, head_trainer_class(cfg.eff_head_lr, cfg.lr_decay))

    def fit(self, cfg, model, tok, inputs, m_trn, m_val, args):
        "Train with `self.trainer`; OOF and test predictions through the trainer (dataset order kept)."
        from ..train import predict_ds

        trainer = self.trainer(cfg, model, tok, inputs, m_trn, m_val, args)
        trainer.train()
        oof, tpred = predict_ds(trainer, trainer.eval_dataset), predict_ds(trainer, inputs["tst_ds"])
        fmt = inputs["fmt"]
        return trainer.model, postprocess(fmt, oof), postprocess(fmt, tpred), trainer.state.log_history

    def save(self, model, tok, fd):
        "Backbone and tokenizer (`save_pretrained`) plus `head.safetensors`."
        save_headed(model, tok, fd)

    def load(self, fd, fmt):
        "The saved cross-encoder (or, for folders of old versions, the transformers regression model)."
        from ..model import load_backbone, load_model

        if "arch" not in fmt:  # saved before heads existed: a transformers sequence-regression model
            return load_model(str(fd)).eval()
        return load_head(cross_class()(load_backbone(fd), fmt["pool"], fmt["loss"], fmt["head_dropout"]), fd)

    def predict(self, fd, fmt, df, bs):
        "The fold's `--text` strings for `df`, length-sorted batches, no `Trainer`."
        from ..infer import predict_texts
        from ..model import load_tokenizer
        from ..text import make_inputs, model_sep

        tok, model = load_tokenizer(str(fd)), self.load(fd, fmt)
        inputs = make_inputs(df, fmt["text"], fmt.get("titles"), model_sep(tok), fmt.get("sib_cap"))
        return postprocess(fmt, predict_texts(model, tok, inputs, bs, fmt.get("max_len", MAX_LEN)))


def _head(cfg):
    "The head settings a fold folder records so that inference rebuilds the same model."
    return {"pool": cfg.pool, "loss": cfg.loss, "head_dropout": cfg.head_dropout}
