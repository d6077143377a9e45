"""Sibling targets at scale: the `cpc-siblings` text with a new sibling order, per epoch and at test time.

The strings themselves (`sibling_parts`, `join_siblings`, `shuffle_siblings`) are built in `inputs.py`;
`SiblingShuffleDataset` tokenizes a new order every epoch (`SiblingShuffleCallback` tells it the epoch);
`tta_mean` averages predictions over orders; `count_truncated` says how many inputs exceed `max_len` tokens.
"""

import numpy as np

from ..inputs import shuffle_siblings

__all__ = [
    "tta_mean",
    "count_truncated",
    "SiblingShuffleDataset",
    "SiblingShuffleCallback",
]


def tta_mean(predict_fn, n, rng):
    """Mean of `n` prediction arrays: `predict_fn(None)` (the sorted order) and `predict_fn(rng)` `n - 1` times
    (a new order each; `predict_fn` builds its inputs with `shuffle_siblings(parts, rng)`)."""
    preds = [np.asarray(predict_fn(None), dtype=float)]
    preds += [np.asarray(predict_fn(rng), dtype=float) for _ in range(n - 1)]
    return np.mean(preds, axis=0)


def count_truncated(tok, texts, max_len):
    "How many of `texts` tokenize (special tokens included) to more than `max_len` tokens."
    lens = [len(ids) for ids in tok(list(texts), truncation=False)["input_ids"]]
    return int(sum(n > max_len for n in lens))


class SiblingShuffleDataset:
    """A torch map-style dataset of `parts` tokenized by `tok` on the fly (`max_len`, with `labels`), its siblings
    reordered by a generator seeded with `(seed, epoch)`; epoch 0 ... set by `set_epoch` (see the callback)."""

    def __init__(self, parts, tok, labels=None, max_len=256, sep="; ", seed=0):
        self.parts, self.tok, self.labels, self.max_len, self.sep, self.seed = parts, tok, labels, max_len, sep, seed
        self.set_epoch(0)

    def set_epoch(self, epoch):
        "Draw the sibling order of epoch `epoch` (the same for the same seed and epoch)."
        self.epoch = int(epoch)
        self.texts = shuffle_siblings(self.parts, np.random.default_rng([self.seed, self.epoch]), self.sep)

    def __len__(self):
        "The number of rows."
        return len(self.parts)

    def __getitem__(self, i):
        "Row `i` tokenized in this epoch's sibling order (`input_ids`, `attention_mask`, ..., `labels`)."
        out = dict(self.tok(self.texts[i], truncation=True, max_length=self.max_len))
        if self.labels is not None:
            out["labels"] = float(self.labels[i])
        return out


def _callback_base():
    "`transformers.TrainerCallback` (imported when the callback class is built)."
    from transformers import TrainerCallback

    return TrainerCallback


class SiblingShuffleCallback(_callback_base()):
    """Tell `dataset` (a `SiblingShuffleDataset`) the epoch at the start of each epoch: a new sibling order per
    epoch."""

    def __init__(self, dataset):
        self.dataset = dataset

    def on_epoch_begin(self, args, state, control, **kw):
        "Reorder the siblings for the epoch that begins."
        self.dataset.set_epoch(int(state.epoch or 0))
