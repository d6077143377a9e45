"""The bi-encoder (`--arch bi`): anchor and target embedded apart, scored by a scaled cosine.

One shared encoder embeds the anchor side and the target side separately (mean pooling over real tokens); the
score is `w * cos(u, v) + b` with a learned scale and bias (`w = 1, b = 0` at the start, so an untrained model
scores exactly the zero-shot cosine). With `--text cpc` the CPC title is appended to the anchor side
(`anchor; title`); `--text seed` embeds the bare phrases (no context at all). Training regresses the score with
`--loss` through HF `Trainer`; at inference every distinct phrase is embedded once (anchors repeat across many
rows), then pairs are scored from the cached embeddings, `infer.PAIR_CHUNK` at a time (`predict_pairs` through
`infer.phrase_cosines`, shared with the zero-shot floor): the same numbers as the pairwise forward pass, in memory
that grows with the distinct phrases, not the rows.
"""

from dataclasses import replace

import numpy as np

from ...errors import require
from ..inputs import MAX_LEN, pair_texts
from .headed import load_head, save_headed
from .recipe import Recipe, postprocess, register

__all__ = [
    "BiRecipe",
    "bi_class",
    "tokenize_pairs",
    "PairCollator",
    "predict_pairs",
    "SEED_NOTE",
]

SEED_NOTE = (
    "note: --arch bi --text seed embeds the bare phrases: the CPC context is not used; --text cpc puts the CPC "
    "title on the anchor side"
)


def bi_class():
    "The `BiEncoder` module class (defined lazily: torch is imported only when a model is built)."
    import torch
    from torch import nn
    from transformers.modeling_outputs import SequenceClassifierOutput

    from .heads import mean_pool, pair_loss

    class BiEncoder(nn.Module):
        "Shared encoder, mean pooling, `w * cos(u, v) + b`."

        def __init__(self, backbone, loss="mse"):
            super().__init__()
            self.backbone, self.loss, self.config = backbone, loss, backbone.config
            self.scale = nn.Parameter(torch.ones(1))
            self.bias = nn.Parameter(torch.zeros(1))

        def embed(self, input_ids, attention_mask):
            "Mean-pooled embeddings of a batch of phrases."
            states = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return mean_pool(states, attention_mask)

        def score(self, u, v):
            "Raw scores of embedding pairs `u`, `v`."
            return self.scale * nn.functional.cosine_similarity(u, v, dim=-1) + self.bias

        def forward(self, a_input_ids, a_attention_mask, b_input_ids, b_attention_mask, labels=None, length=None):
            """Scores (and the loss when `labels` are given) of the pairs in a batch (`length`: for the sampler
            only)."""
            logits = self.score(
                self.embed(a_input_ids, a_attention_mask),
                self.embed(b_input_ids, b_attention_mask),
            )
            loss = pair_loss(logits, labels, self.loss) if labels is not None else None
            return SequenceClassifierOutput(loss=loss, logits=logits.to(torch.float32))

    return BiEncoder


def tokenize_pairs(tok, a, b, max_len=MAX_LEN, labels=None, ids=None):
    "A `datasets.Dataset` of both sides tokenized once (`a_*`, `b_*` columns; padding per batch)."
    from datasets import Dataset

    ta, tb = tok(list(a), truncation=True, max_length=max_len), tok(list(b), truncation=True, max_length=max_len)
    cols = {
        "a_input_ids": ta["input_ids"],
        "a_attention_mask": ta["attention_mask"],
        "b_input_ids": tb["input_ids"],
        "b_attention_mask": tb["attention_mask"],
        "length": [len(x) + len(y) for x, y in zip(ta["input_ids"], tb["input_ids"])],
    }  # for group_by_length
    if labels is not None:
        cols["labels"] = np.asarray(labels, dtype=np.float32)
    if ids is not None:
        cols["id"] = list(ids)
    return Dataset.from_dict(cols)


class PairCollator:
    "Pads the anchor side and the target side of a batch separately (the tokenizer's own padding)."

    def __init__(self, tok):
        self.tok = tok

    def __call__(self, feats):
        import torch

        out = {}
        for side in ("a", "b"):
            keys = {"input_ids": f"{side}_input_ids", "attention_mask": f"{side}_attention_mask"}
            enc = [{k: f[v] for k, v in keys.items()} for f in feats]
            padded = self.tok.pad(enc, return_tensors="pt")
            out[f"{side}_input_ids"], out[f"{side}_attention_mask"] = padded["input_ids"], padded["attention_mask"]
        if "labels" in feats[0]:
            out["labels"] = torch.tensor([f["labels"] for f in feats], dtype=torch.float32)
        return out


def predict_pairs(model, tok, a, b, bs=256, max_len=MAX_LEN):
    "Raw scores of `BiEncoder` `model` for the pairs `(a[i], b[i])`, from embeddings cached per distinct phrase."
    from .infer import phrase_cosines

    cos = phrase_cosines(model, tok, list(a), list(b), bs, max_len)
    return model.scale.item() * cos + model.bias.item()


