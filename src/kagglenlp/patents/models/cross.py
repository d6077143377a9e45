"""The cross-encoder (`--arch cross`): an encoder reads `anchor [SEP] target [SEP] context`, a head scores it.

The model is a backbone (`AutoModel`) with a head, trained by HF `Trainer`:
- `--pool cls|mean|attention|lstm`: the first token's state, the mean over real tokens, a learned attention
  weighting over real tokens, or a BiLSTM over the token states then attention (`heads.LstmAttentionPool`);
- `--loss mse|bce|pearson`: MSE on the raw output, BCE with logits, or 1 - the batch's Pearson (a sigmoid at
  prediction after the last two);
- `--head-dropout`: dropout on the pooled vector before the linear head; `--msd N`: the head averaged over N such
  dropout masks (`heads.MultiSampleDropout`);
- `--head-lr`, `--lr-decay`: the head's own learning rate and layer-wise decay (`trainer.head_trainer_class`);
- the toolbox (docs/toolbox.md): `--adv fgm|awp` (`trainer.adversarial_class`), `--ema` (`tricks.ema.EmaCallback`),
  `--freeze-embeddings`, `--grad-checkpointing` (on the backbone), `--sib-shuffle` (a new sibling order each epoch,
  `tricks.siblings.SiblingShuffleDataset`) and `--tta N` (OOF and test predictions averaged over N sibling orders;
  `input_format.json` records it, so `patents predict` does the same).
Inputs are the `--text` strings (`inputs.make_inputs`, or a notebook's input step: `steps.make_texts`), tokenized
once for all folds; with `cpc-siblings` a `note:` says how many rows are longer than `--max-len` tokens (their
siblings are cut).
"""

import numpy as np

from ..inputs import MAX_LEN
from .headed import load_head, save_headed
from .recipe import Recipe, postprocess, register

__all__ = ["CrossRecipe", "cross_class"]


def cross_class():
    "The `CrossEncoder` module class (defined lazily: torch is imported only when a model is built)."
    import torch
    from torch import nn
    from transformers.modeling_outputs import SequenceClassifierOutput

    from .heads import LstmAttentionPool, MultiSampleDropout, pair_loss, pool_states

    class CrossEncoder(nn.Module):
        "Backbone + pooling + dropout + linear head: one score per `anchor [SEP] target [SEP] context` input."

        def __init__(self, backbone, pool="cls", loss="mse", head_dropout=0.1, msd=0):
            super().__init__()
            self.backbone, self.pool, self.loss = backbone, pool, loss
            self.config = backbone.config
            dim = backbone.config.hidden_size
            self.attn = None
            if pool == "attention":
                self.attn = nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, 1))
            elif pool == "lstm":
                self.attn = LstmAttentionPool(dim)
            if msd > 1:  # the dropout is inside the head, one mask per sample
                self.dropout, self.head = nn.Identity(), MultiSampleDropout(dim, 1, msd, head_dropout)
            else:
                self.dropout, self.head = nn.Dropout(head_dropout), nn.Linear(dim, 1)
            for m in [*self.head.modules(), *(self.attn.modules() if self.attn is not None else [])]:
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
        "The shared input format plus the head's settings and `--tta` (the seed of its orders)."
        tta = {"tta": cfg.tta, "tta_seed": cfg.seed} if cfg.tta > 1 else {}
        return {**super().fold_format(cfg, titles), **_head(cfg), **tta}

    def prepare(self, cfg, tok, trn, tst, fmt):
        "`trn` and `tst` as `--text` strings, tokenized once for every fold."
        from ..inputs import model_sep
        from ..steps import make_texts
        from ..trainer import tokenize

        sep = model_sep(tok)
        inputs = [make_texts(df, fmt, sep) for df in (trn, tst)]  # a built-in --text, or a notebook's input step
        ds = tokenize(tok, inputs[0], trn["score"], trn["id"], cfg.max_len)
        tst_ds = tokenize(tok, inputs[1], max_len=cfg.max_len)
        out = {"ds": ds, "tst_ds": tst_ds, "fmt": fmt}
        if fmt["text"] == "cpc-siblings":
            from ..inputs import sibling_parts

            _truncation_note(tok, inputs, cfg.max_len)
            out["parts"], out["tst_parts"] = (
                sibling_parts(df, fmt["titles"], sep, fmt["sib_cap"]) for df in (trn, tst)
            )
        return out

    def build(self, cfg):
        "The backbone `cfg.model` with the head `cfg.pool`/`loss`/`head_dropout` ask for."
        from .backbone import load_backbone

        model = cross_class()(load_backbone(cfg.model), cfg.pool, cfg.loss, cfg.head_dropout, cfg.msd)
        if cfg.freeze_embeddings:
            from .heads import freeze_embeddings

            freeze_embeddings(model)
        if cfg.grad_checkpointing:  # on the backbone: TrainingArguments' own field cannot reach a head model
            from ..tricks.memory import enable_checkpointing

            enable_checkpointing(model)
        return model

    def trainer(self, cfg, model, tok, inputs, m_trn, m_val, args):
        "HF `Trainer` (head LR, layer decay) on the fold's rows of the tokenized train set, validating on `m_val`."
        from ..trainer import adversarial_class, head_trainer_class, make_trainer

        ds, callbacks = inputs["ds"], []
        trn_ds, val_ds = ds.select(np.flatnonzero(m_trn)), ds.select(np.flatnonzero(m_val))
        if cfg.sib_shuffle:  # the same rows, tokenized on the fly in a new sibling order each epoch
            from ..inputs import model_sep
            from ..tricks.siblings import SiblingShuffleCallback, SiblingShuffleDataset

            parts, labels = inputs["parts"], ds["labels"]
            idx = np.flatnonzero(m_trn)
            trn_ds = SiblingShuffleDataset(
                [parts[i] for i in idx], tok, [labels[i] for i in idx], cfg.max_len, model_sep(tok), cfg.seed
            )
            callbacks.append(SiblingShuffleCallback(trn_ds))
        if cfg.ema:
            from ..tricks.ema import EmaCallback

            callbacks.append(EmaCallback(cfg.ema))
        cls = adversarial_class(
            head_trainer_class(cfg.eff_head_lr, cfg.lr_decay), cfg.adv, cfg.adv_start, cfg.adv_lr, cfg.adv_eps
        )
        return make_trainer(model, tok, args, trn_ds, val_ds, cls, callbacks=callbacks)

    def fit(self, cfg, model, tok, inputs, m_trn, m_val, args):
        "Train with `self.trainer`; OOF and test predictions through the trainer (dataset order kept)."
        from ..trainer import predict_ds

        trainer = self.trainer(cfg, model, tok, inputs, m_trn, m_val, args)
        trainer.train()
        fmt = inputs["fmt"]
        if fmt.get("tta", 1) > 1:  # the mean over sibling orders, exactly as `predict` computes it
            parts, bs = inputs["parts"], cfg.eff_eval_bs
            vdx = np.flatnonzero(m_val)  # empty for the all-rows model of --full
            oof = tta_predict(trainer.model, tok, [parts[i] for i in vdx], fmt, bs) if len(vdx) else np.zeros(0)
            tpred = tta_predict(trainer.model, tok, inputs["tst_parts"], fmt, bs)
        else:
            val = trainer.eval_dataset  # empty for the all-rows model of --full
            oof = predict_ds(trainer, val) if len(val) else np.zeros(0)
            tpred = predict_ds(trainer, inputs["tst_ds"])
        return trainer.model, postprocess(fmt, oof), postprocess(fmt, tpred), trainer.state.log_history

    def save(self, model, tok, fd):
        "Backbone and tokenizer (`save_pretrained`) plus `head.safetensors`."
        save_headed(model, tok, fd)

    def load(self, fd, fmt):
        "The saved cross-encoder."
        from .backbone import load_backbone

        model = cross_class()(load_backbone(fd), fmt["pool"], fmt["loss"], fmt["head_dropout"], fmt.get("msd", 0))
        return load_head(model, fd)

    def predict(self, fd, fmt, df, bs):
        "The fold's `--text` strings for `df`, length-sorted batches, no `Trainer`."
        from ..inputs import model_sep
        from ..steps import make_texts
        from .backbone import load_tokenizer
        from .infer import predict_texts

        tok, model = load_tokenizer(str(fd)), self.load(fd, fmt)
        if fmt.get("tta", 1) > 1:
            from ..inputs import sibling_parts

            parts = sibling_parts(df, fmt.get("titles"), model_sep(tok), fmt.get("sib_cap"))
            return postprocess(fmt, tta_predict(model, tok, parts, fmt, bs))
        inputs = make_texts(df, fmt, model_sep(tok), fmt.get("step_fn"))  # step_fn: `predict.predict_folds`'s
        return postprocess(fmt, predict_texts(model, tok, inputs, bs, fmt.get("max_len", MAX_LEN)))


def tta_predict(model, tok, parts, fmt, bs):
    """Raw outputs of `model` for sibling `parts` (`inputs.sibling_parts`), averaged over `fmt['tta']` orders:
    the sorted one, then shuffled ones drawn from `fmt['tta_seed']` (the same in training and `predict`)."""
    from ..inputs import join_siblings, model_sep, shuffle_siblings
    from ..tricks.siblings import tta_mean
    from .infer import predict_texts

    sep, max_len = model_sep(tok), fmt.get("max_len", MAX_LEN)

    def one(rng):
        texts = join_siblings(parts, sep) if rng is None else shuffle_siblings(parts, rng, sep)
        return predict_texts(model, tok, texts, bs, max_len)

    return tta_mean(one, fmt["tta"], np.random.default_rng(fmt["tta_seed"]))


def _truncation_note(tok, inputs, max_len):
    "Print a `note:` with how many train and test `inputs` (two lists of strings) exceed `max_len` tokens."
    from ... import dist
    from ..tricks.siblings import count_truncated

    if dist.is_main():
        (n, m), (nt, mt) = ((count_truncated(tok, x, max_len), len(x)) for x in inputs)
        print(
            f"note: {n} of {m} train rows and {nt} of {mt} test rows are longer than --max-len {max_len} tokens "
            "with their siblings and are truncated (the last siblings are cut; raise --max-len or set --sib-cap)"
        )


def _head(cfg):
    "The head settings a fold folder records so that inference rebuilds the same model."
    return {"pool": cfg.pool, "loss": cfg.loss, "head_dropout": cfg.head_dropout, "msd": cfg.msd}