@register
class BiRecipe(Recipe):
    "Bi-encoder: anchor and target embedded apart by one shared encoder, scored by a scaled cosine."

    name = "bi"
    texts = ("seed", "cpc")  # seed: the bare phrases (no context); cpc: the CPC title joins the anchor side
    default_lr = 2e-4  # measured best at the CPU budget (docs/patents.md)
    default_head_lr = 1e-2  # the head is a scale and a bias: measured best at the CPU budget (docs/patents.md)

    def check(self, cfg):
        "The shared text check, and no cross-encoder toolbox option (`--grad-accum` and `--eval-bs` do apply)."
        super().check(cfg)
        cross_only = {
            "--evals-per-epoch": cfg.evals_per_epoch > 0,
            f"--adv {cfg.adv}": cfg.adv != "none",
            "--ema": cfg.ema > 0,
            "--msd": cfg.msd > 1,
            "--pool lstm": cfg.pool == "lstm",
            "--loss pearson": cfg.loss == "pearson",
            "--freeze-embeddings": cfg.freeze_embeddings,
            "--grad-checkpointing": cfg.grad_checkpointing,
        }
        bad = [k for k, on in cross_only.items() if on]
        require(not bad, f"--arch bi does not support {', '.join(bad)} (cross-encoder options); use --arch cross")

    def fold_format(self, cfg, titles):
        "The shared input format plus the loss (a sigmoid at prediction for `bce`)."
        return {**super().fold_format(cfg, titles), "loss": cfg.loss}

    def input_strings(self, cfg, tok, df, titles):
        "The two strings per row the encoder embeds apart, as columns `anchor side` and `target side`."
        import pandas as pd

        a, b = pair_texts(df, cfg.text, titles)
        return pd.DataFrame({"anchor side": a, "target side": b}, index=df.index)

    def prepare(self, cfg, tok, trn, tst, fmt):
        """Both sides' strings of `trn` and `tst`, and `trn`'s pairs tokenized once for every fold (a note for
        seed)."""
        from ... import dist

        if fmt["text"] == "seed" and dist.is_main():
            print(SEED_NOTE)
        a, b = pair_texts(trn, fmt["text"], fmt["titles"])
        ds = tokenize_pairs(tok, a, b, cfg.max_len, trn["score"].values)
        return {"a": a, "b": b, "ds": ds, "test": pair_texts(tst, fmt["text"], fmt["titles"]), "fmt": fmt}

    def build(self, cfg):
        "A `BiEncoder` on backbone `cfg.model`."
        from .backbone import load_backbone

        return bi_class()(load_backbone(cfg.model), cfg.loss)

    def trainer(self, cfg, model, tok, inputs, m_trn, m_val, args):
        "HF `Trainer` on the fold's pairs (no per-epoch eval: the OOF predictions from cached phrases score it)."
        from ..trainer import head_trainer_class, make_trainer

        return make_trainer(
            model,
            tok,
            replace(args, eval_strategy="no"),
            inputs["ds"].select(np.flatnonzero(m_trn)),
            trainer_cls=head_trainer_class(cfg.eff_head_lr, cfg.lr_decay),
            data_collator=PairCollator(tok),
        )

    def fit(self, cfg, model, tok, inputs, m_trn, m_val, args):
        "Train with `self.trainer`; OOF and test predictions from embeddings cached per distinct phrase."
        a, b, vdx = inputs["a"], inputs["b"], np.flatnonzero(m_val)
        trainer = self.trainer(cfg, model, tok, inputs, m_trn, m_val, args)
        trainer.train()
        bs = cfg.eff_eval_bs
        oof = predict_pairs(model, tok, [a[i] for i in vdx], [b[i] for i in vdx], bs, cfg.max_len)
        tpred = predict_pairs(model, tok, *inputs["test"], bs, cfg.max_len)
        fmt = inputs["fmt"]
        return trainer.model, postprocess(fmt, oof), postprocess(fmt, tpred), trainer.state.log_history

    def save(self, model, tok, fd):
        "Backbone and tokenizer (`save_pretrained`) plus `head.safetensors` (scale and bias)."
        save_headed(model, tok, fd)

    def load(self, fd, fmt):
        "The saved `BiEncoder`."
        from .backbone import load_backbone

        return load_head(bi_class()(load_backbone(fd), fmt["loss"]), fd)

    def predict(self, fd, fmt, df, bs):
        "Each distinct phrase of `df` embedded once, pairs scored from the cache."
        from .backbone import load_tokenizer
        from .infer import device

        tok, model = load_tokenizer(str(fd)), self.load(fd, fmt).to(device())
        a, b = pair_texts(df, fmt["text"], fmt.get("titles"))
        return postprocess(fmt, predict_pairs(model, tok, a, b, bs, fmt.get("max_len", MAX_LEN)))
